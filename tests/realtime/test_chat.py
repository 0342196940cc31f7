"""Messages over Socket.IO: the group room, idempotency, notes, receipts and catch-up."""

from __future__ import annotations

import uuid

import pytest
import socketio

from tests.live import Api, settle
from tests.realtime.conftest import ClientFactory


def _setup(api: Api) -> tuple[dict, dict, dict]:
    owner = api.signup()
    # Chat mechanics, without automatic assignment (its system lines would take seqs).
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    visitor = api.visitor(site)
    return owner, site, visitor


def test_visitor_and_agent_chat_both_ways(api: Api, connect: ClientFactory) -> None:
    owner, _site, visitor = _setup(api)
    agent = connect({"token": owner["token"]})
    guest = connect({"visitor_token": visitor["visitor_token"]})
    ack = guest.send("Hi, my parcel is late")
    assert ack["ok"] is True
    message = ack["message"]
    assert message["seq"] == 1 and message["sender"]["type"] == "visitor"
    ticket_id = message["ticket_id"]
    created = agent.wait_for("ticket:created", lambda d: d["ticket"]["id"] == ticket_id)
    assert created["ticket"]["status"] == "open"
    joined = agent.call("ticket:join", {"ticket_id": ticket_id})
    assert joined["ok"] and [m["body"] for m in joined["messages"]] == ["Hi, my parcel is late"]
    reply = agent.send("Sorry! Let me check.", ticket_id)
    assert reply["ok"] and reply["message"]["seq"] == 2
    got = guest.wait_for("message:new", lambda d: d["message"]["seq"] == 2)
    assert got["message"]["body"] == "Sorry! Let me check."
    assert got["message"]["sender"] == {
        "type": "agent",
        "id": owner["agent"]["id"],
        "name": owner["agent"]["name"],
    }
    agent.wait_for("message:new", lambda d: d["message"]["seq"] == 1 or d["message"]["seq"] == 2)


def test_resend_after_lost_ack_stores_once_and_broadcasts_once(
    api: Api, connect: ClientFactory
) -> None:
    owner, _site, visitor = _setup(api)
    guest = connect({"visitor_token": visitor["visitor_token"]})
    first = guest.send("Hello")
    ticket_id = first["message"]["ticket_id"]
    agent = connect({"token": owner["token"]})
    agent.call("ticket:join", {"ticket_id": ticket_id})
    client_id = uuid.uuid4().hex
    one = guest.send("Are you there?", ticket_id, client_id)
    two = guest.send("Are you there?", ticket_id, client_id)
    assert one["ok"] and two["ok"]
    assert two["duplicate"] is True and "duplicate" not in one
    assert two["message"]["id"] == one["message"]["id"]
    assert two["message"]["seq"] == one["message"]["seq"] == 2
    agent.wait_for("message:new", lambda d: d["message"]["seq"] == 2)
    settle()
    assert [m["seq"] for m in agent.messages()].count(2) == 1
    history = api.call("GET", f"/tickets/{ticket_id}/messages", owner["token"])
    assert [m["seq"] for m in history["messages"]] == [1, 2]


def test_notes_reach_agents_only(api: Api, connect: ClientFactory) -> None:
    owner, _site, visitor = _setup(api)
    guest = connect({"visitor_token": visitor["visitor_token"]})
    ticket_id = guest.send("Hello")["message"]["ticket_id"]
    agent = connect({"token": owner["token"]})
    colleague_login = api.add_agent(owner["token"], "Cole League")
    colleague = connect({"token": colleague_login["token"]})
    agent.call("ticket:join", {"ticket_id": ticket_id})
    colleague.call("ticket:join", {"ticket_id": ticket_id})
    note = agent.send("VIP customer, be nice", ticket_id, kind="note")
    assert note["ok"] and note["message"]["kind"] == "note"
    colleague.wait_for("message:new", lambda d: d["message"]["kind"] == "note")
    agent.send("Hello there!", ticket_id)
    guest.wait_for("message:new", lambda d: d["message"]["body"] == "Hello there!")
    settle()
    assert all(m["kind"] != "note" for m in guest.messages())
    synced = guest.call("sync", {"tickets": {ticket_id: 0}})
    assert [m["body"] for m in synced["messages"]] == ["Hello", "Hello there!"]
    refused = guest.send("sneaky", ticket_id, kind="note")
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"


def test_sync_after_reconnect_returns_exactly_what_was_missed(
    api: Api, connect: ClientFactory
) -> None:
    owner, _site, visitor = _setup(api)
    guest = connect({"visitor_token": visitor["visitor_token"]})
    ticket_id = guest.send("Start")["message"]["ticket_id"]
    last_seq = 1
    guest.disconnect()
    agent = connect({"token": owner["token"]})
    for i in range(100):
        assert agent.send(f"update {i}", ticket_id)["ok"]
    back = connect({"visitor_token": visitor["visitor_token"]})
    held: list[dict] = []
    cursor = last_seq
    while True:
        page = back.call("sync", {"tickets": {ticket_id: cursor}})
        assert page["ok"]
        held += page["messages"]
        if not page["has_more"][ticket_id]:
            break
        cursor = held[-1]["seq"]
    assert [m["seq"] for m in held] == list(range(2, 102))
    assert [m["body"] for m in held] == [f"update {i}" for i in range(100)]


def test_bad_or_missing_credentials_are_refused_at_connect(live_server, transports) -> None:
    for auth in (
        None,
        {},
        {"token": "pk_nope"},
        {"visitor_token": "forged.token.value"},
        {"visitor_token": ""},
        {"token": 12},
    ):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(live_server.url, auth=auth, transports=transports, wait_timeout=5)
        client.disconnect()


def test_invalid_payloads_get_coded_errors(api: Api, connect: ClientFactory) -> None:
    _owner, _site, visitor = _setup(api)
    guest = connect({"visitor_token": visitor["visitor_token"]})
    cases = [
        ({"client_id": "a", "body": ""}, "invalid"),
        ({"client_id": "a", "body": "x" * 5001}, "invalid"),
        ({"client_id": "", "body": "hi"}, "invalid"),
        ({"client_id": "x" * 65, "body": "hi"}, "invalid"),
        ({"client_id": "a", "body": "hi", "extra": 1}, "invalid"),
        ({"client_id": "a", "body": "hi", "ticket_id": "nope"}, "invalid"),
        ({"client_id": "a", "body": "hi", "ticket_id": "0" * 26}, "not_found"),
        ("just a string", "invalid"),
        (None, "invalid"),
        ([1, 2], "invalid"),
    ]
    for payload, code in cases:
        ack = guest.call("message:send", payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (payload, ack)
    ok = guest.send("x" * 5000)
    assert ok["ok"] is True


def test_read_receipts_reach_the_sender(api: Api, connect: ClientFactory) -> None:
    owner, _site, visitor = _setup(api)
    guest = connect({"visitor_token": visitor["visitor_token"]})
    ticket_id = guest.send("Hello")["message"]["ticket_id"]
    agent = connect({"token": owner["token"]})
    agent.call("ticket:join", {"ticket_id": ticket_id})
    agent.emit("delivered", {"ticket_id": ticket_id, "seq": 1})
    got = guest.wait_for("delivered", lambda d: d["reader"]["type"] == "agent")
    assert got == {
        "ticket_id": ticket_id,
        "reader": {"type": "agent", "id": owner["agent"]["id"]},
        "seq": 1,
    }
    assert agent.call("read", {"ticket_id": ticket_id, "seq": 1})["ok"]
    seen = guest.wait_for("read", lambda d: d["reader"]["type"] == "agent")
    assert seen["seq"] == 1
    ticket = api.call("GET", f"/tickets/{ticket_id}", owner["token"])["ticket"]
    assert ticket["unread_count"] == 0


def test_typing_is_relayed_and_expires(api: Api, connect: ClientFactory) -> None:
    owner, _site, visitor = _setup(api)
    guest = connect({"visitor_token": visitor["visitor_token"]})
    ticket_id = guest.send("Hello")["message"]["ticket_id"]
    agent = connect({"token": owner["token"]})
    agent.call("ticket:join", {"ticket_id": ticket_id})
    agent.emit("typing", {"ticket_id": ticket_id, "typing": True})
    on = guest.wait_for("typing", lambda d: d["typing"] is True)
    assert on["sender"]["type"] == "agent" and on["ticket_id"] == ticket_id
    off = guest.wait_for("typing", lambda d: d["typing"] is False, timeout=10)
    assert off["sender"]["id"] == owner["agent"]["id"]
    assert not [d for d in agent.of("typing") if d["sender"]["type"] == "agent"]


def test_a_burst_of_changes_reaches_the_inbox_as_few_updates_with_the_latest_state(
    api: Api, connect: ClientFactory
) -> None:
    owner, _site, visitor = _setup(api)
    agent = connect({"token": owner["token"]})
    guest = connect({"visitor_token": visitor["visitor_token"]})
    ticket_id = guest.send("first")["message"]["ticket_id"]
    agent.wait_for("ticket:created", lambda d: d["ticket"]["id"] == ticket_id)
    for n in range(8):
        assert guest.send(f"burst {n}", ticket_id)["ok"]
    last = agent.wait_for(
        "ticket:updated",
        lambda d: d["ticket"]["id"] == ticket_id and d["ticket"]["last_seq"] == 9,
        timeout=5,
    )
    assert last["ticket"]["last_message"]["body"] == "burst 7"
    assert last["ticket"]["unread_count"] == 9
    settle(1.5)
    updates = [d for d in agent.of("ticket:updated") if d["ticket"]["id"] == ticket_id]
    assert 1 <= len(updates) <= 3, [u["ticket"]["last_seq"] for u in updates]
    assert updates[-1]["ticket"]["last_seq"] == 9


def test_the_visitors_ticket_updates_never_carry_an_agents_email(
    api: Api, connect: ClientFactory
) -> None:
    owner, _site, visitor = _setup(api)
    guest = connect({"visitor_token": visitor["visitor_token"]})
    ticket_id = guest.send("Hello")["message"]["ticket_id"]
    agent_id = api.call("GET", "/auth/me", owner["token"])["agent"]["id"]
    api.call("PATCH", f"/tickets/{ticket_id}", owner["token"], json={"assignee_id": agent_id})
    update = guest.wait_for(
        "ticket:updated", lambda d: (d["ticket"]["assignee"] or {}).get("id") == agent_id
    )
    assert update["ticket"]["assignee"]["email"] == ""
    assert "@example.com" not in str(guest.of("ticket:updated"))
