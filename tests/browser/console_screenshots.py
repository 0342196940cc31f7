"""Screenshots of the agent console (sign-in, inbox, settings, reports, tablet) for the docs.

Run ``.venv/bin/python -m tests.browser.console_screenshots`` after ``make setup``: it starts
the app on a throwaway SQLite database and Debian's Chromium, fills a small workspace and
writes ``docs/screenshots/console-*.png``. tests/browser/test_console_screenshots.py runs the
same steps into a temporary folder.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.live import PASSWORD, ROOT, Api, Client

OWNER_EMAIL = "maya@acme-shoes.example"
VISITORS = [
    (
        "Jonas Berg",
        "jonas@example.com",
        "https://acme-shoes.example/trail-runner-2",
        "Hi! Do the Trail Runner 2 come in size 46?",
    ),
    (
        "Amira Haddad",
        "amira@example.com",
        "https://acme-shoes.example/orders",
        "My order #4411 still says 'processing'. Can you check?",
    ),
    (
        "Leo Martin",
        "leo@example.com",
        "https://acme-shoes.example/returns",
        "How long do I have to return a pair?",
    ),
]


def populate(api: Api, url: str) -> tuple[dict[str, Any], list[Client]]:
    """A workspace with a site, a second agent, canned responses and three live chats."""
    owner = api.call(
        "POST",
        "/auth/signup",
        json={
            "workspace_name": "Acme Shoes",
            "name": "Maya Lopez",
            "email": OWNER_EMAIL,
            "password": PASSWORD,
        },
    )
    token = owner["token"]
    site = api.call(
        "POST",
        "/sites",
        token,
        json={
            "name": "Acme Shoes",
            "allowed_origins": [],
            "settings": {
                "title": "Acme Shoes support",
                "color": "#0f766e",
                "greeting": "Hi there! Ask us anything about your order.",
            },
        },
    )["site"]
    api.call(
        "POST",
        "/agents",
        token,
        json={
            "name": "Sam Patel",
            "email": "sam@acme-shoes.example",
            "password": PASSWORD,
            "role": "agent",
        },
    )
    api.call(
        "POST",
        "/canned-responses",
        token,
        json={
            "shortcut": "returns",
            "title": "Return policy",
            "body": "You can return unworn shoes within 30 days for a full refund.",
        },
    )
    visitors = []
    for i, (name, email, page, text) in enumerate(VISITORS):
        external_id = f"cust-{1000 + i}"
        user_hash = hmac.new(site["site_secret"].encode(), external_id.encode(), hashlib.sha256)
        session = api.call(
            "POST",
            "/widget/session",
            json={
                "site_key": site["site_key"],
                "identity": {
                    "external_id": external_id,
                    "user_hash": user_hash.hexdigest(),
                    "name": name,
                    "email": email,
                },
                "page": {"url": page, "title": "Acme Shoes"},
            },
        )
        client = Client(url, {"visitor_token": session["visitor_token"]}, ["websocket"])
        client.connect()
        assert client.send(text)["ok"]
        visitors.append(client)
    return {"owner": owner, "site": site}, visitors


def take_console_screenshots(
    browser: Any, url: str, folder: Path, visitors: list[Client]
) -> list[Path]:
    """Sign-in, inbox with a conversation, settings, reports at 1280x720; the inbox at 768."""
    from playwright.sync_api import expect

    from tests.browser.console_support import sign_in

    folder.mkdir(parents=True, exist_ok=True)
    shots = {
        n: folder / f"console-{n}.png" for n in ("login", "inbox", "settings", "reports", "tablet")
    }
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(url + "/console/")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        page.get_by_label("E-mail").fill(OWNER_EMAIL)
        page.screenshot(path=str(shots["login"]))
        sign_in(page, url, OWNER_EMAIL)
        expect(page.locator(".ticket")).to_have_count(len(VISITORS))
        page.locator(".ticket", has_text="Jonas Berg").click()
        claim = page.get_by_role("button", name="Claim")
        if claim.count():  # automatic routing may have assigned it to Maya already
            claim.click()
        box = page.get_by_label("Message")
        box.fill("They do! Size 46 is in stock in black and in white. Want me to hold a pair?")
        box.press("Enter")
        expect(page.locator(".msg.agent:not(.pending)")).to_have_count(1)
        page.get_by_role("button", name="Private note").click()
        box.fill("Regular customer: offer free express shipping.")
        box.press("Enter")
        expect(page.locator(".msg.note:not(.pending)")).to_have_count(1)
        page.get_by_role("button", name="Reply").click()
        visitor = visitors[0]
        ticket_id = visitor.messages()[0]["ticket_id"] if visitor.messages() else None
        if ticket_id:
            visitor.call("read", {"ticket_id": ticket_id, "seq": visitor.messages()[-1]["seq"]})
            visitor.emit("typing", {"ticket_id": ticket_id, "typing": True})
            expect(page.locator(".typing-line")).to_contain_text("typing")
        for client in visitors:  # the visitors' widgets are open: their dots turn green
            client.call("presence:heartbeat", {})
        expect(page.locator(".ticket .dot.online")).to_have_count(len(VISITORS))
        box.fill("/ret")
        expect(page.locator(".canned-picker")).to_be_visible()
        page.mouse.move(0, 0)
        page.screenshot(path=str(shots["inbox"]))
        box.fill("")

        page.goto(url + "/console/#/settings/appearance")
        expect(page.frame_locator(".preview-frame").locator(".t")).to_have_text(
            "Acme Shoes support"
        )
        page.screenshot(path=str(shots["settings"]))

        page.goto(url + "/console/#/reports")
        expect(page.locator(".report-body .card").first).to_be_visible()
        page.screenshot(path=str(shots["reports"]))

        page.set_viewport_size({"width": 768, "height": 1024})
        page.goto(url + "/console/#/inbox")
        expect(page.locator(".ticket")).to_have_count(len(VISITORS))
        page.locator(".ticket", has_text="Amira Haddad").click()
        expect(page.locator(".msg.visitor")).to_have_count(1)
        page.screenshot(path=str(shots["tablet"]))
    finally:
        context.close()
    return list(shots.values())


def main() -> int:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM
    from tests.conftest import migrate_to_head
    from tests.live import Server

    with tempfile.TemporaryDirectory(prefix="parley-console-shots-") as tmp:
        db_url = f"sqlite:///{tmp}/parley.db"
        migrate_to_head(db_url)
        server = Server({"DATABASE_URL": db_url}).start()
        visitors: list[Client] = []
        try:
            _, visitors = populate(Api(server.url), server.url)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                paths = take_console_screenshots(
                    browser, server.url, ROOT / "docs" / "screenshots", visitors
                )
                browser.close()
        finally:
            for client in visitors:
                client.disconnect()
            server.stop()
    for path in paths:
        print(f"{path.relative_to(ROOT)} {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
