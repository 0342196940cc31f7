"""Every response carries the basic security headers; API answers are never cached."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests import factories as f


def test_api_answers_are_private_unframeable_and_not_sniffed(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = client.get("/api/v1/auth/me", headers=owner.headers)
    assert r.status_code == 200
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "no-store" in r.headers["Cache-Control"] and "private" in r.headers["Cache-Control"]
    assert "Authorization" in r.headers["Vary"] and "Cookie" in r.headers["Vary"]


def test_errors_carry_the_headers_too(client: FlaskClient) -> None:
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in r.headers


def test_the_widget_frame_keeps_its_own_frame_ancestors(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, origins=["https://shop.example"])
    r = client.get(f"/widget/frame?site_key={site['site_key']}")
    assert r.status_code == 200, "make builds the widget before the tests run"
    assert "frame-ancestors https://shop.example" in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers
