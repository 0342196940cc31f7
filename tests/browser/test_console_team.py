"""Two agents in two browsers: assignment, collaborators and status changes show live.

Also the inbox's filters, the keyboard shortcuts and the layout at tablet width.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import TIMEOUT_MS, make_site
from tests.browser.console_support import (
    console_built,
    sign_in,
    ticket_item,
    ticket_row,
    visitor_client,
)
from tests.live import Api, Server

__all__ = ["console_built"]
expect.set_options(timeout=TIMEOUT_MS)
WAIT_S = TIMEOUT_MS / 1000


def _second_agent(browser: Browser, app_server: Server, api: Api, owner_token: str) -> Any:
    alex = api.add_agent(owner_token, "Alex Agent")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, app_server.url, alex["agent"]["email"])
    return context, page, alex


def test_assignment_and_resolve_show_live_in_a_second_agents_console(
    console_built: None,
    app_server: Server,
    api: Api,
    workspace: dict[str, Any],
    page: Page,
    browser: Browser,
) -> None:
    site = make_site(api, workspace["token"], [])
    context, alex_page, alex = _second_agent(browser, app_server, api, workspace["token"])
    try:
        sign_in(page, app_server.url, workspace["agent"]["email"])
        # Manual routing (set in the settings): tickets wait for someone to claim them.
        page.goto(app_server.url + "/console/#/settings/workspace")
        page.get_by_label("Routing").select_option("manual")
        page.get_by_label("Open tickets per agent").fill("3")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".toast")).to_have_text("Saved.")
        routing = api.call("GET", "/workspace", workspace["token"])["workspace"]["routing"]
        assert routing == {"mode": "manual", "capacity": 3}
        page.get_by_role("link", name="Inbox").click()
        visitor, _ = visitor_client(app_server.url, api, site)
        try:
            ack = visitor.send("My parcel never arrived")
            assert ack["ok"], ack
            ticket_id = ack["message"]["ticket_id"]
            # Both consoles list it live; Alex opens it too.
            ticket_row(alex_page, ticket_id).click()
            expect(alex_page.locator(".msg.visitor .body")).to_have_text(
                ["My parcel never arrived"]
            )

            # The owner assigns it to Alex: Alex's list and open conversation follow live.
            ticket_row(page, ticket_id).click()
            page.get_by_label("Assign to").select_option(label="Alex Agent")
            expect(page.locator(".conv-head .assignee-label")).to_have_text(
                "Assigned to Alex Agent"
            )
            expect(alex_page.locator(".conv-head .assignee-label")).to_have_text(
                "Assigned to Alex Agent"
            )
            # A system line tells both of them what happened.
            expect(alex_page.locator(".msg.event").last).to_contain_text("Alex Agent")
            alex_row = ticket_row(alex_page, ticket_id)
            expect(alex_row.locator(".assignee")).to_have_text("Alex Agent")
            alex_page.get_by_role("tab", name="Mine").click()
            expect(alex_row).to_be_visible()

            # The owner claims it back: Alex stays on as a collaborator. The owner takes
            # Alex out of the group, then invites Alex back.
            page.get_by_role("button", name="Claim").click()
            expect(alex_page.locator(".conv-head .assignee-label")).to_have_text(
                "Assigned to Olive Owner"
            )
            expect(alex_row).to_have_count(0)  # no longer in Alex's "Mine"
            chips = page.locator(".participants .chip")
            expect(chips).to_have_text(["Alex Agent×"])
            page.get_by_role("button", name="Remove Alex Agent").click()
            expect(chips).to_have_count(0)
            page.get_by_label("Invite a collaborator").select_option(label="Alex Agent")
            expect(chips).to_have_text(["Alex Agent×"])
            expect(alex_page.locator(".conv-head .participants")).to_contain_text("Alex Agent")

            # Pending, then resolved: the status shows live in Alex's console.
            page.get_by_role("button", name="Pending").click()
            expect(alex_page.locator(".conv-head .status-badge")).to_have_text("pending")
            page.get_by_role("button", name="Resolve").click()
            expect(alex_page.locator(".conv-head .status-badge")).to_have_text("resolved")
            expect(page.locator(".conv-head .status-badge")).to_have_text("resolved")
            # It left the owner's "Open" tab and sits in "Resolved".
            expect(ticket_row(page, ticket_id)).to_have_count(0)
            page.get_by_role("tab", name="Resolved").click()
            expect(ticket_row(page, ticket_id)).to_be_visible()

            # Unassigning shows as "Unassigned" for Alex too.
            page.get_by_label("Assign to").select_option(label="Unassign")
            expect(alex_page.locator(".conv-head .assignee-label")).to_have_text("Unassigned")

            # Reopen brings it back; the visitor was told of each change.
            page.get_by_role("button", name="Reopen").click()
            expect(alex_page.locator(".conv-head .status-badge")).to_have_text("open")
            visitor.wait_for(
                "ticket:updated", lambda d: d["ticket"]["status"] == "resolved", timeout=WAIT_S
            )
        finally:
            visitor.disconnect()
    finally:
        context.close()


def test_keyboard_moves_resolves_and_lists_shortcuts(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    visitors = []
    try:
        for text in ("First question", "Second question"):
            visitor, _ = visitor_client(app_server.url, api, site)
            visitors.append(visitor)
            assert visitor.send(text)["ok"]
        sign_in(page, app_server.url, workspace["agent"]["email"])
        expect(page.locator(".ticket")).to_have_count(2)
        page.locator("body").press("j")  # the newest first
        expect(page.locator(".ticket.selected")).to_contain_text("Second question")
        page.locator("body").press("j")
        expect(page.locator(".ticket.selected")).to_contain_text("First question")
        page.locator("body").press("k")
        expect(page.locator(".ticket.selected")).to_contain_text("Second question")
        page.locator("body").press("e")
        expect(page.locator(".conv-head .status-badge")).to_have_text("resolved")
        expect(page.locator(".ticket")).to_have_count(1)

        page.locator("body").press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_contain_text("Resolve the open conversation")
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)

        # Typing "j" in the composer writes a j: shortcuts stay out of text fields.
        page.get_by_label("Message").fill("")
        page.get_by_label("Message").press("j")
        expect(page.get_by_label("Message")).to_have_value("j")
    finally:
        for visitor in visitors:
            visitor.disconnect()


def test_tablet_width_shows_list_and_conversation_with_the_visitor_in_a_drawer(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    page.set_viewport_size({"width": 768, "height": 1024})
    visitor, _ = visitor_client(app_server.url, api, site)
    try:
        assert visitor.send("Hello from a tablet test")["ok"]
        sign_in(page, app_server.url, workspace["agent"]["email"])
        row = ticket_item(page, "Hello from a tablet test")
        row.click()
        box = page.get_by_label("Message")
        expect(box).to_be_visible()
        expect(row).to_be_visible()  # the list stays beside the conversation
        expect(page.locator(".visitor-pane")).to_be_hidden()
        page.get_by_role("button", name="Visitor", exact=True).click()
        expect(page.locator(".visitor-pane")).to_be_visible()
        expect(page.locator(".visitor-card h3")).to_contain_text("Visitor")
        page.get_by_role("button", name="Close the visitor panel").click()
        expect(page.locator(".visitor-pane")).to_be_hidden()
        box.fill("Replying from a tablet")
        box.press("Enter")
        visitor.wait_for(
            "message:new",
            lambda d: d["message"]["body"] == "Replying from a tablet",
            timeout=WAIT_S,
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
    finally:
        visitor.disconnect()


def test_search_filters_the_list(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    visitors = []
    try:
        for text in ("Where is my invoice?", "Do you sell gift cards?"):
            visitor, _ = visitor_client(app_server.url, api, site)
            visitors.append(visitor)
            assert visitor.send(text)["ok"]
        sign_in(page, app_server.url, workspace["agent"]["email"])
        expect(page.locator(".ticket")).to_have_count(2)
        page.get_by_label("Search tickets").fill("invoice")
        expect(page.locator(".ticket")).to_have_count(1)
        expect(page.locator(".ticket")).to_contain_text("invoice")

    finally:
        for visitor in visitors:
            visitor.disconnect()
