"""PostgreSQL gone for 5 s: sends fail with ``unavailable``, nothing crashes, sends succeed
after (the group-commit writer and the connection pool both reconnect)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from app import create_app
from app.extensions import db
from app.services import message_writer
from tests.factories import bearer, create_site, send, signup, start_ticket, widget_session
from tests.faults.conftest import stored_messages, through
from tests.faults.tools import TcpProxy
from tests.live import Api, Client, Server

OUTAGE_S = 5.0
#: The issue's liveness deadline for sends to work again once PostgreSQL is back.
RECOVERY_S = 10.0


@pytest.fixture
def server(pg_url: str, pg_proxy: TcpProxy) -> Iterator[Server]:
    server = Server({"DATABASE_URL": through(pg_url, pg_proxy.port)}).start()
    yield server
    server.stop()
    print("SERVER LOG", server.log_path)


def test_sends_fail_unavailable_while_postgres_is_gone_and_succeed_after(
    server: Server, pg_proxy: TcpProxy, pg_url: str
) -> None:
    api = Api(server.url)
    owner = api.signup()
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    session = api.visitor(site)
    guest = Client(server.url, {"visitor_token": session["visitor_token"]}, ["polling"]).connect()
    agent = Client(server.url, {"token": owner["token"]}, ["polling", "websocket"]).connect()
    try:
        first = guest.send("before the outage")
        assert first["ok"], first
        ticket_id = first["message"]["ticket_id"]
        assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"]
        assert agent.send("hello, how can I help?", ticket_id)["ok"]  # both paths warmed up

        pg_proxy.cut()
        cut_at = time.monotonic()
        refused: list[tuple[Client, str, str]] = []
        n = 0
        while time.monotonic() - cut_at < OUTAGE_S:
            n += 1
            for who, client in (("guest", guest), ("agent", agent)):
                cid, body = uuid.uuid4().hex, f"{who} during the outage {n}"
                ack = client.send(body, ticket_id, cid)
                assert not ack["ok"] and ack["error"]["code"] == "unavailable", ack
                refused.append((client, cid, body))
            # A visitor's send without a ticket takes the per-message path: refused too.
            ack = guest.call("message:send", {"client_id": uuid.uuid4().hex, "body": "new?"})
            assert ack["error"]["code"] == "unavailable", ack
            r = requests.get(f"{server.url}/api/v1/tickets", headers=_bearer(owner), timeout=10)
            assert (r.status_code, r.json()["error"]["code"]) == (503, "unavailable"), r.text
            assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 503
            time.sleep(0.3)
        assert n >= 2 and server.proc is not None and server.proc.poll() is None
        assert guest.sio.connected and agent.sio.connected, "the outage must not drop sockets"

        pg_proxy.restore()
        restored_at = time.monotonic()
        client, cid, body = refused[0]
        while True:  # resend the first refused message (same client_id) until it goes through
            ack = client.send(body, ticket_id, cid)
            if ack["ok"]:
                break
            assert ack["error"]["code"] == "unavailable", ack
            assert time.monotonic() - restored_at < RECOVERY_S, "sends still fail after 10 s"
            time.sleep(0.2)
        for client, cid, body in refused:
            ack = client.send(body, ticket_id, cid)
            assert ack["ok"] and ack["message"]["body"] == body, ack
        more = guest.call("message:send", {"client_id": "more", "body": "no ticket_id"})
        assert more["ok"] and more["message"]["ticket_id"] == ticket_id, more
        assert api.call("GET", "/tickets", owner["token"])["tickets"][0]["id"] == ticket_id
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200

        # Every refused message, sent again, is stored exactly once and reaches the agent.
        rows = stored_messages(pg_url, [ticket_id])
        assert [r[1] for r in rows] == list(range(1, len(rows) + 1))
        assert sorted(r[4] for r in rows[2:]) == sorted([c for _, c, _ in refused] + ["more"])
        last_body = refused[-1][2]
        agent.wait_for("message:new", lambda d: d["message"]["body"] == last_body)
        synced = guest.call("sync", {"tickets": {ticket_id: 0}})
        assert [m["seq"] for m in synced["messages"]] == [r[1] for r in rows]
    finally:
        guest.disconnect()
        agent.disconnect()


def test_the_group_commit_writer_reconnects_after_an_outage(
    pg_url: str, pg_proxy: TcpProxy
) -> None:
    """After PostgreSQL is back, sends are stored by the writer's batches again, not only by
    the per-message path it falls back on (which would hide a writer stuck on a dead
    connection)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": through(pg_url, pg_proxy.port),
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
        }
    )
    client = app.test_client()
    owner = signup(client)
    visitor = widget_session(client, create_site(client, owner))
    ticket_id = start_ticket(client, visitor)["id"]
    with app.app_context():
        writer = message_writer.writer_for_app()
    assert writer is not None
    assert send(client, visitor.headers, ticket_id, "before").status_code == 201
    stored_before = writer.batches

    pg_proxy.cut()
    r = send(client, bearer(owner.token), ticket_id, "during", "during")
    assert (r.status_code, r.get_json()["error"]["code"]) == (503, "unavailable")
    assert writer.batches == stored_before
    pg_proxy.restore()

    deadline = time.monotonic() + RECOVERY_S
    while (
        r := send(client, bearer(owner.token), ticket_id, "during", "during")
    ).status_code != 201:
        assert r.status_code == 503 and time.monotonic() < deadline, r.get_json()
        time.sleep(0.2)
    assert send(client, visitor.headers, ticket_id, "after").status_code == 201
    assert writer.batches > stored_before
    with app.app_context():
        db.engine.dispose()


def _bearer(owner: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {owner['token']}"}
