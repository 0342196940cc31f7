"""Two server processes share the read cache in Redis: a change made through one is what the
other serves at its next widget session, for site settings and for "agents online"."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import requests

from tests.live import Api, Client, Server

REDIS = "redis://127.0.0.1:6379"


@pytest.fixture(scope="module")
def redis_url() -> str:
    return f"{REDIS}/{random.randint(1, 15)}"


@pytest.fixture(scope="module")
def pair(pg_url: str, redis_url: str) -> Iterator[tuple[Server, Server]]:
    env = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "SOCKETIO_CHANNEL": f"parley-test-{uuid.uuid4().hex[:8]}",
    }
    one = Server(env).start()
    two = Server(env).start()
    yield one, two
    one.stop()
    two.stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.disconnect()


def _connect(server: Server, auth: dict[str, str], opened: list[Client]) -> Client:
    client = Client(server.url, auth, ["polling", "websocket"]).connect()
    opened.append(client)
    return client


def _wait_presence(client: Client, agent_id: str, status: str, times: int) -> None:
    """Until the client was told ``times`` times that the agent is ``status`` (10 s at most)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        told = [
            d
            for d in client.of("presence")
            if d["subject"]["id"] == agent_id and d["status"] == status
        ]
        if len(told) >= times:
            return
        time.sleep(0.05)
    raise AssertionError(f"presence {status} of {agent_id} not seen {times} times")


def test_site_change_on_one_process_shows_on_the_other_at_once(
    pair: tuple[Server, Server], redis_url: str
) -> None:
    one, two = pair
    api = Api(one.url)
    owner = api.signup()
    site = api.site(owner["token"], color="#111111", title="Before")
    for server in (one, two, one, two):  # both processes have it cached
        assert Api(server.url).visitor(site)["site"]["settings"]["color"] == "#111111"
    stored = redis.Redis.from_url(redis_url).get(f"parley:cache:val:site:{site['site_key']}")
    assert isinstance(stored, bytes) and json.loads(stored)["d"]["id"] == site["id"]
    assert site["site_secret"] not in stored.decode()

    api.call(
        "PATCH",
        f"/sites/{site['id']}",
        owner["token"],
        json={"name": "Renamed", "settings": {"color": "#222222", "title": "After"}},
    )
    body = Api(two.url).visitor(site)
    assert body["site"]["settings"]["color"] == "#222222"
    assert body["site"]["name"] == "Renamed"
    frame = requests.get(
        f"{two.url}/widget/frame", params={"site_key": site["site_key"]}, timeout=10
    )
    if frame.status_code == 200:  # the widget is built
        assert "<title>After</title>" in frame.text


def test_agents_online_follows_presence_across_processes(
    pair: tuple[Server, Server], clients: list[Client]
) -> None:
    one, two = pair
    api = Api(one.url)
    owner = api.signup("With agents")
    other = api.signup("Nobody home")
    site = api.site(owner["token"])
    elsewhere = api.site(other["token"])
    session = Api(two.url).visitor(site)
    assert session["site"]["online"] is False  # cached on process two now
    assert Api(two.url).visitor(elsewhere)["site"]["online"] is False
    guest = _connect(two, {"visitor_token": session["visitor_token"]}, clients)
    agent_id = owner["agent"]["id"]

    _connect(one, {"token": owner["token"]}, clients)
    guest.wait_for("presence", lambda d: d["subject"]["id"] == agent_id and d["status"] == "online")
    assert Api(two.url).visitor(site)["site"]["online"] is True
    assert Api(one.url).visitor(site)["site"]["online"] is True
    assert Api(two.url).visitor(elsewhere)["site"]["online"] is False  # another workspace

    api.call("PATCH", "/agents/me", owner["token"], json={"availability": "away"})
    guest.wait_for("presence", lambda d: d["subject"]["id"] == agent_id and d["status"] == "away")
    assert Api(two.url).visitor(site)["site"]["online"] is False
    api.call("PATCH", "/agents/me", owner["token"], json={"availability": "online"})
    _wait_presence(guest, agent_id, "online", times=2)
    assert Api(two.url).visitor(site)["site"]["online"] is True


def test_cache_off_serves_the_same_across_processes(pg_url: str, redis_url: str) -> None:
    env = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "SOCKETIO_CHANNEL": f"parley-test-{uuid.uuid4().hex[:8]}",
        "CACHE": "0",
    }
    one = Server(env).start()
    two = Server(env).start()
    try:
        api = Api(one.url)
        owner = api.signup()
        site = api.site(owner["token"], color="#111111")
        assert Api(two.url).visitor(site)["site"]["settings"]["color"] == "#111111"
        api.call(
            "PATCH", f"/sites/{site['id']}", owner["token"], json={"settings": {"color": "#333333"}}
        )
        assert Api(two.url).visitor(site)["site"]["settings"]["color"] == "#333333"
        key = f"parley:cache:val:site:{site['site_key']}"
        assert redis.Redis.from_url(redis_url).get(key) is None  # nothing was cached
    finally:
        one.stop()
        two.stop()
