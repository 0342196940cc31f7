"""``kill -9`` of the server while 50 clients send: they reconnect, resend what was not acked
(same client_id) and ``sync``. Every acked message is stored once and every client ends up
holding every message of its ticket, none twice."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import socketio

from tests.faults.conftest import stored_messages
from tests.live import Api, Server

#: 25 tickets, each with its visitor and an agent: 50 clients.
TICKETS = 25
#: Messages each client sends.
PER_CLIENT = 5
#: The server is killed once this many sends were acked (about a third of them).
KILL_AFTER = TICKETS * 2 * PER_CLIENT // 3
#: Every client is done within this (the kill and the restart included).
RUN_S = 90.0
CALL_S = 5.0
_LOST = (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError)


@pytest.fixture
def server(pg_url: str) -> Iterator[Server]:
    server = Server({"DATABASE_URL": pg_url}).start()
    yield server
    server.stop()
    print("SERVER LOG", server.log_path)


class Chatter:
    """A client as the protocol asks: one client_id per message, resent until acked, and a
    ``sync`` from its last seq on every (re)connect. Holds messages by seq."""

    def __init__(self, url: str, auth: dict[str, str], ticket_id: str, name: str) -> None:
        self.url, self.auth, self.ticket_id, self.name = url, auth, ticket_id, name
        self.is_agent = "token" in auth
        self.transports = ["websocket"] if len(name) % 2 else ["polling"]
        self.acked: dict[str, int] = {}
        self.held: dict[int, dict[str, Any]] = {}
        self.conflicts: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.redelivered: list[dict[str, Any]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self.sio: socketio.Client | None = None

    def run(self, deadline: float) -> None:
        self.connect(deadline)
        for i in range(PER_CLIENT):
            cid = f"{self.name}-{i}"
            payload = {"ticket_id": self.ticket_id, "client_id": cid, "body": f"{cid} says hi"}
            while True:
                assert time.monotonic() < deadline, f"{self.name}: {cid} never acked"
                try:
                    assert self.sio is not None
                    ack = self.sio.call("message:send", payload, timeout=CALL_S)
                except _LOST:
                    self.connect(deadline)  # not acked: send again, same client_id
                    continue
                if ack["ok"]:
                    self.acked[cid] = ack["message"]["seq"]
                    self._hold(ack["message"])
                    break
                assert ack["error"]["code"] == "unavailable", ack
                time.sleep(0.2)

    def connect(self, deadline: float) -> None:
        """(Re)connect until it works, rejoin (agents) and catch up with ``sync``."""
        if self.sio is not None:
            self.sio.disconnect()
        while True:
            assert time.monotonic() < deadline, f"{self.name} could not reconnect"
            sio = socketio.Client(reconnection=False)
            seen: set[str] = set()
            sio.on("message:new", lambda data, seen=seen: self._receive(data["message"], seen))
            try:
                sio.connect(self.url, auth=self.auth, transports=self.transports, wait_timeout=5)
                if self.is_agent:
                    joined = sio.call("ticket:join", {"ticket_id": self.ticket_id}, timeout=CALL_S)
                    _check(joined)
                self.sio = sio
                self.sync()
                self.connections += 1
                return
            except (socketio.exceptions.ConnectionError, _Busy, *_LOST):
                sio.disconnect()
                time.sleep(0.2)

    def sync(self) -> None:
        """Catch up from the last seq held without a gap before it, while ``has_more``."""
        assert self.sio is not None
        for _ in range(50):
            reply = self.sio.call(
                "sync", {"tickets": {self.ticket_id: self.last_seq()}}, timeout=CALL_S
            )
            if not reply["ok"]:  # a refill of the pool after the restart: ask again
                assert reply["error"]["code"] == "unavailable", reply
                time.sleep(0.2)
                continue
            for message in reply["messages"]:
                self._hold(message)
            if not reply["has_more"][self.ticket_id]:
                return
        raise AssertionError("sync never ended")

    def last_seq(self) -> int:
        with self._lock:
            seq = 0
            while seq + 1 in self.held:
                seq += 1
            return seq

    def _receive(self, message: dict[str, Any], seen: set[str]) -> None:
        if message["ticket_id"] != self.ticket_id:
            return
        with self._lock:
            if message["id"] in seen:  # the same event twice on one connection
                self.redelivered.append(message)
            seen.add(message["id"])
        self._hold(message)

    def _hold(self, message: dict[str, Any]) -> None:
        with self._lock:
            earlier = self.held.setdefault(message["seq"], message)
            if earlier["id"] != message["id"]:
                self.conflicts.append((earlier, message))

    def close(self) -> None:
        if self.sio is not None:
            self.sio.disconnect()


class _Busy(Exception):
    """The server answered ``unavailable`` (a refill of its pool after the restart): retry."""


def _check(reply: dict[str, Any]) -> None:
    if not reply["ok"]:
        assert reply["error"]["code"] == "unavailable", reply
        raise _Busy


def _open_ticket(api: Api, n: int) -> tuple[dict[str, str], dict[str, str], str]:
    owner = api.signup(f"Shop {n}")
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    token = api.visitor(site)["visitor_token"]
    first = api.call("POST", "/tickets", token, json={"client_id": "hello", "body": "Hello"})
    return {"visitor_token": token}, {"token": owner["token"]}, first["ticket"]["id"]


def test_kill_9_mid_chat_loses_and_duplicates_nothing(server: Server, pg_url: str) -> None:
    api = Api(server.url)
    with ThreadPoolExecutor(8) as pool:
        opened = list(pool.map(lambda n: _open_ticket(api, n), range(TICKETS)))
    chatters = []
    for n, (visitor, agent, ticket_id) in enumerate(opened):
        chatters.append(Chatter(server.url, visitor, ticket_id, f"v{n:02d}"))
        chatters.append(Chatter(server.url, agent, ticket_id, f"agent{n:02d}"))
    deadline = time.monotonic() + RUN_S
    restarted: Server | None = None
    try:
        with ThreadPoolExecutor(len(chatters)) as pool:
            running = [pool.submit(c.run, deadline) for c in chatters]
            while sum(len(c.acked) for c in chatters) < KILL_AFTER:
                assert time.monotonic() < deadline and not any(f.done() for f in running)
                time.sleep(0.01)
            server.stop(signal.SIGKILL)
            killed_at = sum(len(c.acked) for c in chatters)
            os.replace(server.log_path, server.log_path.with_suffix(".killed.log"))
            restarted = Server(server.env, port=server.port).start()
            for future in running:
                future.result(timeout=max(1.0, deadline - time.monotonic()))
        assert killed_at < TICKETS * 2 * PER_CLIENT, "the kill came after the last send"
        assert sum(c.connections > 1 for c in chatters) == len(chatters), "all reconnected"
        for chatter in chatters:
            chatter.sync()
    finally:
        for chatter in chatters:
            chatter.close()
        if restarted is not None:
            restarted.stop()

    rows = stored_messages(pg_url, [t for _, _, t in opened])
    by_ticket: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_ticket.setdefault(row[0], []).append(row)
    for chatter in chatters:
        stored = by_ticket[chatter.ticket_id]
        mine = {r[4]: r[1] for r in stored if r[4].startswith(chatter.name + "-")}
        # Every message acked is stored exactly once, under the seq its ack gave.
        assert mine == chatter.acked, chatter.name
        assert len(chatter.acked) == PER_CLIENT
        # The client holds every stored message of its ticket (ack, event or sync), none
        # twice: one message per seq, and no event delivered twice on one connection.
        assert sorted(chatter.held) == [r[1] for r in stored], chatter.name
        assert [r[1] for r in stored] == list(range(1, 2 * PER_CLIENT + 2))
        assert {m["id"] for m in chatter.held.values()} == {m["id"] for m in chatter.held.values()}
        assert not chatter.conflicts, chatter.conflicts[:3]
        assert not chatter.redelivered, chatter.redelivered[:3]
