"""The console with more than one page: the ticket list and the history load as you scroll.

Also the visitor panel with an identified visitor's details and earlier tickets.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, make_site
from tests.browser.console_support import console_built, sign_in, ticket_item, visitor_client
from tests.live import Api, Server

__all__ = ["console_built"]
expect.set_options(timeout=TIMEOUT_MS)
TICKET_PAGE = 25  # the console asks for pages of 25 tickets
MESSAGE_PAGE = 50  # ticket:join and each earlier page carry 50 messages


def _visitor_writes(api: Api, site: dict[str, Any], body: str) -> dict[str, Any]:
    session = api.visitor(site)
    answer = api.call(
        "POST",
        "/tickets",
        session["visitor_token"],
        json={"client_id": uuid.uuid4().hex, "body": body},
    )
    return {"session": session, **answer}


def test_ticket_list_loads_the_next_page_when_scrolled_to_the_end(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    # Manual routing: an agent coming online would otherwise be handed the oldest tickets,
    # which moves them to the top (newest activity first).
    api.call("PATCH", "/workspace", workspace["token"], json={"routing": {"mode": "manual"}})
    for i in range(TICKET_PAGE + 5):
        _visitor_writes(api, site, f"Question number {i}")
    sign_in(page, app_server.url, workspace["agent"]["email"])
    tickets = page.locator(".ticket")
    expect(tickets).to_have_count(TICKET_PAGE)
    expect(tickets.first).to_contain_text(f"Question number {TICKET_PAGE + 4}")  # newest first
    page.locator(".list-scroll").evaluate("el => el.scrollTo(0, el.scrollHeight)")
    expect(tickets).to_have_count(TICKET_PAGE + 5)
    expect(tickets.last).to_contain_text("Question number 0")
    ids = page.locator(".ticket").evaluate_all("els => els.map(e => e.dataset.id)")
    assert len(set(ids)) == len(ids)


def test_history_loads_earlier_messages_when_scrolled_to_the_top(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    visitor, _ = visitor_client(app_server.url, api, site)
    try:
        total = MESSAGE_PAGE + 10
        for i in range(total):
            assert visitor.send(f"line {i}")["ok"]
        sign_in(page, app_server.url, workspace["agent"]["email"])
        ticket_item(page, f"line {total - 1}").click()
        bubbles = page.locator(".msg.visitor .body")
        expect(bubbles.last).to_have_text(f"line {total - 1}")
        first_page = bubbles.count()
        assert first_page < total
        page.locator(".messages").evaluate("el => el.scrollTo(0, 0)")
        expect(bubbles).to_have_count(total)
        expect(bubbles.first).to_have_text("line 0")
        expect(page.locator(".older")).to_have_text("Start of the conversation")
    finally:
        visitor.disconnect()


def test_visitor_panel_shows_who_the_visitor_is_and_earlier_tickets(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    user_hash = hmac.new(site["site_secret"].encode(), b"cust-77", hashlib.sha256).hexdigest()
    r = requests.post(
        api.url + "/widget/session",
        json={
            "site_key": site["site_key"],
            "identity": {
                "external_id": "cust-77",
                "user_hash": user_hash,
                "name": "Nora Nilsen",
                "email": "nora@example.com",
            },
            "page": {"url": "https://shop.example/checkout", "title": "Checkout"},
        },
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    token = r.json()["visitor_token"]
    first = api.call(
        "POST", "/tickets", token, json={"client_id": uuid.uuid4().hex, "body": "First visit"}
    )
    api.call(
        "PATCH",
        f"/tickets/{first['ticket']['id']}",
        workspace["token"],
        json={"status": "resolved"},
    )
    second = api.call(
        "POST", "/tickets", token, json={"client_id": uuid.uuid4().hex, "body": "Back again"}
    )
    sign_in(page, app_server.url, workspace["agent"]["email"])
    ticket_item(page, "Back again").click()
    panel = page.locator(".visitor-card")
    expect(panel.locator("h3")).to_have_text("Nora Nilsen")
    expect(panel).to_contain_text("nora@example.com")
    expect(panel).to_contain_text("cust-77")
    expect(panel.get_by_role("link", name="https://shop.example/checkout")).to_be_visible()
    earlier = panel.locator(".earlier")
    if second["ticket"]["id"] != first["ticket"]["id"]:
        # With GET /visitors/{id}: the browser, first seen and the earlier ticket.
        expect(panel).to_contain_text("Firefox 133 on Linux")
        expect(earlier.locator("li")).to_have_count(1)
        expect(earlier).to_contain_text("First visit")
        earlier.get_by_role("link").click()
        expect(page.locator(".msg.visitor .body")).to_have_text(["First visit"])
