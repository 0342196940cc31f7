"""Socket.IO limits on real servers: connections per address, events per connection and per
visitor (shared by two processes through Redis). Over a limit the ack says ``rate_limited``
and the event is not processed; an event sent without an ack (typing) is dropped.

The suite runs with rate limits off (tests/conftest.py); these servers turn them on, small.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import socketio

from tests.live import Api, Client, Server, settle

CONNECTIONS_PER_IP = 4
EVENT_BURST = 5
VISITOR_BURST = 8
#: Slow refills, so a burst is spent long before a token comes back on a busy machine.
EVENT_RATE = 0.25
TRANSPORTS = ["polling", "websocket"]


@pytest.fixture(scope="module")
def pair(pg_url: str) -> Iterator[tuple[Server, Server]]:
    """Two processes on one Redis with small limits of their own (fresh counters)."""
    env = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": f"redis://127.0.0.1:6379/{random.randint(1, 15)}",
        "SOCKETIO_CHANNEL": f"parley-test-{uuid.uuid4().hex[:8]}",
        "RATE_LIMIT_KEY_PREFIX": f"parley-test-{uuid.uuid4().hex}",
        "RATE_LIMITS": "1",
        "RATE_LIMIT_SIGNUP": "1000 per minute",
        "RATE_LIMIT_WIDGET_SESSION": "1000 per minute",
        "SOCKET_CONNECTIONS_PER_IP": str(CONNECTIONS_PER_IP),
        "SOCKET_EVENT_RATE": str(EVENT_RATE),
        "SOCKET_EVENT_BURST": str(EVENT_BURST),
        "SOCKET_VISITOR_EVENT_RATE": str(EVENT_RATE),
        "SOCKET_VISITOR_EVENT_BURST": str(VISITOR_BURST),
    }
    one = Server(env).start()
    two = Server(env).start()
    yield one, two
    one.stop()
    two.stop()


@pytest.fixture
def open_client(pair: tuple[Server, Server]) -> Iterator[Callable[..., Client]]:
    opened: list[Client] = []

    def factory(auth: dict[str, Any], server: Server) -> Client:
        client = Client(server.url, auth, TRANSPORTS).connect()
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.disconnect()


def _refused(ack: Any) -> None:
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == "rate_limited", ack
    assert ack["error"]["message"]
    assert ack["error"]["retry_after"] >= 1


def test_connections_per_address_are_refused_at_the_cap(
    pair: tuple[Server, Server], open_client: Callable[..., Client]
) -> None:
    one, two = pair
    api = Api(two.url)
    owner = api.signup()
    auth = {"token": owner["token"]}
    held = [open_client(auth, two) for _ in range(CONNECTIONS_PER_IP)]

    errors: list[Any] = []
    extra = socketio.Client(reconnection=False)
    extra.on("connect_error", lambda data=None: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        extra.connect(two.url, auth=auth, transports=TRANSPORTS, wait_timeout=5)
    extra.disconnect()
    assert errors and errors[0]["message"] == "rate_limited", errors
    assert errors[0]["data"]["code"] == "rate_limited"

    # The cap is per process: the other one still takes this address.
    assert open_client(auth, one).call("presence:heartbeat", {})["ok"] is True
    # A connection that closes frees its place.
    held[0].disconnect()
    deadline = time.monotonic() + 10
    while True:
        try:
            again = open_client(auth, two)
            break
        except socketio.exceptions.ConnectionError:
            assert time.monotonic() < deadline, "the freed place never came back"
            time.sleep(0.2)
    assert again.call("presence:heartbeat", {})["ok"] is True


def test_events_per_connection_fire_at_burst_plus_one_then_refill(
    pair: tuple[Server, Server], open_client: Callable[..., Client]
) -> None:
    one, _two = pair
    owner = Api(one.url).signup()
    agent = open_client({"token": owner["token"]}, one)
    for _ in range(EVENT_BURST):
        assert agent.call("presence:heartbeat", {})["ok"] is True
    _refused(agent.call("presence:heartbeat", {}))
    # Another connection of the same agent has its own bucket.
    other = open_client({"token": owner["token"]}, one)
    assert other.call("presence:heartbeat", {})["ok"] is True
    # Tokens come back at EVENT_RATE per second.
    deadline = time.monotonic() + 3 / EVENT_RATE
    while not agent.call("presence:heartbeat", {})["ok"]:
        assert time.monotonic() < deadline, "the bucket never refilled"
        time.sleep(0.5)


def test_a_visitor_is_limited_across_its_connections_and_processes(
    pair: tuple[Server, Server], open_client: Callable[..., Client]
) -> None:
    one, two = pair
    api = Api(one.url)
    owner = api.signup()
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    session = api.visitor(api.site(owner["token"]))
    auth = {"visitor_token": session["visitor_token"]}
    on_one, on_two = open_client(auth, one), open_client(auth, two)
    agent = open_client({"token": owner["token"]}, one)

    ticket_id = on_one.send("message 1")["message"]["ticket_id"]
    assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"] is True
    for n in range(2, 4):
        assert on_one.send(f"message {n}", ticket_id)["ok"] is True
    for n in range(4, 8):  # the other process: under its connection's burst, not the visitor's
        assert on_two.send(f"message {n}", ticket_id)["ok"] is True
    on_one.emit("typing", {"ticket_id": ticket_id, "typing": True})  # the visitor's 8th event
    agent.wait_for("typing", lambda d: d["typing"] is True)

    over = on_two.send("message 9", ticket_id)
    _refused(over)
    on_one.emit("typing", {"ticket_id": ticket_id, "typing": False})  # dropped, silently
    settle(0.5)
    assert [d["typing"] for d in agent.of("typing")] == [True]

    r = requests.get(
        f"{one.url}/api/v1/tickets/{ticket_id}/messages",
        headers={"Authorization": f"Bearer {session['visitor_token']}"},
        timeout=10,
    )
    stored = [m["body"] for m in r.json()["messages"] if m["sender"]["type"] == "visitor"]
    assert stored == [f"message {n}" for n in range(1, 8)]  # the refused one was not stored
