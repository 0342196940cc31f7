"""Every response carries the basic security headers; API answers are never cached."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
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


# ---------------------------------------------------------------- every HTML page (issue 9 item 4)
#
# The demo host page (app/web/demo_host.py) is left out on purpose: it is a fake customer site
# on its own origin, a plain WSGI app outside Flask, with an inline script like a real shop.

_HTML_PAGES = {"console.console_root", "console.page", "widget.frame", "api.oidc_callback"}
#: Headers do not depend on the database: these tests run on one backend.
one_backend = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _directives(header: str) -> dict[str, str]:
    parts = (p.strip() for p in header.split(";") if p.strip())
    return {p.split(" ", 1)[0]: (p.split(" ", 1)[1] if " " in p else "") for p in parts}


def _get_every_route(app: Flask, client: FlaskClient, site_key: str) -> dict[str, Any]:
    """GET every rule of the URL map (placeholders filled with junk ids); by endpoint."""
    queries = {
        "widget.frame": {"site_key": site_key},
        "widget.look": {"site_key": site_key},
        "api.oidc_callback": {"code": "made-up", "state": "made-up"},
    }
    answers: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint.startswith("static"):
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        answers[rule.endpoint] = client.get(
            path, query_string=queries.get(rule.endpoint), headers={"Accept": "text/html"}
        )
    return answers


@one_backend
def test_every_html_page_has_a_strict_policy_and_the_basic_headers(
    app: Flask, client: FlaskClient
) -> None:
    """CSP without inline or foreign scripts, framing rules, nosniff, referrer and permissions
    policies on every page the app serves as HTML: console, widget frame, redirects, SSO."""
    app.config.update(
        OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="c", OIDC_CLIENT_SECRET="s"
    )  # on, so a forged callback gets the HTML refusal page (no provider is ever reached)
    owner = f.signup(client)
    site = f.create_site(client, owner, origins=["https://shop.example"])
    assert f.login(client, owner.agent["email"]).status_code == 200  # the console cookie
    answers = _get_every_route(app, client, site["site_key"])
    html = {name: r for name, r in answers.items() if r.mimetype == "text/html"}
    assert _HTML_PAGES <= set(html), sorted(html)
    assert answers["console.page"].status_code == 200, "make builds the console first"
    assert answers["widget.frame"].status_code == 200, "make builds the widget first"
    assert answers["api.oidc_callback"].status_code == 401

    for name, r in answers.items():
        assert r.headers.get("X-Content-Type-Options") == "nosniff", name
        assert r.headers.get("Referrer-Policy") == "no-referrer", name
        assert "Content-Security-Policy" in r.headers or r.mimetype not in ("text/html",), name
    for name, r in html.items():
        policy = _directives(r.headers["Content-Security-Policy"])
        scripts = policy.get("script-src", policy.get("default-src"))
        assert scripts in ("'self'", "'none'"), (name, scripts)  # no inline, eval or CDN
        assert policy.get("default-src") == "'none'", name
        assert policy.get("base-uri") == "'none'", name
        assert "camera=()" in r.headers.get("Permissions-Policy", ""), name
        ancestors = policy["frame-ancestors"]
        if name == "widget.frame":
            assert ancestors == "https://shop.example"
            assert "X-Frame-Options" not in r.headers
        else:
            assert ancestors == "'none'", name
            assert r.headers.get("X-Frame-Options") == "DENY", name


@one_backend
def test_the_console_page_itself_never_inlines_code(client: FlaskClient) -> None:
    r = client.get("/console/")
    page = r.get_data(as_text=True)
    assert "<script src=" in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline <script>
    assert re.search(r"\son[a-z]+\s*=", page) is None and "<style" not in page


# ---------------------------------------------------------------- the console cookie


def _set_cookie(r: Any) -> str:
    cookies = [v for k, v in r.headers.items() if k == "Set-Cookie" and "parley_session=" in v]
    assert len(cookies) == 1, r.headers
    return cookies[0]


def _flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]} | {
        part.strip().lower() for part in cookie.split(";")[1:] if "samesite" in part.lower()
    }


@one_backend
def test_the_console_cookie_is_httponly_lax_and_secure_only_over_tls(
    app: Flask, client: FlaskClient
) -> None:
    owner = f.signup(client)
    email = owner.agent["email"]
    plain = _flags(_set_cookie(f.login(client, email)))
    assert {"httponly", "samesite=lax", "path"} <= plain and "secure" not in plain
    tls = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": f.PASSWORD},
        base_url="https://parley.test",
    )
    assert {"httponly", "samesite=lax", "secure"} <= _flags(_set_cookie(tls))
    # Without a trusted proxy, anyone's X-Forwarded-Proto is ignored.
    spoofed = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": f.PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "secure" not in _flags(_set_cookie(spoofed))


@one_backend
def test_behind_a_trusted_tls_proxy_the_console_cookie_is_secure(
    app: Flask, database_url: str
) -> None:
    proxied = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            "TRUSTED_PROXIES": 1,
        }
    )
    client = proxied.test_client()
    owner = f.signup(client)
    login = {"email": owner.agent["email"], "password": f.PASSWORD}
    behind_tls = client.post(
        "/api/v1/auth/login", json=login, headers={"X-Forwarded-Proto": "https"}
    )
    assert {"httponly", "samesite=lax", "secure"} <= _flags(_set_cookie(behind_tls))
    behind_plain = client.post("/api/v1/auth/login", json=login)
    assert "secure" not in _flags(_set_cookie(behind_plain))
    # The session works with the cookie the proxy's browser got.
    assert client.get("/api/v1/auth/me").status_code == 200
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


@one_backend
def test_secure_is_forced_by_configuration_even_over_plain_http(database_url: str) -> None:
    forced = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            "SESSION_COOKIE_SECURE": True,
        }
    )
    assert forced.session_interface.get_cookie_secure(forced) is True


# ---------------------------------------------------------------- CORS

#: The launcher's look (CONTRACT section 6) and the visitors' push worker a site copies.
_PUBLIC_FILES = {"widget.look", "widget.service_worker"}


@one_backend
def test_a_foreign_origin_gets_no_cors_grant_from_any_api_route(
    app: Flask, client: FlaskClient
) -> None:
    """The widget's calls come from its frame (our own origin): no route needs CORS but two
    public, per-site files the host page reads, which grant any origin without credentials."""
    owner = f.signup(client)
    site = f.create_site(client, owner)
    evil = {"Origin": "https://evil.example", **owner.headers}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in ("GET", "OPTIONS"):
            r = client.open(
                path,
                method=method,
                query_string={"site_key": site["site_key"]},
                headers={**evil, "Access-Control-Request-Method": "POST"},
            )
            assert "Access-Control-Allow-Credentials" not in r.headers, (path, method)
            grant = r.headers.get("Access-Control-Allow-Origin")
            if rule.endpoint in _PUBLIC_FILES and method == "GET":
                assert grant == "*"
            else:
                assert grant is None, (path, method, grant)
    session = client.post(
        "/api/v1/widget/session", json={"site_key": site["site_key"]}, headers=evil
    )
    assert session.status_code == 200 and "Access-Control-Allow-Origin" not in session.headers
