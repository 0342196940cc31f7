"""Two Parley processes behind nginx with sticky sessions act as one service.

nginx (Debian's package) is started by the test with the configuration of docs/SCALING.md
(bench/lb.py): WebSocket upgrade headers and ``hash $remote_addr consistent``. Every client
has its own loopback source address (127.0.0.x) so the hash can tell them apart; the test
picks a visitor address that nginx sends to process one and an agent address it sends to
process two, and checks in nginx's ``X-Upstream`` header and access log that every request of
each really went there. Runs over WebSocket and over long polling (which needs stickiness:
each poll is a new HTTP request that must reach the process holding the session).
"""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import socketio
from requests.adapters import HTTPAdapter

from bench.lb import Nginx, nginx_binary, source_addresses
from tests.live import Api, Client, Server, settle

REDIS = "redis://127.0.0.1:6379"

pytestmark = pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed")


class SourceAddressAdapter(HTTPAdapter):
    """requests' HTTP adapter whose connections leave from ``source`` (any free port)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class SourcedClient(Client):
    """A :class:`Client` whose every connection (polls and the WebSocket) leaves from one
    loopback address, recording the ``X-Upstream`` nginx reports on each HTTP response."""

    source: str = "127.0.0.1"
    upstreams: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.http = requests.Session()
        self.http.mount("http://", SourceAddressAdapter(self.source))
        self.http.hooks["response"].append(self._note_upstream)
        self.sio = socketio.Client(
            reconnection=False, http_session=self.http, websocket_extra_options={}
        )
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._on_disconnect)

    def _note_upstream(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.upstreams.append(response.headers.get("X-Upstream", ""))

    def connect(self) -> SourcedClient:
        if "websocket" in self.transports:
            # websocket-client cannot bind a source address itself; it takes a connected socket.
            where = urlsplit(self.url)
            sock = socket.create_connection(
                (where.hostname, where.port), timeout=10, source_address=(self.source, 0)
            )
            self.sio.eio.websocket_extra_options["socket"] = sock
        super().connect()
        return self


@dataclass
class Cluster:
    one: Server
    two: Server
    nginx: Nginx
    #: loopback source addresses nginx sends to each process
    to_one: list[str]
    to_two: list[str]

    def backend(self, server: Server) -> str:
        return f"127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def cluster(pg_url: str) -> Iterator[Cluster]:
    env = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": f"{REDIS}/{random.randint(1, 15)}",
        "SOCKETIO_CHANNEL": f"parley-test-{uuid.uuid4().hex[:8]}",
        # The test clients send no presence:heartbeat; offline must come from the disconnect.
        "PRESENCE_TTL_S": "60",
    }
    one, two = Server(env), Server(env)
    nginx = Nginx([f"127.0.0.1:{one.port}", f"127.0.0.1:{two.port}"])
    try:
        one.start()
        two.start()
        nginx.start()
        split = nginx.split(source_addresses(40))
        yield Cluster(
            one, two, nginx, split[f"127.0.0.1:{one.port}"], split[f"127.0.0.1:{two.port}"]
        )
    finally:
        nginx.stop()
        for server in (one, two):
            if server.proc is not None:
                server.stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.disconnect()


def test_the_hash_sends_different_sources_to_different_processes_and_sticks(
    cluster: Cluster,
) -> None:
    assert cluster.to_one and cluster.to_two, (cluster.to_one, cluster.to_two)
    for source in (cluster.to_one[0], cluster.to_two[0]):
        first = cluster.nginx.upstream_of(source)
        assert {cluster.nginx.upstream_of(source) for _ in range(5)} == {first}


def test_visitor_and_agent_on_different_processes_behind_nginx_see_everything(
    cluster: Cluster, transports: list[str], clients: list[Client]
) -> None:
    url = cluster.nginx.url
    settle(0.5)  # nginx flushes its access log every 200 ms: earlier tests' lines are in
    logged_before = len(cluster.nginx.access_log())
    api = Api(url)
    owner = api.signup()
    site = api.site(owner["token"])
    session = api.visitor(site)
    agent_id = owner["agent"]["id"]
    guest_source, agent_source = cluster.to_one[0], cluster.to_two[0]
    guest = SourcedClient(
        url, {"visitor_token": session["visitor_token"]}, transports, source=guest_source
    )
    clients.append(guest.connect())
    agent = SourcedClient(url, {"token": owner["token"]}, transports, source=agent_source)
    clients.append(agent.connect())
    if "websocket" in transports:
        assert guest.sio.transport() == agent.sio.transport() == "websocket"

    # Presence crosses processes: the visitor on one sees the agent on two come online.
    guest.wait_for("presence", lambda d: d["subject"]["id"] == agent_id and d["status"] == "online")
    ticket_id = guest.send("Hello through nginx")["message"]["ticket_id"]
    agent.wait_for("ticket:created", lambda d: d["ticket"]["id"] == ticket_id)
    assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"]

    # Sequence numbers come from the acks: routing may add a system line in between.
    agent.emit("typing", {"ticket_id": ticket_id, "typing": True})
    guest.wait_for("typing", lambda d: d["typing"] and d["sender"]["id"] == agent_id)
    reply = agent.send("Hello from the other process", ticket_id)
    assert reply["ok"]
    agent_seq = reply["message"]["seq"]
    guest.wait_for("message:new", lambda d: d["message"]["body"] == "Hello from the other process")
    assert guest.call("read", {"ticket_id": ticket_id, "seq": agent_seq})["ok"]
    agent.wait_for("read", lambda d: d["reader"]["type"] == "visitor" and d["seq"] == agent_seq)

    guest.emit("typing", {"ticket_id": ticket_id, "typing": True})
    agent.wait_for("typing", lambda d: d["typing"] and d["sender"]["type"] == "visitor")
    reply = guest.send("Thanks!", ticket_id)
    assert reply["ok"]
    thanks_seq = reply["message"]["seq"]
    agent.wait_for("message:new", lambda d: d["message"]["body"] == "Thanks!")
    assert agent.call("read", {"ticket_id": ticket_id, "seq": thanks_seq})["ok"]
    guest.wait_for("read", lambda d: d["reader"]["type"] == "agent" and d["seq"] == thanks_seq)

    # The inbox row and the visitor's own ticket follow across processes.
    agent.wait_for(
        "ticket:updated",
        lambda d: d["ticket"]["id"] == ticket_id and d["ticket"]["last_seq"] == thanks_seq,
    )
    guest.wait_for("ticket:updated", lambda d: d["ticket"]["id"] == ticket_id)

    settle(0.5)
    said = ["Hello through nginx", "Hello from the other process", "Thanks!"]
    for client in (guest, agent):  # each message exactly once on each side
        bodies = [m["body"] for m in client.messages() if m["kind"] == "text"]
        assert sorted(bodies) == sorted(said[1:] if client is agent else said), bodies

    agent.disconnect()
    guest.wait_for(
        "presence", lambda d: d["subject"]["id"] == agent_id and d["status"] == "offline", timeout=5
    )
    guest.disconnect()

    # They really sat on different processes, every request of each on its own one.
    one, two = cluster.backend(cluster.one), cluster.backend(cluster.two)
    assert guest.upstreams and set(guest.upstreams) == {one}, guest.upstreams
    assert agent.upstreams and set(agent.upstreams) == {two}, agent.upstreams
    settle(0.5)  # nginx flushes its access log every 200 ms
    rows = cluster.nginx.access_log()[logged_before:]
    guest_rows = [r for r in rows if r["remote"] == guest_source]
    agent_rows = [r for r in rows if r["remote"] == agent_source]
    assert guest_rows and {r["upstream"] for r in guest_rows} == {one}
    assert agent_rows and {r["upstream"] for r in agent_rows} == {two}
    if "websocket" in transports:  # the upgraded connection went through nginx too
        assert any(r["status"] == "101" for r in guest_rows)
        assert any(r["status"] == "101" for r in agent_rows)
    else:
        assert not any(r["status"] == "101" for r in guest_rows + agent_rows)
        assert sum(r["method"] == "GET" for r in guest_rows) >= 2  # polls, all on one process
