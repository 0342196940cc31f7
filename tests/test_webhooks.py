"""Outgoing webhooks: managed by owners and admins, signed, retried, logged, and never sent
to loopback or private addresses unless the configuration allows it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.extensions import db
from app.jobs.runner import set_backend
from app.lib.timeutil import utcnow
from app.limits import DELIVERY_PAGE_MAX, MAX_WEBHOOKS_PER_SITE
from app.models import Delivery
from tests import factories as f
from tests.pushstub import JobRecorder


class Receiver:
    """A webhook receiver on loopback: records each request; answers scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/parley"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(r["body"])["type"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def jobs(app: Flask) -> JobRecorder:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    app.config["DELIVERY_RETRY_BASE_S"] = 3.0
    recorder = JobRecorder(app)
    set_backend(recorder)
    return recorder


def _create(client: FlaskClient, owner: f.Owner, site_id: str, url: str, events: list[str]) -> Any:
    return client.post(
        f"/api/v1/sites/{site_id}/webhooks",
        headers=owner.headers,
        json={"url": url, "events": events},
    )


def _hook(
    client: FlaskClient, owner: f.Owner, site_id: str, url: str, events: list[str]
) -> dict[str, Any]:
    r = _create(client, owner, site_id, url, events)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["webhook"]  # type: ignore[no-any-return]


def _due_now(app: Flask) -> None:
    with app.app_context():
        db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
        db.session.commit()


def test_signed_message_and_ticket_events_reach_the_receiver(
    client: FlaskClient, jobs: JobRecorder, receiver: Receiver
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    hook = _hook(
        client,
        owner,
        site["id"],
        receiver.url,
        ["message.created", "ticket.created", "ticket.updated"],
    )
    assert hook["secret"].startswith("whsec_") and hook["events"] == sorted(hook["events"])
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "Hi there")
    jobs.run()
    r = client.patch(
        f"/api/v1/tickets/{ticket['id']}", headers=owner.headers, json={"status": "pending"}
    )
    assert r.status_code == 200
    jobs.run()
    assert sorted(receiver.events()) == sorted(
        ["message.created", "ticket.created", "message.created", "ticket.updated"]
    )
    for request in receiver.requests:
        body, headers = request["body"], request["headers"]
        expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Parley-Signature"] == expected
        payload = json.loads(body)
        assert headers["X-Parley-Event"] == payload["type"]
        assert headers["X-Parley-Delivery"] == payload["id"]
        assert headers["Content-Type"] == "application/json"
    by_type = {json.loads(r["body"])["type"]: json.loads(r["body"]) for r in receiver.requests}
    assert by_type["ticket.created"]["data"]["ticket"]["id"] == ticket["id"]
    assert by_type["ticket.updated"]["data"]["ticket"]["status"] == "pending"
    first = [
        json.loads(r["body"])
        for r in receiver.requests
        if json.loads(r["body"])["type"] == "message.created"
    ]
    assert [m["data"]["message"]["body"] for m in first][0] == "Hi there"


def test_only_subscribed_events_of_the_webhooks_own_site_are_sent(
    client: FlaskClient, jobs: JobRecorder, receiver: Receiver
) -> None:
    owner = f.signup(client)
    site, other_site = f.create_site(client, owner), f.create_site(client, owner, name="Other")
    _hook(client, owner, site["id"], receiver.url, ["ticket.created"])
    f.start_ticket(client, f.widget_session(client, other_site), "Elsewhere")
    f.start_ticket(client, f.widget_session(client, site), "Here")
    jobs.run()
    assert receiver.events() == ["ticket.created"]


def test_failed_deliveries_are_retried_with_backoff_and_logged(
    app: Flask, client: FlaskClient, jobs: JobRecorder, receiver: Receiver
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    hook = _hook(client, owner, site["id"], receiver.url, ["ticket.created"])
    receiver.script = [(500, {}), (503, {}), (429, {"Retry-After": "11"})]
    f.start_ticket(client, f.widget_session(client, site))
    jobs.run()
    delays = []
    for _ in range(3):
        [(_, _, delay)] = jobs.delayed("deliver")
        delays.append(delay)
        _due_now(app)
        jobs.run(delayed=True)
    assert delays == [3.0, 6.0, 11.0]
    assert len(receiver.requests) == 4
    # Every attempt carries the same delivery id, so the receiver can drop repeats.
    assert len({r["headers"]["X-Parley-Delivery"] for r in receiver.requests}) == 1
    r = client.get(
        f"/api/v1/sites/{site['id']}/webhooks/{hook['id']}/deliveries", headers=owner.headers
    )
    assert r.status_code == 200
    [entry] = r.get_json()["deliveries"]
    assert entry["event"] == "ticket.created"
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 4, 200)
    assert entry["delivered_at"] is not None


def test_a_4xx_or_a_redirect_is_not_retried(
    app: Flask, client: FlaskClient, jobs: JobRecorder, receiver: Receiver
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _hook(client, owner, site["id"], receiver.url, ["message.created"])
    receiver.script = [(400, {}), (302, {"Location": "http://169.254.169.254/"})]
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "One")
    assert f.send(client, visitor.headers, ticket["id"], "Two").status_code == 201
    jobs.run()
    assert jobs.delayed() == [] and len(receiver.requests) == 2
    with app.app_context():
        rows = db.session.scalars(select(Delivery).order_by(Delivery.created_at)).all()
        assert sorted((d.status, d.last_status_code) for d in rows) == [
            ("failed", 302),
            ("failed", 400),
        ]


def test_private_targets_are_refused_unless_configured(
    app: Flask, client: FlaskClient, jobs: JobRecorder, receiver: Receiver
) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    owner = f.signup(client)
    site = f.create_site(client, owner)
    for url in (
        receiver.url,
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "http://example.com/plain-http",
        "https://user:pw@example.com/hook",
    ):
        body = f.assert_error(
            _create(client, owner, site["id"], url, ["ticket.created"]), 422, "invalid"
        )
        assert "url" in body["fields"], url
    # Allowed when created, refused when sent: the address is checked at connect time too.
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    _hook(client, owner, site["id"], receiver.url, ["ticket.created"])
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    f.start_ticket(client, f.widget_session(client, site))
    jobs.run()
    assert receiver.requests == [] and jobs.delayed() == []
    with app.app_context():
        [delivery] = db.session.scalars(select(Delivery)).all()
        assert delivery.status == "failed" and "non-public" in (delivery.last_error or "")


def test_webhooks_are_managed_by_owners_and_admins_of_the_workspace(
    client: FlaskClient, receiver: Receiver, jobs: JobRecorder
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    agent = f.add_agent(client, owner)
    stranger = f.signup(client, workspace="Other Co")
    f.assert_error(
        _create(client, agent, site["id"], receiver.url, ["ticket.created"]), 403, "forbidden"
    )
    f.assert_error(
        _create(client, stranger, site["id"], receiver.url, ["ticket.created"]), 404, "not_found"
    )
    hook = _hook(client, owner, site["id"], receiver.url, ["ticket.created"])
    listed = client.get(f"/api/v1/sites/{site['id']}/webhooks", headers=owner.headers).get_json()
    assert [h["id"] for h in listed["webhooks"]] == [hook["id"]]
    for who, status, code in ((agent, 403, "forbidden"), (stranger, 404, "not_found")):
        f.assert_error(
            client.get(f"/api/v1/sites/{site['id']}/webhooks", headers=who.headers), status, code
        )
        path = f"/api/v1/sites/{site['id']}/webhooks/{hook['id']}"
        f.assert_error(client.delete(path, headers=who.headers), status, code)
        f.assert_error(client.get(path + "/deliveries", headers=who.headers), status, code)
    r = client.delete(f"/api/v1/sites/{site['id']}/webhooks/{hook['id']}", headers=owner.headers)
    assert r.status_code == 204
    assert client.get(f"/api/v1/sites/{site['id']}/webhooks", headers=owner.headers).get_json() == {
        "webhooks": []
    }
    f.assert_error(
        client.delete(f"/api/v1/sites/{site['id']}/webhooks/{hook['id']}", headers=owner.headers),
        404,
        "not_found",
    )


def test_webhook_input_is_checked(
    client: FlaskClient, receiver: Receiver, jobs: JobRecorder
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    for events in ([], ["message.deleted"], "ticket.created"):
        body = f.assert_error(
            _create(client, owner, site["id"], receiver.url, events), 422, "invalid"
        )  # type: ignore[arg-type]
        assert "events" in body["fields"]
    f.assert_error(
        _create(client, owner, site["id"], "not a url", ["ticket.created"]), 422, "invalid"
    )
    for _ in range(MAX_WEBHOOKS_PER_SITE):
        _hook(client, owner, site["id"], receiver.url, ["ticket.created"])
    f.assert_error(
        _create(client, owner, site["id"], receiver.url, ["ticket.created"]), 422, "invalid"
    )
    hook = client.get(f"/api/v1/sites/{site['id']}/webhooks", headers=owner.headers).get_json()
    path = f"/api/v1/sites/{site['id']}/webhooks/{hook['webhooks'][0]['id']}/deliveries"
    for limit in (0, DELIVERY_PAGE_MAX + 1, "many"):
        f.assert_error(client.get(f"{path}?limit={limit}", headers=owner.headers), 422, "invalid")
