"""The FAQ bot's answers in the widget, in Chromium: "Did you mean...?" choices, "That
helped" and "Talk to a human" (docs/PROTOCOL.md: a bot message's ``meta``, ``bot:feedback``).

A customer's page on one origin, the app on another, the site's FAQ entered through the API.
Every wait is on a condition.
"""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import FRAME, LAUNCHER, TIMEOUT_MS, HostSite, make_site
from tests.live import ROOT, Api

expect.set_options(timeout=TIMEOUT_MS)

#: The evaluation knowledge base (an outdoor-gear shop), whose "discount" neighbours give a
#: "Did you mean...?" (tests/realtime/test_bot_chat.py relies on the same).
KB = json.loads((ROOT / "evaluation/bot/kb.json").read_text())


def _bot_site(api: Api, token: str, origin: str) -> dict[str, Any]:
    site = make_site(api, token, [origin], bot_enabled=True)
    for entry in KB:
        body = {k: entry[k] for k in ("question", "answer", "alternatives")}
        api.call("POST", f"/sites/{site['id']}/faq", token, json=body)
    return site


def _bot_message(chat: Any, text: str) -> Any:
    """The bot's message whose text contains ``text`` (a stable handle as more arrive)."""
    return chat.locator(".m.them:not(.greet)").filter(has=chat.locator(".bd", has_text=text))


def _send(chat: Any, text: str) -> None:
    box = chat.locator("form.cp textarea")
    box.fill(text)
    box.press("Enter")


def test_bot_answers_with_buttons_that_acknowledge_and_hand_off(
    api: Api, workspace: dict[str, Any], host_site: HostSite, page: Page
) -> None:
    token = workspace["token"]
    site = _bot_site(api, token, host_site.origin)
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)

    # A vague question: "Did you mean...?" with the choices as buttons and "Talk to a human".
    _send(chat, "discount")
    unsure = _bot_message(chat, "Did you mean")
    expect(unsure).to_have_count(1)
    expect(unsure.locator(".ac .dm")).to_have_text("Did you mean…?")
    choice = unsure.get_by_role("button", name="Do you offer a student discount?")
    expect(choice).to_be_visible()
    expect(unsure.locator(".ac button").last).to_have_text("Talk to a human")

    # Picking one sends it as the visitor's message; the choices go away.
    choice.click()
    expect(chat.locator(".m.me .bd").last).to_have_text("Do you offer a student discount?")
    expect(unsure.locator(".ac button")).to_have_count(0)
    answer = _bot_message(chat, "Students get 10% off")
    expect(answer).to_have_count(1)
    expect(answer.locator(".ac button")).to_have_text(["That helped", "Talk to a human"])

    # "That helped" is acknowledged and the buttons go; the bot keeps the ticket.
    answer.get_by_role("button", name="That helped").click()
    expect(answer.locator(".ac")).to_have_text("Glad it helped!")
    expect(answer.locator(".ac button")).to_have_count(0)
    tickets = api.call("GET", "/tickets", token)["tickets"]
    assert [t["status"] for t in tickets] == ["bot"]
    ticket_id = tickets[0]["id"]

    # "Talk to a human" on the next answer hands the ticket to people.
    _send(chat, "How do I reset my password?")
    second = _bot_message(chat, "Forgot password")
    expect(second).to_have_count(1)
    second.get_by_role("button", name="Talk to a human").click()
    expect(second.locator(".ac")).to_have_text("A person will take it from here.")
    expect(chat.locator(".ev").last).to_have_text(re.compile("handed the ticket to a person"))
    expect(chat.locator(".ac button")).to_have_count(0)  # no bot buttons once people have it
    ticket = api.call("GET", f"/tickets/{ticket_id}", token)["ticket"]
    assert ticket["status"] == "open"

    # A reload draws no buttons for a ticket that left the bot.
    page.reload()
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    expect(chat.locator(".m.them:not(.greet) .bd").last).to_have_text(re.compile("."))
    expect(chat.locator(".ev").last).to_have_text(re.compile("handed the ticket to a person"))
    expect(chat.locator(".ac button")).to_have_count(0)


def test_bot_buttons_speak_the_visitors_language(
    api: Api, workspace: dict[str, Any], host_site: HostSite, page: Page
) -> None:
    site = _bot_site(api, workspace["token"], host_site.origin)
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    _send(chat, "How do I reset my password?")
    answer = _bot_message(chat, "Forgot password")
    expect(answer.locator(".ac button")).to_have_text(["That helped", "Talk to a human"])
    for code, texts in {
        "es": ["Me ha servido", "Hablar con una persona"],
        "de": ["Das hat geholfen", "Mit einem Menschen sprechen"],
        "fr": ["Cela m'a aidé", "Parler à un humain"],
    }.items():
        page.evaluate("code => window.Parley.setLocale(code)", code)
        expect(answer.locator(".ac button")).to_have_text(texts)
