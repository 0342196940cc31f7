"""The console in Chromium: the owner reads and filters the audit log (Settings > Audit log),
and exports or deletes a visitor from the visitor panel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.console_support import console_built, sign_in, ticket_item, visitor_client
from tests.live import Api, Server

__all__ = ["console_built"]
expect.set_options(timeout=TIMEOUT_MS)


def test_owner_reads_and_filters_the_audit_log(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    token = workspace["token"]
    site = api.call("POST", "/sites", token, json={"name": "Audited Shop", "allowed_origins": []})[
        "site"
    ]
    api.call("PATCH", "/workspace", token, json={"routing": {"mode": "manual"}})
    sign_in(page, app_server.url, workspace["agent"]["email"])
    page.goto(app_server.url + "/console/#/settings/audit")
    table = page.locator("table.audit")
    created = table.locator("tr[data-action='site.created']")
    expect(created).to_contain_text("Olive Owner")
    expect(created).to_contain_text("Audited Shop")  # the target by name
    expect(table.locator("tr[data-action='settings.updated']")).to_contain_text("manual")
    expect(table.locator("tr[data-action='agent.login']")).to_have_count(1)  # this sign-in
    page.get_by_label("Show").select_option(label="Sites")
    expect(table.locator("tr[data-action='settings.updated']")).to_have_count(0)
    expect(table.locator("tbody tr")).to_have_count(1)
    assert site["id"]


def test_owner_exports_and_deletes_a_visitor_from_the_visitor_panel(
    console_built: None, app_server: Server, api: Api, workspace: dict[str, Any], page: Page
) -> None:
    token = workspace["token"]
    site = api.call("POST", "/sites", token, json={"name": "Shop", "allowed_origins": []})["site"]
    visitor, _ = visitor_client(app_server.url, api, site)
    try:
        ticket_id = visitor.send("please delete my data")["message"]["ticket_id"]
        visitor_id = api.call("GET", f"/tickets/{ticket_id}", token)["ticket"]["visitor"]["id"]
        sign_in(page, app_server.url, workspace["agent"]["email"])
        ticket_item(page, "please delete my data").click()
        panel = page.locator(".visitor-card .privacy")
        with page.expect_download() as download:
            panel.get_by_role("link", name="Export data").click()
        exported = json.loads(Path(download.value.path()).read_text())
        assert exported["visitor"]["id"] == visitor_id
        assert exported["tickets"][0]["messages"][0]["body"] == "please delete my data"
        page.once("dialog", lambda dialog: dialog.accept())
        panel.get_by_role("button", name="Delete visitor").click()
        expect(ticket_item(page, "please delete my data")).to_have_count(0)
        r = requests.get(
            f"{api.url}/visitors/{visitor_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 404
    finally:
        visitor.disconnect()
