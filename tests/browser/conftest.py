"""Browser fixtures: a live ``python wsgi.py``, a host page on another origin, and Chromium.

The host page is served by a tiny ``http.server`` on a second loopback port, so it is another
origin than the app, exactly like a customer's site. Chromium is Debian's (``/usr/bin/chromium``)
driven by Playwright; ``playwright install`` is never run.
"""

from __future__ import annotations

import html
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.live import ROOT, Api, Client, Server, free_port
from tests.pushstub import b64url

CHROMIUM = os.environ.get("PARLEY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Generous: a loaded CI machine with two cores runs the server, Chromium and pytest at once.
TIMEOUT_MS = 20_000

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Shoes</title>
<style>
  body {{ margin: 0; padding: 40px; background: #f3f4f6; font-family: Georgia, serif; }}
  main {{ max-width: 720px; margin: auto; background: #fff; padding: 32px; border-radius: 8px; }}
</style>
{hostile}
</head><body><main>
<h1>Acme Shoes</h1>
<p>Spring sale: every trainer is 20% off until Sunday.</p>
<p><button id="buy">Add to cart</button></p>
</main>
<script src="{app}/widget.js" data-site-key="{key}"{extra} async></script>
</body></html>
"""

#: A hostile stylesheet (left out with ``hostile=0``): none of it may reach the widget.
HOSTILE_CSS = """<style>
  * { font-family: "Comic Sans MS", cursive !important; }
  button { background: red !important; border: 5px dashed lime !important; }
  iframe { border: 10px solid orange !important; }
</style>"""

#: What a site pastes before the loader to call the API before it has loaded (tests add it
#: with ``page.add_init_script``); it also records the API's events in ``window.calls``.
STUB = """
window.Parley = window.Parley || {q: []};
["open","close","toggle","identify","setLocale","on"].forEach(function (m) {
  Parley[m] = Parley[m] || function () { Parley.q.push([m].concat([].slice.call(arguments))); };
});
window.calls = [];
Parley.on("ready", function () { calls.push("ready"); });
Parley.on("open", function () { calls.push("open"); });
Parley.on("close", function () { calls.push("close"); });
Parley.on("message", function (m) { calls.push("message:" + m.body); });
Parley.on("unread", function (n) { calls.push("unread:" + n); });
"""


class HostSite:
    """``/page?site_key=K[&transport=polling][&hostile=0][&push=1]``: a customer's page with
    the widget (``push=1``: opted in to visitors' web push; ``/parley-sw.js`` is our worker)."""

    def __init__(self, app_url: str) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        app = app_url

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                if url.path == "/parley-sw.js":  # the site serves our push service worker
                    self._relay(app + "/widget/sw.js")
                    return
                if url.path != "/page":
                    self.send_error(404)
                    return
                query = parse_qs(url.query)
                key = query.get("site_key", [""])[0]
                transport = query.get("transport", [""])[0]
                extra = f' data-transport="{html.escape(transport)}"' if transport else ""
                if query.get("push") == ["1"]:
                    extra += ' data-push-sw="/parley-sw.js"'
                body = HOST_PAGE.format(
                    app=app,
                    key=html.escape(key),
                    extra=extra,
                    hostile="" if query.get("hostile") == ["0"] else HOSTILE_CSS,
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _relay(self, source: str) -> None:
                answer = requests.get(source, timeout=10)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "text/javascript")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> HostSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def page_url(self, site_key: str, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"site_key": site_key, **params}.items())
        return f"{self.origin}/page?{query}"


#: The loader's launcher button and the widget's iframe, inside its shadow root.
LAUNCHER = "parley-widget button.l"
FRAME = "parley-widget iframe"


def _require(condition: bool, reason: str) -> None:
    """Skip on a developer machine without the prerequisite; fail in CI, where it must exist."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def widget_built() -> None:
    _require(
        (ROOT / "widget" / "dist" / "manifest.json").exists(),
        "widget/dist is not built: run `make setup` (npm ci && npm run build in widget/)",
    )


@pytest.fixture(scope="session")
def app_server(pg_url: str, widget_built: None) -> Iterator[Server]:
    server = Server({"DATABASE_URL": pg_url}).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def push_server(pg_url: str, widget_built: None) -> Iterator[tuple[Server, str]]:
    """A server with VAPID keys that may push to a loopback push service (tests/pushstub.py);
    with its public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    server = Server(
        {
            "DATABASE_URL": pg_url,
            "VAPID_PRIVATE_KEY": b64url(private),
            "VAPID_PUBLIC_KEY": b64url(public),
            "PUSH_ALLOW_PRIVATE": "1",
        }
    ).start()
    yield server, b64url(public)
    server.stop()


@pytest.fixture(scope="session")
def host_site(app_server: Server) -> Iterator[HostSite]:
    site = HostSite(app_server.url).start()
    yield site
    site.stop()


@pytest.fixture
def api(app_server: Server) -> Api:
    return Api(app_server.url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require(os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh profile (its own storage) per test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture
def workspace(api: Api) -> dict[str, Any]:
    """An owner (who is also the replying agent) and their bearer token."""
    return api.signup("Acme Shoes")


@pytest.fixture
def agent(app_server: Server, api: Api, workspace: dict[str, Any]) -> Iterator[Client]:
    """The workspace's owner as a connected agent (python-socketio), who assigns by hand
    (automatic routing's system lines would take seqs these tests count)."""
    api.call("PATCH", "/workspace", workspace["token"], json={"routing": {"mode": "manual"}})
    client = Client(app_server.url, {"token": workspace["token"]}, ["polling", "websocket"])
    client.connect()
    yield client
    client.disconnect()


def join_first_ticket(agent: Client) -> tuple[str, list[dict[str, Any]]]:
    """Wait for the visitor's first ticket, join it; its id and history."""
    created = agent.wait_for("ticket:created", timeout=TIMEOUT_MS / 1000)
    ticket_id = created["ticket"]["id"]
    joined = agent.call("ticket:join", {"ticket_id": ticket_id})
    assert joined["ok"], joined
    return ticket_id, joined["messages"]


def widget_frame(page: Any) -> Any:
    """The widget's iframe as a Playwright Frame (for evaluate and wait_for_function)."""
    return next(f for f in page.frames if "/widget/frame" in f.url)


def make_site(
    api: Api, owner_token: str, allowed_origins: list[str], **settings: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Acme Shoes", "allowed_origins": allowed_origins}
    body["settings"] = {
        "title": "Acme Shoes support",
        "greeting": "Hi there! Ask us anything about your order.",
        "color": "#0f766e",
        **settings,
    }
    return api.call("POST", "/sites", owner_token, json=body)["site"]  # type: ignore[no-any-return]
