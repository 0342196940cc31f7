"""Helpers of the console's browser tests: a console built, signing in, a chatting visitor."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.live import PASSWORD, ROOT, Api, Client


@pytest.fixture(scope="session")
def console_built() -> None:
    from tests.browser.conftest import _require

    _require(
        (ROOT / "agent_console" / "dist" / "manifest.json").exists(),
        "agent_console/dist is not built: run `make setup` (npm ci && npm run build)",
    )


def sign_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    """Open the console, sign in with the form and wait for the inbox."""
    page.goto(url + "/console/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator(".tickets")).to_be_attached()


def visitor_client(url: str, api: Api, site: dict[str, Any]) -> tuple[Client, dict[str, Any]]:
    """A visitor with a widget session, connected over Socket.IO like the widget frame."""
    session = api.visitor(site)
    client = Client(url, {"visitor_token": session["visitor_token"]}, ["websocket"])
    client.connect()
    return client, session


def ticket_item(page: Page, text: str) -> Any:
    """The inbox row whose preview or name shows ``text``."""
    return page.locator(".ticket", has_text=text)


def ticket_row(page: Page, ticket_id: str) -> Any:
    """The inbox row of one ticket."""
    return page.locator(f'.ticket[data-id="{ticket_id}"]')
