"""What the widget tells a waiting visitor, in Chromium: the queue position, the assigned
agent's availability live, and Delivered/Seen that survive a reload.

A customer's page on one origin, the app on another; the agent is a python-socketio client.
Every wait is on a condition.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    FRAME,
    LAUNCHER,
    TIMEOUT_MS,
    HostSite,
    join_first_ticket,
    make_site,
)
from tests.live import Api, Client, Server

expect.set_options(timeout=TIMEOUT_MS)


def _send(chat: Any, text: str) -> None:
    box = chat.locator("form.cp textarea")
    box.fill(text)
    box.press("Enter")


@pytest.fixture
def late_agent(app_server: Server, workspace: dict[str, Any]) -> Iterator[Client]:
    """The owner as an agent client that connects only when the test says so."""
    client = Client(app_server.url, {"token": workspace["token"]}, ["polling", "websocket"])
    yield client
    client.disconnect()


def test_queue_position_then_the_assigned_agents_availability_live(
    api: Api, workspace: dict[str, Any], host_site: HostSite, late_agent: Client, page: Page
) -> None:
    token = workspace["token"]
    site = make_site(api, token, [host_site.origin])  # routing "auto", nobody online
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    status = chat.locator(".st")
    expect(status).to_have_text("We're offline. Leave a message and we'll get back to you.")

    _send(chat, "Do you ship to Norway?")
    queue = chat.locator(".qu")
    # Nothing measured yet in this workspace, so no wait estimate.
    expect(queue).to_have_text("You are number 1 in line")
    page.evaluate("() => window.Parley.setLocale('de')")
    expect(queue).to_have_text("Sie sind Nummer 1 in der Warteschlange")
    page.evaluate("() => window.Parley.setLocale('en')")

    # The agent comes online: routing assigns the ticket, the wait ends, the header names them.
    late_agent.connect()
    expect(queue).to_be_hidden()
    expect(status).to_have_text("Olive Owner is online")
    expect(status).to_have_attribute("data-presence", "online")

    api.call("PATCH", "/agents/me", token, json={"availability": "away"})
    expect(status).to_have_text("Olive Owner is away")
    page.evaluate("() => window.Parley.setLocale('fr')")
    expect(status).to_have_text("Olive Owner est absent(e)")
    page.evaluate("() => window.Parley.setLocale('en')")
    api.call("PATCH", "/agents/me", token, json={"availability": "online"})
    expect(status).to_have_text("Olive Owner is online")

    late_agent.disconnect()
    expect(status).to_have_text("Olive Owner is offline")


def test_delivered_and_seen_survive_a_reload(
    api: Api, workspace: dict[str, Any], host_site: HostSite, agent: Client, page: Page
) -> None:
    site = make_site(api, workspace["token"], [host_site.origin])
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    _send(chat, "Is the blue tent waterproof?")
    ticket_id, _ = join_first_ticket(agent)
    assert agent.send("Yes, to 3000 mm.", ticket_id)["ok"]
    expect(chat.locator(".m.them:not(.greet) .bd")).to_have_text(["Yes, to 3000 mm."])

    _send(chat, "And the green one?")
    newest = chat.locator(".m.me").last
    expect(newest.locator(".rc")).to_have_text("Sent")
    seq = agent.wait_for("message:new", lambda d: d["message"]["body"] == "And the green one?")[
        "message"
    ]["seq"]

    agent.call("delivered", {"ticket_id": ticket_id, "seq": seq})
    expect(newest.locator(".rc")).to_have_text("Delivered")
    page.reload()
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    newest = chat.locator(".m.me").last
    expect(newest.locator(".bd")).to_have_text("And the green one?")
    expect(newest.locator(".rc")).to_have_text("Delivered")

    agent.call("read", {"ticket_id": ticket_id, "seq": seq})
    expect(newest.locator(".rc")).to_have_text("Seen")
    page.reload()
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    newest = chat.locator(".m.me").last
    expect(newest.locator(".bd")).to_have_text("And the green one?")
    expect(newest.locator(".rc")).to_have_text("Seen")


def test_queue_shows_the_expected_wait_once_responses_were_measured(
    api: Api,
    workspace: dict[str, Any],
    host_site: HostSite,
    agent: Client,
    page: Page,
    browser: Any,
) -> None:
    """Manual routing: tickets wait, and the estimate comes from measured first responses."""
    site = make_site(api, workspace["token"], [host_site.origin])
    page.goto(host_site.page_url(site["site_key"]))
    page.locator(LAUNCHER).click()
    first = page.frame_locator(FRAME)
    _send(first, "Can I return worn boots?")
    expect(first.locator(".qu")).to_have_text("You are number 1 in line")
    ticket_id, _ = join_first_ticket(agent)
    assert agent.send("Within 30 days, yes.", ticket_id)["ok"]  # a first response, in seconds

    other = browser.new_context(locale="es-ES")
    other.set_default_timeout(TIMEOUT_MS)
    try:
        second_page = other.new_page()
        second_page.goto(host_site.page_url(site["site_key"]))
        second_page.locator(LAUNCHER).click()
        second = second_page.frame_locator(FRAME)
        _send(second, "¿Hacéis envíos a Canarias?")
        # Behind the first ticket; a median of seconds rounds up to a minute.
        expect(second.locator(".qu")).to_have_text("Eres el número 2 en la cola · aprox. 1 min")
    finally:
        other.close()


def test_the_team_stays_online_while_any_agent_is(
    api: Api, workspace: dict[str, Any], host_site: HostSite, app_server: Server, page: Page
) -> None:
    token = workspace["token"]
    site = make_site(api, token, [host_site.origin])
    api.call("PATCH", "/workspace", token, json={"routing": {"mode": "manual"}})
    second = api.add_agent(token, name="Sam Second")
    first_client = Client(app_server.url, {"token": token}, ["polling", "websocket"])
    second_client = Client(app_server.url, {"token": second["token"]}, ["polling", "websocket"])
    try:
        first_client.connect()
        second_client.connect()
        page.goto(host_site.page_url(site["site_key"]))
        page.locator(LAUNCHER).click()
        status = page.frame_locator(FRAME).locator(".st")
        expect(status).to_have_text("We're online")
        # One of two agents leaves: the other is still there, whatever this visitor saw before.
        second_client.disconnect()
        expect(status).to_have_attribute("data-presence", "online")
        expect(status).to_have_text("We're online")
        first_client.disconnect()
        expect(status).to_have_text("We're offline. Leave a message and we'll get back to you.")
    finally:
        first_client.disconnect()
        second_client.disconnect()
