"""A visitor's data: GET /visitors/{id}/export and DELETE /visitors/{id} (owners and admins).

Two visitors of one site each get a ticket with replies, a note, a rating, a bot reply, a
push subscription, an e-mail outbox entry and notification state; the export of one holds
its data and nothing of the other; erasing one leaves no row naming it in any table (the
audit log and the tombstone aside), refuses its token, and leaves the other untouched.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.lib.timeutil import utcnow
from app.models import BotReply, Delivery, NotificationWindow, PushSubscription
from app.services import privacy
from tests import factories as f
from tests.pushstub import Subscriber


@dataclass
class Person:
    session: f.VisitorSession
    ticket_id: str
    marker: str
    push_endpoint: str
    p256dh: str

    @property
    def id(self) -> str:
        return str(self.session.visitor["id"])


def _person(app: Flask, client: FlaskClient, owner: f.Owner, site: dict[str, Any]) -> Person:
    """A visitor with a row in every table that can hold something about one."""
    marker = uuid.uuid4().hex[:10]
    v = f.widget_session(client, site)
    r = client.patch(
        "/api/v1/widget/visitor",
        headers=v.headers,
        json={"name": f"Vera {marker}", "email": f"{marker}@example.com"},
    )
    assert r.status_code == 200, r.get_json()
    ticket = f.start_ticket(client, v, f"question {marker}")["id"]
    assert f.send(client, owner.headers, ticket, f"answer {marker}").status_code == 201
    assert f.send(client, owner.headers, ticket, f"note {marker}", kind="note").status_code == 201
    r = client.patch(
        f"/api/v1/tickets/{ticket}", headers=owner.headers, json={"status": "resolved"}
    )
    assert r.status_code == 200
    r = client.post(
        f"/api/v1/tickets/{ticket}/rating",
        headers=v.headers,
        json={"score": 4, "comment": f"rating {marker}"},
    )
    assert r.status_code in (200, 201), r.get_json()
    browser = Subscriber(
        token=marker, private_key=ec.generate_private_key(ec.SECP256R1()), auth=os.urandom(16)
    )
    browser.endpoint = f"http://127.0.0.1:9/push/{marker}"
    r = client.post("/api/v1/push/subscriptions", headers=v.headers, json=browser.subscription)
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        # What notifications and the bot leave behind (made directly: no SMTP server here).
        sub = db.session.scalar(
            select(PushSubscription).where(PushSubscription.endpoint == browser.endpoint)
        )
        assert sub is not None
        ws, sub_id = sub.workspace_id, sub.id
        # End the read: on SQLite a read transaction that a background job wrote past
        # cannot become a write ("database is locked" without waiting).
        db.session.commit()
        db.session.add_all(
            [
                Delivery(
                    workspace_id=ws,
                    channel="email",
                    idempotency_key=f"email:transcript:{marker}",
                    event="transcript",
                    object_id=ticket,
                    ticket_id=ticket,
                    address=f"{marker}@example.com",
                ),
                Delivery(
                    workspace_id=ws,
                    channel="push",
                    idempotency_key=f"push:{marker}",
                    event="message",
                    object_id=ticket,
                    ticket_id=ticket,
                    subscription_id=sub_id,
                ),
                NotificationWindow(
                    workspace_id=ws,
                    ticket_id=ticket,
                    recipient_type="visitor",
                    recipient_id=v.visitor["id"],
                    last_sent_at=utcnow(),
                ),
                BotReply(
                    workspace_id=ws,
                    ticket_id=ticket,
                    client_id=f"bot-{marker}",
                    outcome="answer",
                    confidence=0.9,
                    meta={},
                    helpful=True,
                ),
            ]
        )
        db.session.commit()
    return Person(v, ticket, marker, browser.endpoint, browser.keys["p256dh"])


def _world(app: Flask, client: FlaskClient) -> tuple[f.Owner, Person, Person]:
    app.config["PUSH_ALLOW_PRIVATE"] = True
    owner = f.signup(client)
    site = f.create_site(client, owner)
    return owner, _person(app, client, owner, site), _person(app, client, owner, site)


def _rows_naming(app: Flask, *needles: str) -> dict[str, int]:
    """Rows of every table (the audit log and the tombstones aside) whose text holds a needle."""
    found: dict[str, int] = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name in ("audit_log", "erased_visitors"):
                continue
            for row in db.session.execute(select(table)):
                text = json.dumps([str(v) for v in row])
                if any(n in text for n in needles):
                    found[table.name] = found.get(table.name, 0) + 1
        db.session.rollback()
    return found


def test_export_holds_the_visitors_data_and_nothing_of_another(
    app: Flask, client: FlaskClient
) -> None:
    owner, vera, other = _world(app, client)
    r = client.get(f"/api/v1/visitors/{vera.id}/export", headers=owner.headers)
    assert r.status_code == 200, r.get_json()
    assert "attachment" in r.headers["Content-Disposition"]
    doc = r.get_json()
    assert doc["visitor"]["id"] == vera.id
    assert doc["visitor"]["email"] == f"{vera.marker}@example.com"
    assert doc["visitor"]["name"] == f"Vera {vera.marker}"
    [ticket] = doc["tickets"]
    assert ticket["id"] == vera.ticket_id
    bodies = [m["body"] for m in ticket["messages"]]
    assert f"question {vera.marker}" in bodies and f"answer {vera.marker}" in bodies
    assert [m["seq"] for m in ticket["messages"]] == sorted(m["seq"] for m in ticket["messages"])
    # Agents' notes are theirs: withheld and counted, unless asked for.
    assert f"note {vera.marker}" not in bodies and ticket["notes_withheld"] == 1
    assert ticket["rating"]["score"] == 4
    assert ticket["rating"]["comment"] == f"rating {vera.marker}"
    assert ticket["bot_replies"][0]["helpful"] is True
    assert [s["endpoint_origin"] for s in doc["push_subscriptions"]] == ["http://127.0.0.1"]
    assert {(n["channel"], n["address"]) for n in doc["notifications"]} == {
        ("email", f"{vera.marker}@example.com"),
        ("push", None),
    }
    text = json.dumps(doc)
    assert other.marker not in text and other.id not in text and other.ticket_id not in text
    assert vera.p256dh not in text and vera.push_endpoint not in text  # capabilities
    # With include_notes the note is there.
    r = client.get(f"/api/v1/visitors/{vera.id}/export?include_notes=true", headers=owner.headers)
    [ticket] = r.get_json()["tickets"]
    assert f"note {vera.marker}" in [m["body"] for m in ticket["messages"]]
    assert ticket["notes_withheld"] == 0
    # Both exports are on the audit log, with counts and no content.
    log = client.get(
        "/api/v1/workspace/audit?action=visitor.exported", headers=owner.headers
    ).get_json()["entries"]
    assert [e["target"]["id"] for e in log] == [vera.id, vera.id]
    assert {e["actor"]["id"] for e in log} == {owner.agent["id"]}
    assert vera.marker not in json.dumps(log)


def test_delete_erases_every_row_about_the_visitor_and_only_that(
    app: Flask, client: FlaskClient
) -> None:
    owner, vera, other = _world(app, client)
    needles_vera = (vera.id, vera.ticket_id, vera.marker)
    assert set(_rows_naming(app, *needles_vera)) >= {
        "visitors",
        "tickets",
        "participants",
        "ratings",
        "bot_replies",
        "notification_windows",
        "deliveries",
        "push_subscriptions",
    }
    before_other = _rows_naming(app, other.id, other.ticket_id, other.marker)

    r = client.delete(f"/api/v1/visitors/{vera.id}", headers=owner.headers)
    assert r.status_code == 200, r.get_json()
    deleted = r.get_json()["deleted"]
    assert deleted["tickets"] == 1 and deleted["messages"] >= 3 and deleted["ratings"] == 1
    assert deleted["push_subscriptions"] == 1 and deleted["notifications"] == 2

    assert _rows_naming(app, *needles_vera) == {}
    with app.app_context():  # messages are sealed at rest: count them by ticket instead
        from app.models import Message

        assert (
            db.session.scalars(select(Message).where(Message.ticket_id == vera.ticket_id)).all()
            == []
        )
    assert _rows_naming(app, other.id, other.ticket_id, other.marker) == before_other
    r = client.get(f"/api/v1/visitors/{other.id}/export", headers=owner.headers)
    assert r.get_json()["tickets"][0]["rating"]["comment"] == f"rating {other.marker}"

    # Gone for everyone: the console, a second delete, the export.
    for call in (client.get, client.delete):
        f.assert_error(call(f"/api/v1/visitors/{vera.id}", headers=owner.headers), 404, "not_found")
    f.assert_error(
        client.get(f"/api/v1/tickets/{vera.ticket_id}", headers=owner.headers), 404, "not_found"
    )
    # The audit entry names who erased whom, with counts only.
    [entry] = client.get(
        "/api/v1/workspace/audit?action=visitor.deleted", headers=owner.headers
    ).get_json()["entries"]
    assert entry["actor"]["id"] == owner.agent["id"]
    assert entry["target"] == {"type": "visitor", "id": vera.id}
    assert entry["details"]["tickets"] == 1
    assert vera.marker not in json.dumps(entry)


def test_an_erased_visitors_token_no_longer_works(app: Flask, client: FlaskClient) -> None:
    owner, vera, other = _world(app, client)
    assert client.delete(f"/api/v1/visitors/{vera.id}", headers=owner.headers).status_code == 200
    f.assert_error(client.get("/api/v1/tickets", headers=vera.session.headers), 401, "unauthorized")
    r = client.post(
        "/api/v1/tickets",
        headers=vera.session.headers,
        json={"client_id": uuid.uuid4().hex, "body": "I am back"},
    )
    f.assert_error(r, 401, "unauthorized")
    # The widget starts the browser afresh: a new visitor, no history, the old id not reused.
    again = f.widget_session(client, {"site_key": vera.session.site_key}, token=vera.session.token)
    assert again.visitor["id"] != vera.id
    r = client.get("/api/v1/tickets", headers=again.headers)
    assert r.status_code == 200 and r.get_json()["tickets"] == []
    assert _rows_naming(app, vera.id) == {}
    # The other visitor carries on.
    r = client.get("/api/v1/tickets", headers=other.session.headers)
    assert [t["id"] for t in r.get_json()["tickets"]] == [other.ticket_id]


def test_only_owners_and_admins_of_the_workspace_may_export_or_delete(
    app: Flask, client: FlaskClient
) -> None:
    owner, vera, _ = _world(app, client)
    agent = f.add_agent(client, owner)
    admin = f.add_agent(client, owner, role="admin")
    stranger = f.signup(client, workspace="Elsewhere")
    export, erase = f"/api/v1/visitors/{vera.id}/export", f"/api/v1/visitors/{vera.id}"
    for path, call in ((export, client.get), (erase, client.delete)):
        f.assert_error(call(path, headers=agent.headers), 403, "forbidden")
        f.assert_error(call(path, headers=vera.session.headers), 403, "forbidden")
        f.assert_error(call(path), 401, "unauthorized")
        f.assert_error(call(path, headers=stranger.headers), 404, "not_found")
    for bad in ("nope", "0" * 26):
        f.assert_error(
            client.get(f"/api/v1/visitors/{bad}/export", headers=admin.headers), 404, "not_found"
        )
    f.assert_error(
        client.get(f"{export}?include_notes=maybe", headers=admin.headers), 422, "invalid"
    )
    assert _rows_naming(app, vera.id)  # nothing was erased by the refused calls
    assert client.get(export, headers=admin.headers).status_code == 200
    with pytest.MonkeyPatch.context() as mp:  # MAX_EXPORT_MESSAGES, lowered to keep it quick
        mp.setattr(privacy, "MAX_EXPORT_MESSAGES", 2)
        doc = client.get(export, headers=admin.headers).get_json()
        assert doc["truncated"] is True
        assert [m["seq"] for m in doc["tickets"][0]["messages"]] == [1, 2]
    assert client.delete(erase, headers=admin.headers).status_code == 200
