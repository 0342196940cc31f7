"""Web push for visitors, on a site that serves our service worker from its own origin
(``data-push-sw``): the widget offers it once there is a conversation, the host page
subscribes, the frame stores the subscription, an agent's reply is pushed while the visitor
is away and the site's service worker shows it (the browser vendor's push service is played
by tests/browser/push_support.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import FRAME, LAUNCHER, HostSite, make_site
from tests.browser.push_support import PushService, fake_push_service
from tests.live import Api, Client, Server
from tests.pushstub import PushStub


@pytest.fixture(scope="module")
def push_host(push_server: tuple[Server, str]) -> Iterator[HostSite]:
    site = HostSite(push_server[0].url).start()
    yield site
    site.stop()


def test_visitor_turns_on_push_and_an_agent_reply_reaches_the_sites_service_worker(
    push_server: tuple[Server, str], push_host: HostSite, page: Page
) -> None:
    server, public_key = push_server
    api = Api(server.url)
    workspace = api.signup("Pushy Shoes")
    api.call("PATCH", "/workspace", workspace["token"], json={"routing": {"mode": "manual"}})
    site = make_site(api, workspace["token"], [push_host.origin])
    page_url = push_host.page_url(site["site_key"], push="1")
    agent = Client(server.url, {"token": workspace["token"]}, ["websocket"]).connect()
    with PushStub(public_key) as stub:
        sub = stub.subscriber()
        page.context.grant_permissions(["notifications"], origin=push_host.origin)
        page.add_init_script(fake_push_service(sub))
        try:
            page.goto(page_url)
            page.locator(LAUNCHER).click()
            chat = page.frame_locator(FRAME)
            offer = chat.locator(".pu")
            chat.locator("textarea").fill("Do you ship to Spain?")
            chat.locator("textarea").press("Enter")
            # Offered only once there is a conversation to be notified about.
            expect(offer).to_contain_text("Get a notification when we reply?")
            offer.get_by_role("button", name="Notify me").click()
            expect(offer).to_have_text("We'll notify you when we reply.")
            # The host page subscribed with the server's key; the frame stored it.
            assert page.evaluate("window.__serverKey") == public_key

            created = agent.wait_for("ticket:created", timeout=20)
            ticket_id = created["ticket"]["id"]
            assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"]
            # The visitor leaves; the agent answers.
            page.goto("about:blank")
            time.sleep(0.5)
            assert agent.send("Yes, we do: 3 to 5 days.", ticket_id)["ok"]
            payload = stub.wait_for(sub, 1)[-1]["payload"]
        finally:
            agent.disconnect()
    assert "Yes, we do: 3 to 5 days." in payload["body"], payload
    assert payload["ticket_id"] == ticket_id
    assert payload["url"] == page_url  # the page the chat was on

    # The push service hands it to the site's service worker, which shows it.
    page.goto(page_url)
    service = PushService(page, push_host.origin + "/")
    service.deliver(push_host.origin, payload)
    shown = service.notifications(page)
    assert len(shown) == 1, shown
    assert "Yes, we do: 3 to 5 days." in shown[0]["body"]
    assert shown[0]["data"] == {"url": page_url, "ticket_id": ticket_id}


def test_the_push_offer_needs_the_sites_service_worker(
    push_server: tuple[Server, str], push_host: HostSite, page: Page
) -> None:
    server, _ = push_server
    api = Api(server.url)
    workspace = api.signup("Quiet Shoes")
    site = make_site(api, workspace["token"], [push_host.origin])
    page.context.grant_permissions(["notifications"], origin=push_host.origin)
    page.goto(push_host.page_url(site["site_key"]))  # no data-push-sw on this site
    page.locator(LAUNCHER).click()
    chat = page.frame_locator(FRAME)
    chat.locator("textarea").fill("Hello")
    chat.locator("textarea").press("Enter")
    expect(chat.locator(".m.me")).to_contain_text("Hello")
    expect(chat.locator(".pu")).to_be_hidden()


def test_our_service_worker_file_is_served_for_sites_to_copy(
    push_server: tuple[Server, str], push_host: HostSite, page: Page
) -> None:
    answer = page.request.get(push_server[0].url + "/widget/sw.js")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert "notificationclick" in answer.text()
