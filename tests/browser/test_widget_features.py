"""The widget's pre-chat fields, business hours, satisfaction rating and sound, in Chromium.

A customer's page on one origin, the app on another; the agent is a python-socketio client.
Every wait is on a condition.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    FRAME,
    LAUNCHER,
    STUB,
    TIMEOUT_MS,
    HostSite,
    join_first_ticket,
    make_site,
    widget_frame,
)
from tests.live import Api, Client

expect.set_options(timeout=TIMEOUT_MS)


PRECHAT = [
    {"name": "name", "label": "Your name", "type": "text", "required": True},
    {"name": "email", "label": "E-mail", "type": "email", "required": True},
    {"name": "order", "label": "Order number", "type": "text", "required": False},
]


def _send(chat: Any, text: str) -> None:
    box = chat.locator("form.cp textarea")
    box.fill(text)
    box.press("Enter")


def test_pre_chat_fields_come_first_are_checked_and_reach_the_agent(
    api: Api, workspace: dict[str, Any], host_site: HostSite, agent: Client, page: Page
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin], prechat_fields=PRECHAT)
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    form = chat.locator("form.pc")
    expect(form).to_be_visible()
    expect(chat.locator("form.cp")).to_be_hidden()  # no composer before the answers
    expect(form.locator("label")).to_have_text(["Your name *", "E-mail *", "Order number"])

    start = form.get_by_role("button", name="Start chat")
    start.click()
    expect(form.locator("#pc-name-e")).to_have_text("Please fill this in.")
    expect(form.locator("#pc-email-e")).to_have_text("Please fill this in.")
    expect(form.locator("#pc-name")).to_be_focused()

    form.locator("#pc-name").fill("Jo Buyer")
    form.locator("#pc-email").fill("jo@example")
    start.click()
    expect(form.locator("#pc-name-e")).to_have_text("")
    expect(form.locator("#pc-email-e")).to_have_text("Please enter a valid e-mail address.")
    expect(form.locator("#pc-email")).to_have_attribute("aria-invalid", "true")

    form.locator("#pc-email").fill("jo@example.com")
    form.locator("#pc-order").fill("A-1234")
    start.click()
    expect(form).to_be_hidden()
    composer = chat.locator("form.cp textarea")
    expect(composer).to_be_focused()
    _send(chat, "Where is my parcel?")

    created = agent.wait_for("ticket:created", timeout=TIMEOUT_MS / 1000)
    visitor = created["ticket"]["visitor"]
    assert (visitor["name"], visitor["email"]) == ("Jo Buyer", "jo@example.com")
    assert visitor["attributes"] == {"order": "A-1234"}
    joined = agent.call("ticket:join", {"ticket_id": created["ticket"]["id"]})
    assert [(m["sender"]["name"], m["body"]) for m in joined["messages"]] == [
        ("Jo Buyer", "Where is my parcel?")
    ]

    # Answered once in this browser: a reload goes straight to the conversation.
    page.reload()
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    expect(chat.locator(".m.me .bd")).to_have_text(["Where is my parcel?"])
    expect(chat.locator("form.cp textarea")).to_be_visible()
    expect(chat.locator("form.pc")).to_be_hidden()


def _closed_until_the_day_after_tomorrow(zone: str) -> tuple[dict[str, Any], datetime]:
    """Hours open only on the weekday after tomorrow (09:00-17:00): closed now, whatever
    the day; returns them and that opening, in ``zone``."""
    opening_day = datetime.now(ZoneInfo(zone)) + timedelta(days=2)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[opening_day.weekday()]
    hours = {"timezone": zone, "days": {weekday: [{"open": "09:00", "close": "17:00"}]}}
    return hours, opening_day.replace(hour=9, minute=0, second=0, microsecond=0)


def test_outside_business_hours_the_header_says_when_and_an_e_mail_can_be_left(
    api: Api, workspace: dict[str, Any], host_site: HostSite, browser: Any
) -> None:
    zone = "Europe/Berlin"
    hours, opens = _closed_until_the_day_after_tomorrow(zone)
    site = make_site(api, workspace["token"], [host_site.origin], business_hours=hours)
    # The visitor's clock and zone are the site's here, so the times read the same.
    context = browser.new_context(timezone_id=zone, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(host_site.page_url(site["site_key"]))
        page.locator(LAUNCHER).click()
        chat = page.frame_locator(FRAME)
        # "Back on Friday at 9:00" (or "tomorrow", should the test straddle midnight).
        expect(chat.locator(".st")).to_have_text(
            re.compile(rf"^Back (on {opens.strftime('%A')}|tomorrow) at 9:00$")
        )
        card = chat.locator("form.aw")
        expect(card.locator("label")).to_have_text(
            "We're away. Leave your e-mail and we'll answer there."
        )
        card.locator("input").fill("not an address")
        card.get_by_role("button", name="Save").click()
        expect(card.locator(".er")).to_have_text("Please enter a valid e-mail address.")
        card.locator("input").fill("later@example.com")
        card.get_by_role("button", name="Save").click()
        expect(card).to_have_text("Thanks! We'll answer at later@example.com.")

        # The visitor can still write; the agent sees where to answer.
        _send(chat, "Please call me back about my order.")
        expect(chat.locator(".m.me .rc")).to_have_text("Sent")
        tickets = api.call("GET", "/tickets", workspace["token"])["tickets"]
        assert tickets[0]["visitor"]["email"] == "later@example.com"

        # On the morning of the opening day, the same moment reads "Back at 9:00".
        page.clock.set_fixed_time(opens - timedelta(hours=3))
        page.reload()
        page.locator(LAUNCHER).click()
        chat = page.frame_locator(FRAME)
        expect(chat.locator(".st")).to_have_text("Back at 9:00")
        expect(chat.locator("form.aw")).to_be_hidden()  # the e-mail is known now
    finally:
        context.close()


def test_a_resolved_ticket_asks_for_a_rating_that_agents_see(
    api: Api, workspace: dict[str, Any], host_site: HostSite, agent: Client, page: Page
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    _send(chat, "My discount code does not work.")
    ticket_id, _ = join_first_ticket(agent)
    assert agent.send("Fixed: it works again.", ticket_id)["ok"]
    expect(chat.locator(".m.them:not(.greet) .bd")).to_have_text(["Fixed: it works again."])
    assert chat.locator("form.rt").count() == 0

    api.call("PATCH", f"/tickets/{ticket_id}", workspace["token"], json={"status": "resolved"})
    card = chat.locator("form.rt")
    expect(card.locator(".q")).to_have_text("How did we do?")
    stars = card.locator(".star")
    expect(stars).to_have_count(5)
    send = card.get_by_role("button", name="Send rating")
    expect(send).to_be_disabled()
    card.get_by_role("radio", name="4 of 5").click()
    expect(card.locator(".star.on")).to_have_count(4)
    expect(card.get_by_role("radio", name="4 of 5")).to_have_attribute("aria-checked", "true")
    card.locator("textarea").fill("Quick, thanks!")
    send.click()
    expect(card).to_have_text("Thanks for your feedback!")

    updated = agent.wait_for("ticket:updated", lambda d: (d["ticket"].get("rating") or {}) != {})
    assert updated["ticket"]["rating"] == {"score": 4, "comment": "Quick, thanks!"}
    shown = api.call("GET", f"/tickets/{ticket_id}", workspace["token"])["ticket"]
    assert shown["rating"] == {"score": 4, "comment": "Quick, thanks!"}

    # Rated already: a reload shows the history and does not ask again.
    page.reload()
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    expect(chat.locator(".m.them:not(.greet) .bd")).to_have_text(["Fixed: it works again."])
    expect(chat.locator(".ev").last).to_have_text(re.compile("resolved the ticket"))
    assert chat.locator("form.rt").count() == 0


#: Counts the beeps (oscillators started) in every frame, the widget's included.
COUNT_BEEPS = """
window.beeps = 0;
if (window.OscillatorNode) {
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.beeps += 1;
    return start.apply(this, args);
  };
}
"""


def test_sound_toggle_beeps_for_agent_messages_only_while_closed_and_is_remembered(
    api: Api, workspace: dict[str, Any], host_site: HostSite, agent: Client, page: Page
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    page.add_init_script(COUNT_BEEPS)
    page.add_init_script(STUB)
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    toggle = chat.locator("button.snd")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_have_attribute("aria-label", "Turn sound on")
    _send(chat, "Hello")
    ticket_id, _ = join_first_ticket(agent)
    frame = widget_frame(page)

    # Sound off: closed, an agent's message arrives silently.
    page.evaluate("Parley.close()")
    agent.send("First answer", ticket_id)
    page.wait_for_function("calls.includes('message:First answer')")
    assert frame.evaluate("window.beeps") == 0

    page.evaluate("Parley.open()")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_have_attribute("aria-label", "Turn sound off")

    # Open and looking: no beep.
    agent.send("While you look", ticket_id)
    expect(chat.locator(".m.them:not(.greet) .bd").last).to_have_text("While you look")
    assert frame.evaluate("window.beeps") == 0

    # Closed: one short beep per agent message.
    page.evaluate("Parley.close()")
    agent.send("While you are away", ticket_id)
    frame.wait_for_function("window.beeps === 1")
    page.wait_for_function("calls.includes('message:While you are away')")

    # The choice is kept in the frame's storage.
    page.reload()
    page.locator(LAUNCHER).click()
    expect(page.frame_locator(FRAME).locator("button.snd")).to_have_attribute(
        "aria-pressed", "true"
    )
