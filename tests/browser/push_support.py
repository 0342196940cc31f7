"""Web push in headless Chromium, which cannot reach a browser vendor's push service.

``FAKE_PUSH_SERVICE`` (an init script) makes ``PushManager.subscribe`` hand out a subscription
of the loopback push stub (``tests/pushstub.py``, which verifies VAPID and decrypts like a
real push service) and records the server key it was given. ``PushService`` then plays the
vendor's part for a page: it delivers what the stub decrypted to the page's real service
worker through the DevTools protocol, and reads the notifications that worker showed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.sync_api import Page

from tests.pushstub import Subscriber

_FAKE_PUSH_SERVICE = """
(() => {
  const sub = %s;
  let current = null;
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__serverKey = btoa(String.fromCharCode(...key))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    window.__userVisibleOnly = options.userVisibleOnly;
    current = {
      endpoint: sub.endpoint,
      toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""


def fake_push_service(sub: Subscriber) -> str:
    """The init script that subscribes this browser to ``sub`` of the stub."""
    return _FAKE_PUSH_SERVICE % json.dumps(sub.subscription)


class PushService:
    """Delivers pushes to the service worker registered for ``scope`` in ``page``'s browser."""

    def __init__(self, page: Page, scope: str) -> None:
        self.page = page
        self.scope = scope
        self.cdp = page.context.new_cdp_session(page)
        self.registrations: dict[str, str] = {}
        self.cdp.on("ServiceWorker.workerRegistrationUpdated", self._updated)
        self.cdp.send("ServiceWorker.enable")

    def _updated(self, event: dict[str, Any]) -> None:
        for reg in event["registrations"]:
            if not reg.get("isDeleted"):
                self.registrations[reg["scopeURL"]] = reg["registrationId"]

    def registration(self) -> str:
        """The DevTools id of the worker registered for the scope (waits up to 10 s)."""
        deadline = time.monotonic() + 10
        while self.scope not in self.registrations and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
        assert self.scope in self.registrations, (self.scope, self.registrations)
        return self.registrations[self.scope]

    def deliver(self, origin: str, payload: dict[str, Any]) -> None:
        self.cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": self.registration(), "data": json.dumps(payload)},
        )

    def notifications(self, page: Page, expected: int = 1) -> list[dict[str, Any]]:
        """What the worker shows now, read from a page of its origin (waits up to 10 s)."""
        shown: list[dict[str, Any]] = []
        deadline = time.monotonic() + 10
        while len(shown) < expected and time.monotonic() < deadline:
            shown = page.evaluate(
                """async (scope) => {
                  const reg = await navigator.serviceWorker.getRegistration(scope);
                  const list = reg ? await reg.getNotifications() : [];
                  return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag,
                                            data: n.data }));
                }""",
                self.scope,
            )
            if len(shown) < expected:
                page.wait_for_timeout(100)
        return shown

    def click_notification(self, page: Page) -> None:
        """Click the worker's first notification, as the agent would: a ``notificationclick``
        dispatched inside the worker (no automation can press a system notification; the
        event is untrusted, so the handler's ``waitUntil`` throws, after its work started)."""
        worker = next(
            (w for w in page.context.service_workers if w.url.startswith(self.scope)), None
        )
        if worker is None:
            worker = page.context.wait_for_event("serviceworker", timeout=10_000)
        worker.evaluate(
            """async () => {
              const [note] = await self.registration.getNotifications();
              const click = new NotificationEvent("notificationclick", { notification: note });
              self.dispatchEvent(click);
            }"""
        )
