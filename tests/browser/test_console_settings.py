"""The console's settings, reports and availability in Chromium, checked through the API.

Onboarding (create a site, copy the snippet, see "widget installed"), appearance with its
previews, business hours, the pre-chat form, the bot and its FAQ, canned responses used from
the composer, agents and roles, webhooks, reports and the availability toggle.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, make_site
from tests.browser.console_support import console_built, sign_in, ticket_item, visitor_client
from tests.live import Api, Server

__all__ = ["console_built"]
expect.set_options(timeout=TIMEOUT_MS)


def test_onboarding_creates_a_site_copies_the_snippet_and_sees_the_widget_installed(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="New site")).to_be_visible()
    page.get_by_label("Name").fill("Trail Shop")
    page.get_by_label("Allowed origins (one per line)").fill("https://trail.example")
    page.get_by_role("button", name="Create site").click()

    expect(page.get_by_role("heading", name="Install the widget")).to_be_visible()
    site = api.call("GET", "/sites", workspace["token"])["sites"][0]
    assert site["name"] == "Trail Shop"
    assert site["allowed_origins"] == ["https://trail.example"]
    snippet = page.locator(".snippet")
    expect(snippet).to_contain_text(site["site_key"])
    page.get_by_role("button", name="Copy snippet").click()
    expect(page.get_by_role("button", name="Copied!")).to_be_visible()
    assert site["site_key"] in page.evaluate("navigator.clipboard.readText()")
    expect(page.locator(".install-status")).to_have_text("Not installed yet")

    api.visitor(site)  # the first visitor's widget opens a session
    page.get_by_role("button", name="Check again").click()
    expect(page.locator(".install-status")).to_contain_text("Widget installed")


def test_appearance_previews_live_and_saves(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.goto(app_server.url + "/console/#/settings/appearance")
    title = page.get_by_label("Title")
    expect(title).to_have_value("Acme Shoes support")
    title.fill("Talk to Acme")
    page.get_by_label("Greeting").fill("<b>Hello</b> there")
    mock = page.get_by_label("Live preview")
    expect(mock.locator(".mock-head")).to_have_text("Talk to Acme")  # before saving
    expect(mock.locator(".mock-bubble")).to_have_text("<b>Hello</b> there")
    page.get_by_label("Colour").fill("#be123c")
    page.get_by_label("Position").select_option("left")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast")).to_have_text("Saved.")

    stored = api.call("GET", f"/sites/{site['id']}", workspace["token"])["site"]["settings"]
    assert stored["title"] == "Talk to Acme"
    assert stored["color"] == "#be123c"
    assert stored["position"] == "left"
    assert stored["greeting"] == "<b>Hello</b> there"
    # The real widget in the frame shows the saved settings.
    frame = page.frame_locator(".preview-frame")
    expect(frame.locator(".t")).to_have_text("Talk to Acme")


def test_business_hours_and_the_prechat_form_are_saved(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.goto(app_server.url + "/console/#/settings/hours")
    page.get_by_label("Use business hours").check()
    page.get_by_label("Time zone").fill("Europe/Oslo")
    page.get_by_label("Mon opens").fill("08:30")
    page.get_by_label("Open on Sat").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast")).to_have_text("Saved.")
    hours = api.call("GET", f"/sites/{site['id']}", workspace["token"])["site"]["settings"][
        "business_hours"
    ]
    assert hours["timezone"] == "Europe/Oslo"
    assert hours["days"]["mon"] == [{"open": "08:30", "close": "17:00"}]
    assert hours["days"]["sat"] == [{"open": "09:00", "close": "17:00"}]
    assert hours["days"]["sun"] == []

    expect(page.locator(".toast")).to_have_count(0)  # the toast goes away by itself
    page.get_by_role("link", name="Pre-chat form").click()
    page.get_by_role("button", name="Add a field").click()
    page.get_by_role("button", name="Add a field").click()
    page.get_by_label("Field name").nth(1).fill("order")
    page.get_by_label("Label").nth(1).fill("Order number")
    page.get_by_label("Required").nth(1).check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast")).to_have_text("Saved.")
    fields = api.call("GET", f"/sites/{site['id']}", workspace["token"])["site"]["settings"][
        "prechat_fields"
    ]
    assert [(f["name"], f["label"], f["required"]) for f in fields] == [
        ("name", "Your name", False),
        ("order", "Order number", True),
    ]


def test_bot_switch_faq_editor_and_import(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.goto(app_server.url + "/console/#/settings/bot")
    page.get_by_label("Let the bot answer from the FAQ first", exact=False).check()
    expect(page.locator(".toast")).to_contain_text("The bot answers")
    assert api.call("GET", f"/sites/{site['id']}", workspace["token"])["site"]["settings"][
        "bot_enabled"
    ]
    page.get_by_label("Question", exact=True).fill("Do you ship abroad?")
    page.get_by_label("Answer", exact=True).fill("Yes, to every EU country.")
    page.get_by_role("button", name="Add entry").click()
    expect(page.locator("table.faq")).to_contain_text("Do you ship abroad?")
    rows = [
        {"question": "How do I return shoes?", "answer": "Within 30 days.", "external_id": "r1"}
    ]
    page.get_by_placeholder('[{"question"').fill(json.dumps(rows))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("table.faq")).to_contain_text("How do I return shoes?")
    entries = api.call("GET", f"/sites/{site['id']}/faq", workspace["token"])["entries"]
    assert sorted(e["question"] for e in entries) == [
        "Do you ship abroad?",
        "How do I return shoes?",
    ]
    page.locator("table.faq tr", has_text="Do you ship abroad?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.locator("table.faq")).not_to_contain_text("Do you ship abroad?")


def test_canned_response_created_in_settings_is_picked_with_a_slash(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.goto(app_server.url + "/console/#/settings/canned")
    page.get_by_label("Shortcut", exact=True).fill("shipping")
    page.get_by_label("Title").fill("Shipping times")
    page.get_by_label("Text").fill("We ship within 2 working days.")
    page.get_by_role("button", name="Add response").click()
    expect(page.locator("table.canned")).to_contain_text("/shipping")

    visitor, _ = visitor_client(app_server.url, api, site)
    try:
        assert visitor.send("When will it ship?")["ok"]
        page.get_by_role("link", name="Inbox").click()
        ticket_item(page, "When will it ship?").click()
        box = page.get_by_label("Message")
        box.fill("/shi")
        picker = page.locator(".canned-picker")
        expect(picker).to_contain_text("/shipping")
        box.press("Enter")  # picks the response; does not send it
        expect(box).to_have_value("We ship within 2 working days.")
        expect(picker).to_be_hidden()
        box.press("Enter")
        visitor.wait_for(
            "message:new",
            lambda d: d["message"]["body"] == "We ship within 2 working days.",
            timeout=TIMEOUT_MS / 1000,
        )
    finally:
        visitor.disconnect()


def test_owner_adds_an_agent_and_changes_the_role(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.goto(app_server.url + "/console/#/settings/agents")
    page.get_by_label("Name").fill("Sam Support")
    page.get_by_label("E-mail").fill(f"sam-{app_server.port}@example.com")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Add agent").click()
    row = page.locator("table.agents tr", has_text="Sam Support")
    expect(row).to_contain_text("agent")
    row.get_by_label("Role of Sam Support").select_option("admin")
    expect(page.locator(".toast").last).to_have_text("Saved.")
    agents = api.call("GET", "/agents", workspace["token"])["agents"]
    assert {a["name"]: a["role"] for a in agents}["Sam Support"] == "admin"

    expect(page.locator(".toast")).to_have_count(0)
    page.locator("table.agents tr", has_text="Sam Support").get_by_role(
        "button", name="Deactivate"
    ).click()
    expect(page.locator("table.agents tr", has_text="Sam Support")).to_contain_text("deactivated")
    agents = api.call("GET", "/agents", workspace["token"])["agents"]
    assert {a["name"]: a["active"] for a in agents}["Sam Support"] is False
    # The owner's own row cannot be changed from here.
    expect(page.locator("table.agents tr", has_text="(you)").get_by_role("button")).to_have_count(0)


def test_push_panel_says_when_the_server_has_no_push_keys(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.goto(app_server.url + "/console/#/settings/notifications")
    status = page.get_by_role("status").filter(has_text="ush")
    key = requests.get(
        app_server.url + "/api/v1/push/vapid-public-key",
        headers={"Authorization": f"Bearer {workspace['token']}"},
        timeout=10,
    )
    if key.status_code == 200 and key.json().get("public_key"):
        expect(page.get_by_role("button", name="Turn push on")).to_be_visible()
        expect(status).to_contain_text("Push notifications are off for this browser.")
    else:
        expect(status).to_contain_text("not configured on this server")
        expect(page.get_by_role("button", name="Turn push on")).to_be_hidden()


def test_webhook_is_added_with_its_secret_and_delivery_log(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    site = make_site(api, workspace["token"], [])
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.goto(app_server.url + "/console/#/settings/webhooks")
    page.get_by_label("URL").fill("https://93.184.215.14/parley")
    page.get_by_label("message.created").uncheck()
    page.get_by_role("button", name="Add webhook").click()
    row = page.locator("tr", has_text="https://93.184.215.14/parley")
    expect(row).to_contain_text("ticket.created, ticket.updated")
    hooks = api.call("GET", f"/sites/{site['id']}/webhooks", workspace["token"])["webhooks"]
    assert [h["url"] for h in hooks] == ["https://93.184.215.14/parley"]
    expect(row.locator("code")).to_have_text(hooks[0]["secret"])
    row.get_by_role("button", name="Deliveries").click()
    expect(
        page.get_by_role("heading", name="Deliveries to https://93.184.215.14/parley")
    ).to_be_visible()


def test_availability_toggle_is_what_the_team_sees(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    sign_in(page, app_server.url, workspace["agent"]["email"])
    toggle = page.locator(".availability")
    expect(toggle).to_have_text("Online")
    toggle.click()
    expect(toggle).to_have_text("Away")
    me = api.call("GET", "/auth/me", workspace["token"])["agent"]
    assert me["availability"] == "away"
    toggle.click()
    expect(toggle).to_have_text("Online")
    assert api.call("GET", "/auth/me", workspace["token"])["agent"]["availability"] == "online"


def test_reports_page_draws_charts(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.get_by_role("link", name="Reports").click()
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.get_by_role("img", name="Tickets created and resolved per day")).to_be_visible()
    page.get_by_role("button", name="7 days").click()
    expect(page.locator("svg.bars rect.bar.created")).to_have_count(7)
