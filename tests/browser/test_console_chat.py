"""The agent console in Chromium: sign in, the live inbox, replying, notes, typing, receipts.

The agent uses the console in a real browser; the visitor is a python-socketio client
talking to the same live server. Every wait is on a condition (``expect`` or ``wait_for``).
"""

from __future__ import annotations

from typing import Any

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, make_site
from tests.browser.console_support import console_built, sign_in, ticket_item, visitor_client
from tests.live import Api, Server

__all__ = ["console_built"]
expect.set_options(timeout=TIMEOUT_MS)
WAIT_S = TIMEOUT_MS / 1000


def test_wrong_password_is_refused_and_the_right_one_signs_in_and_out(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    page.goto(app_server.url + "/console/")
    page.get_by_label("E-mail").fill(workspace["agent"]["email"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")

    sign_in(page, app_server.url, workspace["agent"]["email"])
    expect(page.locator(".topbar .me")).to_contain_text("Olive Owner")
    page.reload()  # the cookie session survives a reload
    expect(page.locator(".topbar .me")).to_contain_text("Olive Owner")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_sign_up_creates_a_workspace_and_enters_its_empty_inbox(
    console_built: None, app_server: Server, page: Page
) -> None:
    page.goto(app_server.url + "/console/")
    page.get_by_role("link", name="Create a new workspace").click()
    page.get_by_label("Workspace name").fill("Bright Bikes")
    page.get_by_label("Your name").fill("Bea Boss")
    page.get_by_label("E-mail").fill(f"bea-{app_server.port}@example.com")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.locator(".topbar .me")).to_contain_text("Bea Boss")
    expect(page.locator(".topbar .me")).to_contain_text("owner")
    expect(page.locator(".list-status")).to_have_text("No tickets here.")


def test_visitor_message_arrives_live_and_the_reply_reaches_the_visitor_but_a_note_does_not(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    sign_in(page, app_server.url, workspace["agent"]["email"])

    visitor, session = visitor_client(app_server.url, api, site)
    try:
        ack = visitor.send("Do you ship to Norway?")
        assert ack["ok"], ack
        ticket_id = ack["message"]["ticket_id"]

        # Live in the inbox, with its preview, without a reload.
        row = ticket_item(page, "Do you ship to Norway?")
        expect(row).to_be_visible()
        expect(row.locator(".dot")).to_have_class("dot online")
        row.click()
        expect(page.locator(".msg.visitor .body")).to_have_text(["Do you ship to Norway?"])

        # The visitor types: the console shows it.
        visitor.emit("typing", {"ticket_id": ticket_id, "typing": True})
        expect(page.locator(".typing-line")).to_contain_text("is typing")

        # The agent replies with Enter; Shift+Enter makes a second line.
        box = page.get_by_label("Message")
        box.click()
        box.type("Yes, we do!")
        visitor.wait_for("typing", lambda d: d["typing"] is True, timeout=WAIT_S)
        box.press("Shift+Enter")
        box.type("Delivery takes 3 days.")
        box.press("Enter")
        got = visitor.wait_for(
            "message:new", lambda d: d["message"]["sender"]["type"] == "agent", timeout=WAIT_S
        )
        assert got["message"]["body"] == "Yes, we do!\nDelivery takes 3 days."
        expect(box).to_have_value("")
        expect(page.locator(".msg.agent:not(.pending) .body")).to_have_text(
            ["Yes, we do!\nDelivery takes 3 days."]
        )

        # A private note looks different and never reaches the visitor.
        page.get_by_role("button", name="Private note").click()
        box.fill("VIP customer, be nice")
        box.press("Enter")
        note = page.locator(".msg.note:not(.pending)")
        expect(note.locator(".body")).to_have_text("VIP customer, be nice")
        expect(note.locator(".who")).to_contain_text("private note")
        page.get_by_role("button", name="Reply").click()
        box.fill("Anything else?")
        box.press("Enter")
        visitor.wait_for(
            "message:new", lambda d: d["message"]["body"] == "Anything else?", timeout=WAIT_S
        )
        bodies = [m["body"] for m in visitor.messages()]
        assert "VIP customer, be nice" not in bodies
        history = api.call("GET", f"/tickets/{ticket_id}/messages", session["visitor_token"])
        assert "VIP customer, be nice" not in [m["body"] for m in history["messages"]]

        # The visitor's widget receives, then reads: Delivered, then Seen under the last reply.
        receipt = page.locator(".msg.agent .receipt")
        expect(receipt).to_have_text(["Sent"])
        visitor.emit("delivered", {"ticket_id": ticket_id, "seq": got["message"]["seq"] + 2})
        expect(receipt).to_have_text(["Delivered"])
        last = got["message"]["seq"] + 2
        assert visitor.call("read", {"ticket_id": ticket_id, "seq": last})["ok"]
        expect(page.locator(".msg.agent .receipt")).to_have_text(["Seen"])
    finally:
        visitor.disconnect()


def test_user_content_is_shown_as_text_never_as_markup(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    sign_in(page, app_server.url, workspace["agent"]["email"])
    hostile = '<img src=x onerror="window.__owned=1"><b>bold</b>'
    visitor, _ = visitor_client(app_server.url, api, site)
    try:
        assert visitor.send(hostile)["ok"]
        row = ticket_item(page, "<img src=x")
        expect(row.locator(".preview")).to_have_text(hostile)
        row.click()
        expect(page.locator(".msg.visitor .body")).to_have_text([hostile])
        assert page.locator(".messages img, .messages b, .tickets img").count() == 0
        assert page.evaluate("window.__owned") is None
    finally:
        visitor.disconnect()


#: Makes the tab look hidden on demand and records desktop notifications instead of showing them.
HIDDEN_TAB = """
window.__hidden = false;
Object.defineProperty(document, "hidden", { get: () => window.__hidden });
window.__notes = [];
window.Notification = class {
  constructor(title, options) { window.__notes.push(title + ": " + (options && options.body)); }
  close() {}
  static requestPermission() { return Promise.resolve("granted"); }
};
window.Notification.permission = "granted";
window.__beeps = 0;
window.AudioContext = class extends window.AudioContext {
  createOscillator() {
    const osc = super.createOscillator();
    const start = osc.start.bind(osc);
    osc.start = (...args) => { window.__beeps += 1; return start(...args); };
    return osc;
  }
};
"""


def test_hidden_tab_gets_a_notification_and_the_title_counts_unread(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    page.add_init_script(HIDDEN_TAB)
    sign_in(page, app_server.url, workspace["agent"]["email"])
    expect(page).to_have_title("Inbox · Parley")
    page.mouse.click(640, 700)  # a gesture: browsers allow sound only after one
    visitor, _ = visitor_client(app_server.url, api, site)
    try:
        # While the tab is visible a new ticket makes no sound and no notification.
        assert visitor.send("First, while you look")["ok"]
        expect(ticket_item(page, "First, while you look")).to_be_visible()
        assert page.evaluate("[window.__beeps, window.__notes.length]") == [0, 0]
        page.evaluate("window.__hidden = true")
        assert visitor.send("Is anyone there?")["ok"]
        expect(ticket_item(page, "Is anyone there?")).to_be_visible()
        page.wait_for_function("window.__notes.length > 0")
        notes = page.evaluate("window.__notes")
        assert any("Is anyone there?" in n for n in notes), notes
        assert page.evaluate("window.__beeps") >= 1  # and a sound
        expect(page).to_have_title("(2) Inbox · Parley")  # both messages are unread
        # Opening the conversation reads it: the count goes.
        page.evaluate("window.__hidden = false")
        ticket_item(page, "Is anyone there?").click()
        expect(page).to_have_title("Inbox · Parley")
        expect(ticket_item(page, "Is anyone there?").locator(".badge")).to_have_count(0)
    finally:
        visitor.disconnect()


def test_reply_sent_while_offline_is_delivered_once_after_reconnecting(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    sign_in(page, app_server.url, workspace["agent"]["email"])
    visitor, _ = visitor_client(app_server.url, api, site)
    try:
        assert visitor.send("Are you there?")["ok"]
        ticket_item(page, "Are you there?").click()
        expect(page.locator(".msg.visitor .body")).to_have_text(["Are you there?"])

        page.context.set_offline(True)
        expect(page.locator(".connection")).to_have_text("Reconnecting…")
        box = page.get_by_label("Message")
        box.fill("Yes, sorry for the wait!")
        box.press("Enter")
        pending = page.locator(".msg.pending")
        expect(pending.locator(".body")).to_have_text("Yes, sorry for the wait!")
        expect(pending.locator(".receipt")).to_contain_text("Retrying")

        page.context.set_offline(False)
        expect(page.locator(".msg.pending")).to_have_count(0)
        got = visitor.wait_for(
            "message:new",
            lambda d: d["message"]["body"] == "Yes, sorry for the wait!",
            timeout=WAIT_S,
        )
        expect(page.locator(".msg.agent .body")).to_have_text(["Yes, sorry for the wait!"])
        history = api.call(
            "GET", f"/tickets/{got['message']['ticket_id']}/messages", workspace["token"]
        )
        bodies = [m["body"] for m in history["messages"]]
        assert bodies.count("Yes, sorry for the wait!") == 1
    finally:
        visitor.disconnect()


def test_sso_button_shows_only_when_the_server_offers_single_sign_on(
    console_built: None, app_server: Server, page: Page
) -> None:
    answer = requests.get(app_server.url + "/api/v1/auth/oidc", timeout=10)
    page.goto(app_server.url + "/console/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    sso = page.locator(".sso a")
    if answer.status_code == 200 and answer.json().get("enabled"):
        expect(sso).to_have_attribute("href", "/api/v1/auth/oidc/login")
        expect(sso).to_contain_text("Sign in with")
    else:  # not configured (or not built yet): no button, nothing broken
        page.wait_for_load_state("networkidle")
        expect(sso).to_have_count(0)
        expect(page.locator(".sso")).to_be_hidden()


def test_console_returns_to_sign_in_when_the_session_is_ended_elsewhere(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    sign_in(page, app_server.url, workspace["agent"]["email"])
    # Log out this session with its own cookie and CSRF token, as another tab would.
    page.evaluate(
        """async () => {
            const me = await (await fetch("/api/v1/auth/me")).json();
            await fetch("/api/v1/auth/logout", {method: "POST",
                headers: {"X-CSRF-Token": me.csrf_token}});
        }"""
    )
    # The server closes the session's socket; the console notices and asks to sign in again.
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.locator(".toast")).to_contain_text("session has ended")
