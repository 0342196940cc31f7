"""``make run``'s demo host page in Chromium: the shop on PORT + 1 embeds the widget of PORT.

The set-up is what ``make run`` does: migrate a SQLite database, ``parley demo`` with the
port, then ``python wsgi.py`` (eventlet) with no DEMO_PORT, so the page is on the next port.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS
from tests.live import Server, demo_database, free_port_pair

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def demo_server(widget_built: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port_pair()
    url = demo_database(tmp_path_factory.mktemp("make-run"), port)
    server = Server({"DATABASE_URL": url, "DEMO_PORT": "", "PUBLIC_URL": ""}, port=port)
    server.start()
    yield server
    server.stop()


def test_the_demo_host_page_embeds_a_working_widget_from_another_origin(
    demo_server: Server, page: Page
) -> None:
    shop = f"http://127.0.0.1:{demo_server.port + 1}/"
    assert requests.get(shop, timeout=10).status_code == 200
    api_calls: list[str] = []
    frame_policies: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/v1/" in r.url else None)
    page.on(
        "response",
        lambda r: (
            frame_policies.append(r.headers.get("content-security-policy", ""))
            if "/widget/frame" in r.url
            else None
        ),
    )
    page.goto(shop)
    expect(page.locator("header b")).to_have_text("Northwind Outfitters")

    # The shop's own button uses the queued JavaScript API.
    page.get_by_role("button", name="Need help? Chat with us").click()
    chat = page.frame_locator("parley-widget iframe")
    expect(chat.locator(".t")).to_have_text("Chat with us")
    expect(chat.locator(".greet")).to_have_text("Hi! How can we help you today?")
    box = chat.locator("textarea")
    box.fill("Do you ship to Norway?")
    box.press("Enter")
    expect(chat.locator(".m.me .rc")).to_have_text("Sent")

    # Two origins: the page on PORT + 1, the frame and its API on PORT, framing allowed.
    urls: list[Any] = [f.url for f in page.frames]
    frame_url = demo_server.url + "/widget/frame?site_key=demo-site-key"
    assert urls[0] == shop
    assert any(u.startswith(frame_url) for u in urls)
    assert api_calls and all(u.startswith(demo_server.url) for u in api_calls)
    assert frame_policies and f"http://127.0.0.1:{demo_server.port + 1}" in frame_policies[0]
