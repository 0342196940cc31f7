"""The widget's files as the app serves them: loader, frame page (CSP) and hashed assets.

These run against a small fake build in a temporary folder, so they need no Node; the real
build is checked by tests/test_widget_build.py and driven by tests/browser/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories as f

LOADER = b"(function(){/* loader */})();"


@pytest.fixture
def dist(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "widget.js").write_bytes(LOADER)
    (folder / "assets" / "frame-ABC123.js").write_text("console.log('frame')")
    (folder / "assets" / "frame-style-DEF456.css").write_text("body{margin:0}")
    (folder / "assets" / "not-in-manifest.js").write_text("alert(1)")
    manifest = {
        "loader": "widget.js",
        "loader_hash": "abc123",
        "frame_js": "frame-ABC123.js",
        "frame_css": "frame-style-DEF456.css",
        "assets": ["frame-ABC123.js", "frame-style-DEF456.css"],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    app.config["WIDGET_DIST"] = str(folder)
    return folder


def _site(client: FlaskClient, origins: list[str], **settings: str) -> dict[str, object]:
    owner = f.signup(client)
    body: dict[str, object] = {"name": "Shop", "allowed_origins": origins}
    if settings:
        body["settings"] = settings
    r = client.post("/api/v1/sites", headers=owner.headers, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["site"]  # type: ignore[no-any-return]


def test_loader_is_cached_briefly_and_revalidated_by_etag(client: FlaskClient, dist: Path) -> None:
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.data == LOADER
    assert r.mimetype == "text/javascript"
    assert r.headers["ETag"] == '"abc123"'
    assert "max-age=300" in r.headers["Cache-Control"]
    assert "immutable" not in r.headers["Cache-Control"]
    again = client.get("/widget.js", headers={"If-None-Match": '"abc123"'})
    assert again.status_code == 304


def test_frame_of_an_unknown_or_missing_key_is_not_found(client: FlaskClient, dist: Path) -> None:
    f.assert_error(client.get("/widget/frame?site_key=nope"), 404, "not_found")
    f.assert_error(client.get("/widget/frame"), 404, "not_found")
    f.assert_error(client.get("/widget/frame?site_key=" + "x" * 500), 404, "not_found")


def test_look_gives_any_page_the_launchers_colour_position_and_locale(
    client: FlaskClient, dist: Path
) -> None:
    site = _site(client, ["https://shop.example"], color="#0f766e", position="left", locale="de")
    r = client.get(f"/widget/look?site_key={site['site_key']}")
    assert r.status_code == 200
    assert r.get_json() == {"color": "#0f766e", "position": "left", "locale": "de"}
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in r.headers["Cache-Control"] and "max-age=300" in r.headers["Cache-Control"]
    assert "site_secret" not in r.get_data(as_text=True)
    f.assert_error(client.get("/widget/look?site_key=nope"), 404, "not_found")
    f.assert_error(client.get("/widget/look"), 404, "not_found")
    f.assert_error(client.get("/widget/look?site_key=" + "x" * 500), 404, "not_found")


def test_frame_may_be_framed_only_by_the_sites_origins(client: FlaskClient, dist: Path) -> None:

    site = _site(client, ["https://shop.example", "http://localhost:8080"])
    r = client.get(f"/widget/frame?site_key={site['site_key']}")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == "https://shop.example http://localhost:8080"
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "X-Frame-Options" not in r.headers
    page = r.get_data(as_text=True)
    assert '<script src="/widget/assets/frame-ABC123.js">' in page
    assert 'href="/widget/assets/frame-style-DEF456.css"' in page
    assert "<script>" not in page  # no inline script: the CSP would refuse it


def test_frame_without_allowed_origins_may_be_framed_anywhere(
    client: FlaskClient, dist: Path
) -> None:
    site = _site(client, [])
    csp = client.get(f"/widget/frame?site_key={site['site_key']}").headers[
        "Content-Security-Policy"
    ]
    assert "frame-ancestors *" in csp


def test_frame_title_from_settings_is_escaped(client: FlaskClient, dist: Path) -> None:
    site = _site(client, [], title="<script>alert(1)</script>")
    page = client.get(f"/widget/frame?site_key={site['site_key']}").get_data(as_text=True)
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in page


def test_hashed_assets_are_immutable(client: FlaskClient, dist: Path) -> None:
    r = client.get("/widget/assets/frame-ABC123.js")
    assert r.status_code == 200
    assert r.data == b"console.log('frame')"
    cache = r.headers["Cache-Control"]
    assert "immutable" in cache and "max-age=31536000" in cache and "public" in cache
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    css = client.get("/widget/assets/frame-style-DEF456.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    r.close()
    css.close()


@pytest.mark.parametrize(
    "name", ["not-in-manifest.js", "../widget.js", "../manifest.json", "nope.js"]
)
def test_only_the_builds_assets_are_served(client: FlaskClient, dist: Path, name: str) -> None:
    assert client.get(f"/widget/assets/{name}").status_code == 404


@pytest.mark.parametrize("path", ["/widget.js", "/widget/frame?site_key=x", "/widget/assets/a.js"])
def test_without_a_build_every_route_is_unavailable(
    app: Flask, client: FlaskClient, tmp_path: Path, path: str
) -> None:
    app.config["WIDGET_DIST"] = str(tmp_path / "missing")
    error = f.assert_error(client.get(path), 503, "unavailable")
    assert "not built" in error["message"]
