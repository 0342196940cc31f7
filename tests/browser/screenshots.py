"""Screenshots of the widget (closed, open, mobile) for the docs.

Run ``.venv/bin/python -m tests.browser.screenshots`` after ``make setup``: it starts the app
on a throwaway SQLite database, a host page on another port and Debian's Chromium, and
writes ``docs/screenshots/widget-{closed,open,mobile}.png``. The browser tests run the same
steps into a temporary folder.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.live import ROOT, Api, Client

VISITOR_TEXT = "Hi! Do the Trail Runner 2 come in size 46?"
AGENT_TEXT = "They do: size 46 is in stock in black and in white. Want me to hold a pair?"


def take_screenshots(
    browser: Any, page_url: str, folder: Path, agent: Client | None = None
) -> list[Path]:
    """Closed and open on a desktop, then the same conversation on a 375 px wide phone."""
    from playwright.sync_api import expect

    folder.mkdir(parents=True, exist_ok=True)
    closed, opened, mobile = (
        folder / "widget-closed.png",
        folder / "widget-open.png",
        folder / "widget-mobile.png",
    )
    desktop = browser.new_context(viewport={"width": 1280, "height": 800})
    desktop.set_default_timeout(20_000)
    try:
        page = desktop.new_page()
        page.goto(page_url)
        launcher = page.locator("parley-widget button.l")
        expect(launcher).to_be_visible()
        page.screenshot(path=str(closed))
        launcher.click()
        chat = page.frame_locator("parley-widget iframe")
        box = chat.locator("textarea")
        box.fill(VISITOR_TEXT)
        box.press("Enter")
        expect(chat.locator(".m.me .rc")).to_have_text("Sent", timeout=20_000)
        if agent is not None:
            created = agent.wait_for("ticket:created", timeout=20)
            ticket_id = created["ticket"]["id"]
            joined = agent.call("ticket:join", {"ticket_id": ticket_id})
            agent.send(AGENT_TEXT, ticket_id)
            expect(chat.locator(".m.them:not(.greet) .bd")).to_have_text(
                [AGENT_TEXT], timeout=20_000
            )
            agent.call("read", {"ticket_id": ticket_id, "seq": joined["messages"][-1]["seq"]})
            expect(chat.locator(".m.me .rc")).to_have_text("Seen", timeout=20_000)
        page.mouse.move(0, 0)
        page.screenshot(path=str(opened))
        state = desktop.storage_state()
    finally:
        desktop.close()

    phone = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, storage_state=state
    )
    phone.set_default_timeout(20_000)
    try:
        page = phone.new_page()
        page.goto(page_url)
        page.locator("parley-widget button.l").click()
        chat = page.frame_locator("parley-widget iframe")
        expect(chat.locator(".m.me .bd").first).to_have_text(VISITOR_TEXT, timeout=20_000)
        page.screenshot(path=str(mobile))
    finally:
        phone.close()
    return [closed, opened, mobile]


def main() -> int:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, HostSite, make_site
    from tests.conftest import migrate_to_head
    from tests.live import Server

    with tempfile.TemporaryDirectory(prefix="parley-shots-") as tmp:
        url = f"sqlite:///{tmp}/parley.db"
        migrate_to_head(url)
        server = Server({"DATABASE_URL": url}).start()
        host = HostSite(server.url).start()
        try:
            api = Api(server.url)
            owner = api.call(
                "POST",
                "/auth/signup",
                json={
                    "workspace_name": "Acme Shoes",
                    "name": "Maya Lopez",
                    "email": "maya@acme-shoes.example",
                    "password": "correct horse battery",
                },
            )
            site = make_site(api, owner["token"], [host.origin])
            agent = Client(server.url, {"token": owner["token"]}, ["polling", "websocket"])
            agent.connect()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                paths = take_screenshots(
                    browser,
                    host.page_url(site["site_key"], hostile="0"),
                    ROOT / "docs" / "screenshots",
                    agent,
                )
                browser.close()
            agent.disconnect()
        finally:
            host.stop()
            server.stop()
    for path in paths:
        print(f"{path.relative_to(ROOT)} {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
