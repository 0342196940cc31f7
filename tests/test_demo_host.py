"""The demo host page (issue 5, item 8): a fake shop on PORT + 1 that embeds the widget.

The page itself is a plain WSGI app (``app/web/demo_host.py``); ``python wsgi.py`` serves it
beside the app in every async mode. The browser side is in tests/browser/test_demo_host_page.py.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app.web.demo_host import app_url, demo_host_app, demo_port, demo_url
from tests.live import Server, demo_database, free_port_pair


def _call(app: Any, path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": method}, start_response))
    return seen["status"], seen["headers"], body


def test_page_embeds_the_widget_with_the_demo_site_key() -> None:
    app = demo_host_app("http://127.0.0.1:5000", "demo-site-key")
    status, headers, body = _call(app, "/")
    assert status == "200 OK"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    page = body.decode()
    tag = '<script src="http://127.0.0.1:5000/widget.js" data-site-key="demo-site-key" async>'
    assert page.count(tag) == 1  # the real tag, once; the page also shows it, escaped
    assert html.escape(tag) in page
    assert page.index(tag) > page.index("</main>")


def test_page_escapes_what_it_is_given() -> None:
    app = demo_host_app('https://x.example/"><script>alert(1)</script>', 'k"<b>')
    page = _call(app, "/")[2].decode()
    assert "<script>alert(1)</script>" not in page
    assert 'data-site-key="k&quot;&lt;b&gt;"' in page


def test_only_get_of_the_page_is_served() -> None:
    app = demo_host_app("http://127.0.0.1:5000", "demo-site-key")
    assert _call(app, "/nope")[0] == "404 Not Found"
    assert _call(app, "/", "POST")[0] == "405 Method Not Allowed"
    status, _, body = _call(app, "/", "HEAD")
    assert status == "200 OK" and body == b""


@pytest.mark.parametrize(
    ("config", "port", "url"),
    [
        ({"PORT": "5000"}, 5001, "http://127.0.0.1:5001/"),
        ({"PORT": "8123", "DEMO_PORT": None}, 8124, "http://127.0.0.1:8124/"),
        ({"PORT": "5000", "DEMO_PORT": ""}, 5001, "http://127.0.0.1:5001/"),
        ({"PORT": "5000", "DEMO_PORT": "7000"}, 7000, "http://127.0.0.1:7000/"),
        ({"PORT": "5000", "DEMO_PORT": "0"}, None, None),
        ({"PORT": "5000", "PUBLIC_URL": "https://chat.example.com"}, None, None),
        ({"PORT": "5000", "PUBLIC_URL": "https://c.example", "DEMO_PORT": "6000"}, 6000, None),
    ],
)
def test_demo_port_defaults_to_the_next_port_and_zero_turns_it_off(
    config: dict[str, Any], port: int | None, url: str | None
) -> None:
    assert demo_port(config) == port
    assert demo_url(config) == (url or (f"http://127.0.0.1:{port}/" if port else None))


@pytest.mark.parametrize("value", ["http", "-1", "65536", "5000.5"])
def test_a_demo_port_that_is_no_port_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="DEMO_PORT must be a port number"):
        demo_port({"PORT": "5000", "DEMO_PORT": value})


def test_the_widget_comes_from_public_url_when_set() -> None:
    assert app_url({"PORT": "5000", "PUBLIC_URL": "https://chat.example.com/"}) == (
        "https://chat.example.com"
    )
    assert app_url({"PORT": "8000", "PUBLIC_URL": None}) == "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    port = free_port_pair()
    yield demo_database(tmp_path_factory.mktemp("demo"), port), port


@pytest.mark.parametrize("mode", ["eventlet", "gevent", "threading"])
def test_python_wsgi_serves_the_demo_page_on_the_next_port(
    demo_db: tuple[str, int], mode: str
) -> None:
    url, _ = demo_db
    port = free_port_pair()
    server = Server({"DATABASE_URL": url, "DEMO_PORT": "", "PUBLIC_URL": ""}, mode, port=port)
    server.start()
    try:
        r = requests.get(f"http://127.0.0.1:{port + 1}/", timeout=10)
        assert r.status_code == 200, server.log()
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        tag = f'<script src="{server.url}/widget.js" data-site-key="demo-site-key" async>'
        assert tag in r.text
        assert requests.get(f"http://127.0.0.1:{port + 1}/x", timeout=10).status_code == 404
        # The app itself is unaffected, on its own port.
        assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}
        assert "Demo host page" in server.log()
    finally:
        server.stop()


def test_a_busy_demo_port_leaves_the_app_running(demo_db: tuple[str, int], tmp_path: Path) -> None:
    url, _ = demo_db
    port = free_port_pair()
    blocker = Server({"DATABASE_URL": url}, "threading", port=port + 1).start()
    server = Server({"DATABASE_URL": url, "DEMO_PORT": ""}, "eventlet", port=port)
    try:
        server.start()
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        assert "Demo host page not served" in server.log()
    finally:
        server.stop()
        blocker.stop()
