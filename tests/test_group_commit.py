"""Concurrent sends stored together (group commit on PostgreSQL) keep every promise of the
message path: gapless per-ticket seqs, one stored message per client_id, notes agents-only,
and the per-message path's decisions for everything unusual. The same tests run on SQLite,
where each message has its own transaction, and must give the same answers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.services import message_writer
from tests.factories import (
    bearer,
    create_site,
    send,
    signup,
    start_ticket,
    widget_session,
)


def _at_once(app: Flask, calls: list[Callable[[FlaskClient], Any]]) -> list[Any]:
    """Run each call on its own thread and client, released together; results in order."""
    results: list[Any] = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(i: int) -> None:
        client = app.test_client()
        gate.wait()
        results[i] = calls[i](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def _history(client: FlaskClient, headers: dict[str, str], ticket_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/tickets/{ticket_id}/messages?limit=200", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["messages"]  # type: ignore[no-any-return]


def _world(client: FlaskClient) -> tuple[Any, list[Any], list[dict[str, Any]]]:
    owner = signup(client)
    site = create_site(client, owner)
    visitors = [widget_session(client, site) for _ in range(3)]
    tickets = [start_ticket(client, v) for v in visitors]
    return owner, visitors, tickets


def test_concurrent_sends_to_several_tickets_get_gapless_seqs(app: Flask, client: FlaskClient):
    owner, visitors, tickets = _world(client)
    calls: list[Callable[[FlaskClient], Any]] = []
    for v, t in zip(visitors, tickets, strict=True):
        for n in range(10):
            calls.append(lambda c, v=v, t=t, n=n: send(c, v.headers, t["id"], f"v{n}"))
            calls.append(lambda c, t=t, n=n: send(c, bearer(owner.token), t["id"], f"a{n}"))
    responses = _at_once(app, calls)
    assert [r.status_code for r in responses] == [201] * len(calls)
    for v, t in zip(visitors, tickets, strict=True):
        history = _history(client, bearer(owner.token), t["id"])
        assert [m["seq"] for m in history] == list(range(1, 22))  # the first message + 20
        mine = [m["body"] for m in history if m["sender"]["type"] == "visitor"][1:]
        assert sorted(mine) == sorted(f"v{n}" for n in range(10))
        # Each sender's own position moved with its messages: nothing of its own is unread.
        r = client.get(f"/api/v1/tickets/{t['id']}", headers=v.headers)
        assert r.get_json()["ticket"]["last_seq"] == 21


def test_resends_in_one_gathering_store_one_message(app: Flask, client: FlaskClient):
    owner, visitors, tickets = _world(client)
    client_id = uuid.uuid4().hex
    visitor, ticket = visitors[0], tickets[0]
    responses = _at_once(
        app,
        [lambda c: send(c, visitor.headers, ticket["id"], "once", client_id) for _ in range(8)],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 7 + [201]
    ids = {r.get_json()["message"]["id"] for r in responses}
    assert len(ids) == 1
    bodies = [m["body"] for m in _history(client, bearer(owner.token), ticket["id"])]
    assert bodies.count("once") == 1
    # A resend later, outside any gathering, still finds it.
    again = send(client, visitor.headers, ticket["id"], "once", client_id)
    assert again.status_code == 200
    assert again.get_json()["message"]["id"] in ids


def test_unusual_sends_in_a_gathering_get_the_usual_answers(app: Flask, client: FlaskClient):
    owner, visitors, tickets = _world(client)
    agent = bearer(owner.token)
    resolved = tickets[1]
    r = client.patch(
        f"/api/v1/tickets/{resolved['id']}", headers=agent, json={"status": "resolved"}
    )
    assert r.status_code == 200
    other_visitor = visitors[2]
    responses = _at_once(
        app,
        [
            lambda c: send(c, visitors[0].headers, tickets[0]["id"], "fine"),
            lambda c: send(c, agent, tickets[0]["id"], "internal", kind="note"),
            lambda c: send(c, visitors[0].headers, tickets[0]["id"], "sneaky", kind="note"),
            lambda c: send(c, other_visitor.headers, tickets[0]["id"], "not mine"),
            lambda c: send(c, visitors[1].headers, resolved["id"], "me again"),
        ],
    )
    assert [r.status_code for r in responses] == [201, 201, 403, 404, 201]
    # The visitor's message reopened its resolved ticket, as a single send does.
    r = client.get(f"/api/v1/tickets/{resolved['id']}", headers=agent)
    assert r.get_json()["ticket"]["status"] == "open"
    seen_by_visitor = [m["body"] for m in _history(client, visitors[0].headers, tickets[0]["id"])]
    assert "internal" not in seen_by_visitor and "fine" in seen_by_visitor
    assert "internal" in [m["body"] for m in _history(client, agent, tickets[0]["id"])]


def test_concurrent_sends_share_transactions_on_postgresql(app: Flask, client: FlaskClient):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("group commit is PostgreSQL's; SQLite writes one message at a time")
    owner, visitors, tickets = _world(client)
    with app.app_context():
        writer = message_writer.writer_for_app()
    assert writer is not None
    before = writer.batches
    calls = [
        (lambda c, v=v, t=t, n=n: send(c, v.headers, t["id"], f"m{n}"))
        for v, t in zip(visitors, tickets, strict=True)
        for n in range(10)
    ]
    responses = _at_once(app, calls)
    assert all(r.status_code == 201 for r in responses)
    assert 0 < writer.batches - before < len(calls)


def test_group_commit_can_be_switched_off(database_url: str):
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            "GROUP_COMMIT": False,
        }
    )
    with app.app_context():
        assert message_writer.writer_for_app() is None
