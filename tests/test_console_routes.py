"""The agent console's files as the app serves them: the page (strict CSP) and hashed assets.

These run against a small fake build in a temporary folder, so they need no Node; the real
build is driven by tests/browser/test_console_*.py.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture
def dist(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "assets" / "console-ABC123.js").write_text("console.log('console')")
    (folder / "assets" / "console-style-DEF456.css").write_text("body{margin:0}")
    (folder / "assets" / "not-in-manifest.js").write_text("alert(1)")
    (folder / "sw.js").write_text("self.addEventListener('push', () => {})")
    manifest = {
        "js": "console-ABC123.js",
        "css": "console-style-DEF456.css",
        "service_worker": "sw.js",
        "assets": ["console-ABC123.js", "console-style-DEF456.css"],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    app.config["CONSOLE_DIST"] = str(folder)
    return folder


def _policy(header: str) -> dict[str, str]:
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in header.split(";"))
    }


def test_page_loads_the_hashed_assets_with_no_inline_code(client: FlaskClient, dist: Path) -> None:
    r = client.get("/console/")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert '<script src="/console/assets/console-ABC123.js"></script>' in page
    assert '<link rel="stylesheet" href="/console/assets/console-style-DEF456.css">' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "no inline script"
    assert "<style" not in page and "style=" not in page and " on" not in page.lower()
    assert "no-cache" in r.headers["Cache-Control"]


def test_page_policy_allows_only_our_own_origin(client: FlaskClient, dist: Path) -> None:
    r = client.get("/console/", headers={"Host": "chat.example.com"})
    policy = _policy(r.headers["Content-Security-Policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self' ws://chat.example.com wss://chat.example.com"
    assert policy["frame-src"] == "'self'"  # the widget preview
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"


def test_odd_host_header_never_reaches_the_policy(client: FlaskClient, dist: Path) -> None:
    r = client.get("/console/", headers={"Host": "evil.example; script-src *"})
    assert "script-src *" not in r.headers.get("Content-Security-Policy", "")


def test_console_without_slash_redirects(client: FlaskClient, dist: Path) -> None:
    r = client.get("/console")
    assert r.status_code == 308
    assert r.headers["Location"].endswith("/console/")


def test_hashed_assets_are_immutable_and_others_are_not_served(
    client: FlaskClient, dist: Path
) -> None:
    r = client.get("/console/assets/console-ABC123.js")
    assert r.status_code == 200
    assert r.data == b"console.log('console')"
    assert "immutable" in r.headers["Cache-Control"]
    assert "max-age=31536000" in r.headers["Cache-Control"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    css = client.get("/console/assets/console-style-DEF456.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    for name in ("not-in-manifest.js", "../manifest.json", "..%2Fmanifest.json"):
        missing = client.get(f"/console/assets/{name}")
        assert missing.status_code == 404
        assert missing.get_json()["error"]["code"] == "not_found"


def test_service_worker_has_a_stable_url_and_is_revalidated(
    client: FlaskClient, dist: Path
) -> None:
    r = client.get("/console/sw.js")
    assert r.status_code == 200
    assert r.mimetype == "text/javascript"
    assert "no-cache" in r.headers["Cache-Control"]


def test_without_a_build_the_console_answers_unavailable(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    app.config["CONSOLE_DIST"] = str(tmp_path / "nothing-here")
    for path in ("/console/", "/console/assets/console-ABC123.js", "/console/sw.js"):
        r = client.get(path)
        assert r.status_code == 503
        body = r.get_json()
        assert body["error"]["code"] == "unavailable"
        assert "make setup" in body["error"]["message"] or "rebuild" in body["error"]["message"]


def test_incomplete_build_is_unavailable_not_an_error(
    app: Flask, client: FlaskClient, dist: Path
) -> None:
    (dist / "assets" / "console-ABC123.js").unlink()
    manifest = json.loads((dist / "manifest.json").read_text())
    manifest["gzip_bytes"] = 1  # a new mtime is not guaranteed: rewrite to change content
    (dist / "manifest.json").write_text(json.dumps(manifest))
    stat = (dist / "manifest.json").stat()
    os.utime(dist / "manifest.json", (stat.st_atime, stat.st_mtime + 5))
    r = client.get("/console/")
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "unavailable"
