"""The Socket.IO access-control matrix: every client->server event, sent by each principal
against one ticket, on a real server over both transports.

The ticket T belongs to visitor V on site A1 (FAQ bot on, so T starts in ``bot`` status and
has a bot message for ``bot:feedback``). Callers: V, another visitor of A1, a visitor of A2,
a visitor of workspace B, A's agent, admin and owner, and B's owner. Anonymous is refused at
connect. A denied event answers the contract's code (the same as for a ticket that does not
exist, so it leaks nothing), and nothing it could cause reaches T's group: a second socket of
V and an agent who joined T listen throughout.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
import socketio

from tests.live import PASSWORD, Api, Client, Server, settle
from tests.realtime.conftest import ClientFactory

VISITORS = ("visitor", "visitor_same_site", "visitor_other_site", "visitor_other_workspace")
STRANGERS = VISITORS[1:] + ("agent_other_workspace",)
A_AGENTS = ("agent", "admin", "owner")
CALLERS = VISITORS + A_AGENTS + ("agent_other_workspace",)

FAQ = [{"question": "Where is my order?", "answer": "Track it under Orders.", "external_id": "o"}]


def _member(api: Api, owner_token: str, role: str) -> dict[str, Any]:
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    body = {"name": role.title(), "email": email, "password": PASSWORD, "role": role}
    api.call("POST", "/agents", owner_token, json=body)
    r = requests.post(
        api.url + "/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def expect(default: str, **by_caller: str) -> dict[str, str]:  # "ok" or the error code of the ack
    return {c: by_caller.get(c, default) for c in CALLERS}


def _readers(**extra: str) -> dict[str, str]:
    """V and A's agents may; everyone else does not find the ticket."""
    return expect("ok", **{s: "not_found" for s in STRANGERS}, **extra)


Payload = Callable[[dict[str, Any], str], dict[str, Any]]

#: (event, payload for ticket id T and caller, expected ack per caller). In this order: the
#: feedback and the handoff, which move T out of the bot, come last.
EVENTS: list[tuple[str, Payload, dict[str, str]]] = [
    ("presence:heartbeat", lambda w, t: {}, expect("ok")),
    ("sync", lambda w, t: {"tickets": {t: 0}}, _readers()),
    ("typing", lambda w, t: {"ticket_id": t, "typing": True}, _readers()),
    ("delivered", lambda w, t: {"ticket_id": t, "seq": 1}, _readers()),
    ("read", lambda w, t: {"ticket_id": t, "seq": 1}, _readers()),
    (
        "ticket:join",
        lambda w, t: {"ticket_id": t},
        expect("ok", **{v: "forbidden" for v in VISITORS}, agent_other_workspace="not_found"),
    ),
    # Leaving a room one is not in is a harmless no-op, whatever the id.
    ("ticket:leave", lambda w, t: {"ticket_id": t}, expect("ok")),
    (
        "message:send",
        lambda w, t: {"ticket_id": t, "client_id": uuid.uuid4().hex, "body": w["marker"]},
        _readers(),
    ),
    (
        "message:send",  # an internal note: agents only
        lambda w, t: {
            "ticket_id": t,
            "client_id": uuid.uuid4().hex,
            "body": w["marker"],
            "kind": "note",
        },
        _readers(visitor="forbidden"),
    ),
    (
        "bot:feedback",
        lambda w, t: {"ticket_id": t, "message_id": w["bot_message_id"], "helpful": True},
        expect(
            "forbidden",
            visitor="ok",
            **{s: "not_found" for s in STRANGERS if s != "agent_other_workspace"},
        ),
    ),
    (
        "ticket:handoff",
        lambda w, t: {"ticket_id": t},
        expect(
            "forbidden",
            visitor="ok",
            **{s: "not_found" for s in STRANGERS if s != "agent_other_workspace"},
        ),
    ),
]


def _code(ack: Any) -> str:
    if isinstance(ack, dict) and ack.get("ok") is True:
        return "ok"
    if isinstance(ack, dict) and isinstance(ack.get("error"), dict):
        return str(ack["error"].get("code"))
    return f"no ack: {ack!r}"


def _mentions(data: Any, needles: set[str]) -> set[str]:
    text = repr(data)
    return {n for n in needles if n in text}


def _connect_everyone(
    api: Api, connect: ClientFactory
) -> tuple[dict[str, Client], dict[str, Any], set[str]]:
    """The world: each caller's socket; T's id, its bot message and its two listeners; the
    ids of the callers who may not see T."""
    owner_a, owner_b = api.signup("Alpha"), api.signup("Beta")
    tok = owner_a["token"]
    admin, agent = _member(api, tok, "admin"), _member(api, tok, "agent")
    a1 = api.site(tok, bot_enabled=True)
    api.call("POST", f"/sites/{a1['id']}/faq/import", tok, json=FAQ)
    a2, b1 = api.site(tok), api.site(owner_b["token"])
    sessions = {
        "visitor": api.visitor(a1),
        "visitor_same_site": api.visitor(a1),
        "visitor_other_site": api.visitor(a2),
        "visitor_other_workspace": api.visitor(b1),
    }
    tokens = {
        "agent": agent["token"],
        "admin": admin["token"],
        "owner": tok,
        "agent_other_workspace": owner_b["token"],
    }
    clients = {who: connect({"visitor_token": s["visitor_token"]}) for who, s in sessions.items()}
    clients.update({who: connect({"token": token}) for who, token in tokens.items()})
    # T: V asks the FAQ bot, which answers; two listeners follow T throughout.
    first = clients["visitor"].send("Where is my order?")
    assert first["ok"], first
    bot = clients["visitor"].wait_for(
        "message:new", lambda d: d["message"]["sender"]["type"] == "bot", timeout=30
    )
    a_listener = connect({"token": tokens["admin"]})
    ticket_id = first["message"]["ticket_id"]
    assert a_listener.call("ticket:join", {"ticket_id": ticket_id})["ok"]
    world = {
        "ticket_id": ticket_id,
        "bot_message_id": bot["message"]["id"],
        "marker": "",
        "v_listener": connect({"visitor_token": sessions["visitor"]["visitor_token"]}),
        "a_listener": a_listener,
    }
    strangers = {sessions[v]["visitor"]["id"] for v in VISITORS[1:]} | {owner_b["agent"]["id"]}
    return clients, world, strangers


def _send_every_event(
    clients: dict[str, Client], world: dict[str, Any], wrong: list[str]
) -> set[str]:
    """Each event as each caller; returns the markers of the strangers' messages."""
    ticket_id = world["ticket_id"]
    marks: set[str] = set()
    for event, payload, expected in EVENTS:
        for who in CALLERS:
            world["marker"] = f"{who}-{event}-{uuid.uuid4().hex[:8]}"
            if who in STRANGERS:
                marks.add(world["marker"])
            got = _code(clients[who].call(event, payload(world, ticket_id)))
            if got != expected[who]:
                wrong.append(f"{event} as {who}: {got}, expected {expected[who]}")
            if who in STRANGERS and event not in ("ticket:leave", "presence:heartbeat"):
                # A ticket that does not exist answers the same: existence is not revealed.
                ghost = _code(clients[who].call(event, payload(world, _ghost_id(ticket_id))))
                if ghost != got:
                    wrong.append(f"{event} as {who}: {got} for T but {ghost} for no ticket")
    return marks


def test_every_event_answers_each_caller_as_it_may(api: Api, connect: ClientFactory) -> None:
    clients, world, stranger_ids = _connect_everyone(api, connect)
    wrong: list[str] = []
    stranger_marks = _send_every_event(clients, world, wrong)
    v_listener, a_listener = world["v_listener"], world["a_listener"]
    # The allowed calls did arrive (so silence below means something), then nothing else.
    a_listener.wait_for("message:new", lambda d: d["message"]["body"].startswith("owner-"))
    v_listener.wait_for("message:new", lambda d: d["message"]["body"].startswith("agent-"))
    settle(1.0)
    for name, listener in (("V's other socket", v_listener), ("an agent in T", a_listener)):
        for event, data in listener.events:
            if event == "presence":  # A's visitors' presence is A's agents' business
                continue
            leaked = _mentions(data, stranger_ids | stranger_marks)
            if leaked:
                wrong.append(f"{name} received {event} caused by a stranger: {data}")
    for who in STRANGERS:
        for event, data in clients[who].events:
            if world["ticket_id"] in repr(data):
                wrong.append(f"{who} received {event} about T: {data}")
    notes = [m for m in v_listener.messages() if m["kind"] == "note"]
    if notes:
        wrong.append(f"V received notes: {notes}")
    assert not wrong, "wrong cells:\n" + "\n".join(wrong)


def _ghost_id(ticket_id: str) -> str:
    """An id of the same shape that names no ticket."""
    last = "0" if ticket_id[-1] != "0" else "1"
    return ticket_id[:-1] + last


def test_no_credential_is_refused_at_connect(live_server: Server) -> None:
    """The matrix's anonymous column: no event can be sent without a connection."""
    cases: list[tuple[Any, list[str]]] = [
        (auth, ["websocket"])
        for auth in (None, {}, {"token": ""}, {"visitor_token": ""}, {"token": "pk_nope"})
    ]
    cases.append((None, ["polling"]))
    for auth, transports in cases:
        sio = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(live_server.url, auth=auth, transports=transports, wait_timeout=5)
        sio.disconnect()
