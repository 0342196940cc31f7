"""Encryption at rest on the real path: Socket.IO sends to a live server (the group-commit
writer's raw SQL on PostgreSQL) leave no plaintext in ``messages``; sync, history and search
still answer in plaintext."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest

from tests.live import Api, Client, Server

WORDS = ("lighthouse", "quokka", "saffron", "umbrella")


@pytest.fixture
def clients(live_server: Server) -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.disconnect()


def test_socket_sends_are_stored_encrypted_and_read_back_in_plaintext(
    api: Api, live_server: Server, pg_url: str, clients: list[Client]
) -> None:
    owner = api.signup()
    visitor = api.visitor(api.site(owner["token"]))
    transports = ["polling", "websocket"]
    guest = Client(live_server.url, {"visitor_token": visitor["visitor_token"]}, transports)
    agent = Client(live_server.url, {"token": owner["token"]}, transports)
    clients += [guest.connect(), agent.connect()]
    first = guest.send("Is the lighthouse tour open?")  # opens the ticket (per-message path)
    assert first["ok"], first
    ticket_id = first["message"]["ticket_id"]
    assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"]
    sent = [
        guest.send("I saw a quokka there", ticket_id),  # the writer's batches from here on
        agent.send("Saffron tea is served at noon", ticket_id),
        agent.send("Bring an umbrella, says ops", ticket_id, kind="note"),
    ]
    assert all(ack["ok"] for ack in sent), sent

    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT kind, body, search_terms FROM messages WHERE ticket_id = %s ORDER BY seq",
            (ticket_id,),
        )
        rows = cur.fetchall()
    conn.close()
    assert [k for k, _, _ in rows if k != "event"] == ["text", "text", "text", "note"]
    for _kind, body, terms in rows:
        assert body.startswith("pe1:") and terms
        assert not [w for w in WORDS if w in (body + terms).lower()], body

    synced = agent.call("sync", {"tickets": {ticket_id: 0}})
    assert synced["ok"], synced
    bodies = [m["body"] for m in synced["messages"] if m["kind"] != "event"]
    assert bodies == [
        "Is the lighthouse tour open?",
        "I saw a quokka there",
        "Saffron tea is served at noon",
        "Bring an umbrella, says ops",
    ]
    history = api.call("GET", f"/tickets/{ticket_id}/messages", visitor["visitor_token"])
    assert "Bring an umbrella, says ops" not in [m["body"] for m in history["messages"]]
    assert "I saw a quokka there" in [m["body"] for m in history["messages"]]
    for word in ("QUOKKA", "umbrella"):
        found = api.call("GET", "/tickets", owner["token"], params={"q": word})
        assert [t["id"] for t in found["tickets"]] == [ticket_id]
