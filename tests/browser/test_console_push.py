"""Web push in the console, end to end: the settings toggle subscribes this browser, the server
pushes (VAPID-signed, encrypted) to the subscription while the agent is away, and the console's
service worker shows the notification for the ticket, whose click opens the ticket (the
browser vendor's push service is played by tests/browser/push_support.py)."""

from __future__ import annotations

import time

from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import make_site
from tests.browser.console_support import console_built, sign_in, ticket_item, visitor_client
from tests.browser.push_support import PushService, fake_push_service
from tests.live import Api, Server
from tests.pushstub import PushStub, Subscriber

__all__ = ["console_built"]


def test_push_toggle_subscribes_and_a_push_shows_a_notification_for_the_ticket(
    console_built: None, push_server: tuple[Server, str], page: Page
) -> None:
    server, public_key = push_server
    api = Api(server.url)
    workspace = api.signup("Pushy Shoes")
    site = make_site(api, workspace["token"], [])
    with PushStub(public_key) as stub:
        sub: Subscriber = stub.subscriber()
        page.context.grant_permissions(["notifications"], origin=server.url)
        page.add_init_script(fake_push_service(sub))
        sign_in(page, server.url, workspace["agent"]["email"])

        # The visitor writes while the agent is online: routing gives the agent the ticket.
        visitor, _ = visitor_client(server.url, api, site)
        try:
            assert visitor.send("Where are my shoes?")["ok"]
            expect(ticket_item(page, "Where are my shoes?")).to_be_visible()

            page.goto(server.url + "/console/#/settings/notifications")
            status = page.get_by_role("status").filter(has_text="ush")
            expect(status).to_contain_text("Push notifications are off for this browser.")
            # On, off and on again: each click subscribes or unsubscribes on the server.
            for button, method, code in (("on", "POST", 201), ("off", "DELETE", 204)) * 2:

                def subscriptions(r: Response, m: str = method) -> bool:
                    return r.url.endswith("/push/subscriptions") and r.request.method == m

                with page.expect_response(subscriptions) as answer:
                    page.get_by_role("button", name=f"Turn push {button}").click()
                assert answer.value.status == code
            page.get_by_role("button", name="Turn push on").click()
            expect(status).to_contain_text("Push notifications are on for this browser")
            expect(page.get_by_role("button", name="Turn push off")).to_be_visible()
            # The console subscribed with this server's VAPID key, for visible notifications.
            assert page.evaluate("window.__serverKey") == public_key
            assert page.evaluate("window.__userVisibleOnly") is True
            service = PushService(page, server.url + "/console/")
            service.registration()

            # The agent goes away (the console closes its socket); the visitor writes again.
            page.goto("about:blank")
            time.sleep(0.5)
            assert visitor.send("Hello? Anyone?")["ok"]
            pushes = stub.wait_for(sub, 1)
        finally:
            visitor.disconnect()
        payload = pushes[-1]["payload"]
        assert "Hello? Anyone?" in payload["body"], payload
        assert payload["ticket_id"], payload

        # The push service hands the payload to the console's service worker.
        page.goto(server.url + "/console/")
        service.deliver(server.url, payload)
        shown = service.notifications(page)
        assert len(shown) == 1, shown
        assert shown[0]["title"] == payload["title"]
        assert "Hello? Anyone?" in shown[0]["body"]
        assert shown[0]["data"] == {"ticket_id": payload["ticket_id"]}
        assert shown[0]["tag"] == f"parley-{payload['ticket_id']}"

        # A click on it opens that ticket in the open console and closes the notification.
        page.goto(server.url + "/console/#/settings/notifications")
        service.click_notification(page)
        expect(page).to_have_url(f"{server.url}/console/#/inbox/{payload['ticket_id']}")
        expect(page.locator(".msg.visitor .body").last).to_have_text("Hello? Anyone?")
        assert service.notifications(page, expected=0) == []
