"""The embeddable widget in a real browser: a customer's page on one origin, the app on another.

A visitor chats through the widget in Chromium; the agent is a python-socketio client.
Every wait is on a condition (Playwright's auto-waiting ``expect`` or ``Client.wait_for``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    FRAME,
    LAUNCHER,
    STUB,
    TIMEOUT_MS,
    HostSite,
    join_first_ticket,
    make_site,
)
from tests.live import Api, Client, settle

expect.set_options(timeout=TIMEOUT_MS)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_visitor_chats_with_an_agent_and_history_survives_a_reload(
    api: Api,
    workspace: dict[str, Any],
    host_site: HostSite,
    agent: Client,
    page: Page,
    transport: str,
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    extra = {"transport": "polling"} if transport == "polling" else {}
    polls: list[str] = []
    sockets: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/socket.io/" in r.url else None)
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(host_site.page_url(site["site_key"], **extra))

    # Closed: only the launcher, no iframe and no socket yet.
    launcher = page.locator(LAUNCHER)
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert page.locator(FRAME).count() == 0

    launcher.click()
    chat = page.frame_locator(FRAME)
    expect(chat.locator(".t")).to_have_text("Acme Shoes support")
    expect(chat.locator(".greet")).to_have_text("Hi there! Ask us anything about your order.")
    box = chat.locator("textarea")
    box.fill("Where is my order #1234?")
    box.press("Enter")
    mine = chat.locator(".m.me")
    expect(mine.locator(".bd")).to_have_text(["Where is my order #1234?"])
    expect(mine.locator(".rc")).to_have_text("Sent")

    ticket_id, history = join_first_ticket(agent)
    assert [m["body"] for m in history] == ["Where is my order #1234?"]
    visitor_seq = history[-1]["seq"]

    agent.call("delivered", {"ticket_id": ticket_id, "seq": visitor_seq})
    expect(mine.locator(".rc")).to_have_text("Delivered")
    agent.call("read", {"ticket_id": ticket_id, "seq": visitor_seq})
    expect(mine.locator(".rc")).to_have_text("Seen")

    agent.emit("typing", {"ticket_id": ticket_id, "typing": True})
    expect(chat.locator(".ty")).to_have_text("Olive Owner is typing…")

    reply = agent.send("It ships today! Track it at https://track.example/1234.", ticket_id)
    assert reply["ok"], reply
    theirs = chat.locator(".m.them:not(.greet)")
    expect(theirs.locator(".bd")).to_have_text(
        ["It ships today! Track it at https://track.example/1234."]
    )
    expect(theirs.locator(".who")).to_have_text(["Olive Owner"])
    expect(theirs.locator(".av")).to_have_text(["OO"])
    link = theirs.locator(".bd a")
    expect(link).to_have_attribute("href", "https://track.example/1234")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
    expect(chat.locator(".ty")).to_be_hidden()
    expect(mine.locator(".rc")).to_have_text("Seen")

    # The widget reports what it showed: it is open and visible, so the reply is read (a read
    # moves the delivered marker too, so the server may skip the separate delivered event).
    reply_seq = reply["message"]["seq"]
    agent.wait_for("read", lambda d: d["reader"]["type"] == "visitor" and d["seq"] >= reply_seq)

    assert polls and all("transport=polling" in u for u in polls)
    if transport == "polling":
        assert sockets == []
    else:
        assert any("/socket.io/" in u and "transport=websocket" in u for u in sockets)

    # A reload keeps the conversation (the visitor token lives in the frame's storage).
    page.reload()
    # This browser has a conversation now, so the frame loads at idle time, before a click.
    expect(page.locator(FRAME)).to_have_count(1)
    expect(page.locator("parley-widget .p")).to_be_hidden()
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    expect(chat.locator(".m:not(.greet) .bd")).to_have_text(
        ["Where is my order #1234?", "It ships today! Track it at https://track.example/1234."]
    )
    chat.locator("textarea").fill("Thanks!")
    chat.locator("textarea").press("Enter")
    got = agent.wait_for("message:new", lambda d: d["message"]["body"] == "Thanks!")
    assert got["message"]["ticket_id"] == ticket_id  # the same visitor, the same ticket


def test_api_calls_queued_before_load_run_in_order_and_unread_reaches_the_host(
    api: Api,
    workspace: dict[str, Any],
    host_site: HostSite,
    agent: Client,
    page: Page,
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    page.add_init_script(STUB + 'Parley.setLocale("de"); Parley.open();')
    page.goto(host_site.page_url(site["site_key"]))

    chat = page.frame_locator(FRAME)
    box = chat.locator("textarea")
    expect(box).to_have_attribute("placeholder", "Nachricht eingeben…")
    expect(chat.locator(".sd")).to_have_text("Senden")
    assert page.evaluate("calls") == ["open", "ready"]
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-expanded", "true")

    box.fill("Hallo")
    box.press("Enter")
    ticket_id, _ = join_first_ticket(agent)

    page.evaluate("Parley.close()")
    expect(page.locator("parley-widget .p")).to_be_hidden()
    agent.send("Sind Sie noch da?", ticket_id)
    badge = page.locator("parley-widget .b")
    expect(badge).to_have_text("1")
    page.wait_for_function("calls.includes('unread:1')")
    page.wait_for_function("calls.includes('message:Sind Sie noch da?')")
    # Closed, the widget still acknowledges delivery (but not reading) of what it received.
    agent.wait_for("delivered", lambda d: d["reader"]["type"] == "visitor" and d["seq"] == 2)
    assert not [d for d in agent.of("read") if d["reader"]["type"] == "visitor"]

    page.evaluate("Parley.toggle()")
    expect(badge).to_be_hidden()
    page.wait_for_function("calls.includes('unread:0')")
    agent.wait_for("read", lambda d: d["reader"]["type"] == "visitor" and d["seq"] >= 2)

    # Keyboard: Esc inside the widget closes it and gives the focus back to the launcher.
    chat.locator("textarea").press("Escape")
    expect(page.locator("parley-widget .p")).to_be_hidden()
    assert page.evaluate("document.activeElement.tagName") == "PARLEY-WIDGET"
    assert page.evaluate("calls.filter(c => c === 'close').length") == 2


def test_launcher_is_isolated_from_the_host_pages_css(
    api: Api, workspace: dict[str, Any], host_site: HostSite, page: Page
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    page.goto(host_site.page_url(site["site_key"]))
    # The frame has never run in this browser: the loader asks for the look on its own, so the
    # closed launcher already has the site's colour (never the host page's red).
    launcher = page.locator(LAUNCHER)
    expect(launcher).to_have_css("background-color", "rgb(15, 118, 110)")
    assert page.locator(FRAME).count() == 0
    launcher.click()
    expect(page.frame_locator(FRAME).locator(".t")).to_have_text("Acme Shoes support")
    expect(launcher).to_have_css("background-color", "rgb(15, 118, 110)")  # the site's colour

    expect(page.locator(FRAME)).to_have_css("border-top-width", "0px")
    assert page.locator("#buy").evaluate("b => getComputedStyle(b).backgroundColor") == (
        "rgb(255, 0, 0)"
    )


def test_mobile_opens_full_screen(
    api: Api, workspace: dict[str, Any], host_site: HostSite, browser: Any
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(host_site.page_url(site["site_key"]))
        page.locator(LAUNCHER).click()
        expect(page.frame_locator(FRAME).locator("textarea")).to_be_visible()
        box = page.locator(FRAME).bounding_box()
        assert box == {"x": 0, "y": 0, "width": 375, "height": 740}
        expect(page.locator(LAUNCHER)).to_be_hidden()  # the frame's own close button instead
        page.frame_locator(FRAME).locator(".x").click()
        expect(page.locator(LAUNCHER)).to_be_visible()
    finally:
        context.close()


def test_a_site_that_does_not_allow_the_origin_cannot_frame_the_widget(
    api: Api, workspace: dict[str, Any], host_site: HostSite, page: Page
) -> None:
    site = make_site(api, workspace["token"], ["https://shop.example"])
    frame_policies: list[str] = []
    api_calls: list[str] = []
    page.on(
        "response",
        lambda r: (
            frame_policies.append(r.headers.get("content-security-policy", ""))
            if "/widget/frame" in r.url
            else None
        ),
    )
    page.on("request", lambda r: api_calls.append(r.url) if "/api/v1/" in r.url else None)
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()

    # Chromium refuses to render the response and commits its error page in the frame.
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    blocked = None
    while blocked is None and time.monotonic() < deadline:
        blocked = next((f for f in page.frames if f.url.startswith("chrome-error:")), None)
        if blocked is None:
            page.wait_for_timeout(100)  # polling for the condition above, not a fixed wait
    assert blocked is not None, [f.url for f in page.frames]
    assert frame_policies and "frame-ancestors https://shop.example" in frame_policies[0]
    assert host_site.origin not in frame_policies[0]
    assert blocked.locator("#parley").count() == 0
    assert api_calls == []  # the frame app never ran: no session was started


def test_screenshots_of_closed_open_and_mobile_states(
    api: Api,
    workspace: dict[str, Any],
    host_site: HostSite,
    agent: Client,
    browser: Any,
    tmp_path: Any,
) -> None:
    """The steps ``python -m tests.browser.screenshots`` takes for docs/screenshots/; the
    phone, with the desktop's storage, shows the same conversation (history kept)."""
    from tests.browser.screenshots import take_screenshots

    site = make_site(api, workspace["token"], [host_site.origin])
    paths = take_screenshots(browser, host_site.page_url(site["site_key"]), tmp_path, agent)
    for path in paths:
        assert path.stat().st_size > 5_000, path


#: Agent-written text that must show as text and run nothing.
XSS = [
    "<img src=x onerror=\"parent.postMessage(1,'*');window.xss=1\">",
    "<script>window.xss=1</script>",
    'javascript:window.xss=1 <a href="javascript:window.xss=1">x</a>',
    "<svg/onload=window.xss=1>",
]

#: Storage denied in every frame, as with third-party storage blocked.
DENY_STORAGE = """
for (const name of ["localStorage", "sessionStorage"]) {
  Object.defineProperty(window, name, {
    get() { throw new DOMException("The operation is insecure.", "SecurityError"); },
  });
}
"""


def test_identified_visitor_without_storage_keeps_history_and_sees_text_only(
    api: Api, workspace: dict[str, Any], host_site: HostSite, agent: Client, page: Page
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    digest = hmac.new(site["site_secret"].encode(), b"cust-42", hashlib.sha256).hexdigest()
    identity = json.dumps({"external_id": "cust-42", "user_hash": digest, "name": "Jo Buyer"})
    page.add_init_script(DENY_STORAGE)
    page.add_init_script(STUB + f"Parley.identify({identity}); Parley.open();")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(host_site.page_url(site["site_key"]))

    chat = page.frame_locator(FRAME)
    chat.locator("textarea").fill("Hi, it's Jo")
    chat.locator("textarea").press("Enter")
    created = agent.wait_for("ticket:created", timeout=TIMEOUT_MS / 1000)
    assert created["ticket"]["visitor"]["external_id"] == "cust-42"
    assert created["ticket"]["visitor"]["name"] == "Jo Buyer"
    ticket_id = created["ticket"]["id"]
    agent.call("ticket:join", {"ticket_id": ticket_id})
    for payload in XSS:
        assert agent.send(payload, ticket_id)["ok"]
    theirs = chat.locator(".m.them:not(.greet) .bd")
    expect(theirs).to_have_text(XSS)
    expect(theirs.locator("img, script, svg")).to_have_count(0)
    expect(theirs.locator("a")).to_have_count(0)  # only http(s) URLs become links
    frame = next(f for f in page.frames if "/widget/frame" in f.url)
    assert frame.evaluate("window.xss") is None and page.evaluate("window.xss") is None
    assert dialogs == []

    # Nothing was stored in the browser, yet the verified identity brings the history back.
    denied = frame.evaluate("(() => { try { localStorage; } catch { return 'denied'; } })()")
    assert denied == "denied"
    page.reload()  # the queued identify() and open() run again
    expect(page.locator("parley-widget .p")).to_be_visible()
    expect(page.frame_locator(FRAME).locator(".m:not(.greet) .bd")).to_have_text(
        ["Hi, it's Jo", *XSS]
    )


def test_identify_while_the_first_session_starts_leaves_one_identified_visitor(
    api: Api, workspace: dict[str, Any], host_site: HostSite, agent: Client, page: Page
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    digest = hmac.new(site["site_secret"].encode(), b"cust-77", hashlib.sha256).hexdigest()
    identity = json.dumps({"external_id": "cust-77", "user_hash": digest, "name": "Late Id"})
    sessions: list[Any] = []

    def identify_meanwhile(route: Any) -> None:
        # The first session is on its way when the host page identifies the visitor.
        sessions.append(route.request.post_data_json)
        if len(sessions) == 1:
            page.evaluate(f"Parley.identify({identity})")
        route.continue_()

    page.route("**/api/v1/widget/session", identify_meanwhile)
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    chat.locator("textarea").fill("Who am I?")
    chat.locator("textarea").press("Enter")
    created = agent.wait_for("ticket:created", timeout=TIMEOUT_MS / 1000)
    assert created["ticket"]["visitor"]["external_id"] == "cust-77"
    assert [s.get("identity", {}).get("external_id") for s in sessions] == [None, "cust-77"]
    expect(chat.locator(".m.me .bd")).to_have_text(["Who am I?"])
    settle(1.0)
    assert [e["ticket"]["id"] for e in agent.of("ticket:created")] == [created["ticket"]["id"]]


def test_reconnecting_banner_and_catch_up_by_sync(
    api: Api, workspace: dict[str, Any], host_site: HostSite, agent: Client, page: Page
) -> None:
    """Long polling, so the test can cut the frame's connection with a route."""
    site = make_site(api, workspace["token"], [host_site.origin])
    posted: list[str] = []
    page.on(
        "request",
        lambda r: (
            posted.append(r.post_data or "")
            if "/socket.io/" in r.url and r.method == "POST"
            else None
        ),
    )
    page.goto(host_site.page_url(site["site_key"], transport="polling"))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    chat.locator("textarea").fill("Hello?")
    chat.locator("textarea").press("Enter")
    ticket_id, _ = join_first_ticket(agent)
    expect(chat.locator(".m.me .rc")).to_have_text("Sent")

    page.route("**/socket.io/**", lambda route: route.abort())
    agent.send("One moment please.", ticket_id)  # may still ride the pending long poll
    banner = chat.locator(".bn")
    expect(banner).to_have_text("Reconnecting…")
    agent.send("Found it: your parcel left today.", ticket_id)  # the visitor is offline
    before = len(posted)
    page.unroute("**/socket.io/**")

    expect(banner).to_be_hidden()
    expect(chat.locator(".m.them:not(.greet) .bd")).to_have_text(
        ["One moment please.", "Found it: your parcel left today."]
    )
    assert any('"sync"' in body for body in posted[before:])


def test_a_send_without_ack_is_retried_with_the_same_client_id_and_stored_once(
    api: Api, workspace: dict[str, Any], host_site: HostSite, agent: Client, page: Page
) -> None:
    """The first ``message:send`` never reaches the server (long polling, so a route can
    swallow it); after the ack timeout (8 s) the widget resends it with the same client_id."""
    site = make_site(api, workspace["token"], [host_site.origin])
    sends: list[str] = []

    def swallow_first_send(route: Any) -> None:
        body = route.request.post_data or ""
        if route.request.method == "POST" and "message:send" in body:
            sends.append(body)
            if len(sends) == 1:
                route.fulfill(status=200, content_type="text/plain", body="ok")
                return
        route.continue_()

    page.route("**/socket.io/**", swallow_first_send)
    page.goto(host_site.page_url(site["site_key"], transport="polling"))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    chat.locator("textarea").fill("Is anyone there?")
    chat.locator("textarea").press("Enter")
    expect(chat.locator(".m.me .rc")).to_have_text("Sending…")
    expect(chat.locator(".m.me .rc")).to_have_text("Sent", timeout=30_000)

    client_ids = {m.group(1) for b in sends if (m := re.search(r'"client_id":"([^"]+)"', b))}
    assert len(sends) == 2 and len(client_ids) == 1
    ticket_id, history = join_first_ticket(agent)
    assert [m["body"] for m in history] == ["Is anyone there?"]
    expect(chat.locator(".m.me")).to_have_count(1)


def test_older_history_loads_on_scroll_and_another_tab_shows_the_same_timed_conversation(
    api: Api,
    workspace: dict[str, Any],
    host_site: HostSite,
    agent: Client,
    page: Page,
    context: Any,
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    chat.locator("textarea").fill("First question")
    chat.locator("textarea").press("Enter")
    ticket_id, _ = join_first_ticket(agent)
    for n in range(1, 61):  # more than one page (50) of history
        assert agent.send(f"Answer {n}", ticket_id)["ok"]
    expect(chat.locator(".m:not(.greet) .bd").last).to_have_text("Answer 60")

    # Another tab of the same browser: the same conversation, newest page first.
    other = context.new_page()
    other.goto(host_site.page_url(site["site_key"]))
    other.locator(LAUNCHER).click()
    second = other.frame_locator(FRAME)
    bodies = second.locator(".m:not(.greet) .bd")
    expect(bodies.last).to_have_text("Answer 60")
    expect(bodies).to_have_count(50)
    expect(second.locator(".m:not(.greet) .tm").last).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    # Scrolling to the top loads the older messages, down to the visitor's first one.
    # (Scrolled again while the count stays: the frame may still settle at the bottom after
    # the first scroll, as when a visitor's first flick comes too early.)
    deadline = time.monotonic() + 20
    while bodies.count() < 61 and time.monotonic() < deadline:
        second.locator(".ms").evaluate("log => { log.scrollTop = 0; }")
        other.wait_for_timeout(250)
    expect(bodies).to_have_count(61)
    expect(bodies.first).to_have_text("First question")


def test_messages_from_other_origins_are_ignored_and_the_log_is_announced(
    api: Api, workspace: dict[str, Any], host_site: HostSite, page: Page
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    api.call(
        "PATCH", f"/sites/{site['id']}", workspace["token"], json={"settings": {"position": "left"}}
    )
    page.goto(host_site.page_url(site["site_key"]))
    launcher = page.locator(LAUNCHER)
    expect(launcher).to_be_visible()
    # The loader learns the site's position from /widget/look after drawing the launcher.
    deadline = time.monotonic() + 5
    while True:
        box = launcher.bounding_box()
        if (box is not None and box["x"] < 640) or time.monotonic() > deadline:
            break
        settle(0.05)
    assert box is not None and box["x"] < 640  # left half of the 1280 px viewport
    launcher.click()
    chat = page.frame_locator(FRAME)
    expect(chat.locator("textarea")).to_have_attribute("placeholder", "Type your message…")
    # The host page (not the app's origin) posts as if it were the frame: the loader ignores it.
    page.evaluate("window.postMessage({type: 'unread', count: 7}, '*')")
    # The frame posts to itself (not the host page's origin): the frame ignores it.
    frame = next(f for f in page.frames if "/widget/frame" in f.url)
    frame.evaluate("window.postMessage({type: 'locale', locale: 'de'}, '*')")
    settle(0.5)
    expect(page.locator("parley-widget .b")).to_be_hidden()
    expect(chat.locator("textarea")).to_have_attribute("placeholder", "Type your message…")
    # New messages are announced to screen readers.
    expect(chat.locator(".ms")).to_have_attribute("aria-live", "polite")
    expect(chat.locator(".ms")).to_have_attribute("role", "log")
