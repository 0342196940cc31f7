"""Two server processes sharing Redis and PostgreSQL behave as one service.

Also: emits from outside any request (a script, the bot, a job) reach live clients through
the same publisher and the Redis message queue.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import pytest

from tests.live import ROOT, Api, Client, Server, settle
from tests.realtime.conftest import ClientFactory

REDIS = "redis://127.0.0.1:6379"


@pytest.fixture(scope="module")
def redis_env(pg_url: str) -> dict[str, str]:
    """A Redis database and Socket.IO channel of this test run only."""
    return {
        "DATABASE_URL": pg_url,
        "REDIS_URL": f"{REDIS}/{random.randint(1, 15)}",
        "SOCKETIO_CHANNEL": f"parley-test-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture(scope="module")
def pair(redis_env: dict[str, str]) -> Iterator[tuple[Server, Server]]:
    one = Server(redis_env).start()
    two = Server(redis_env).start()
    yield one, two
    one.stop()
    two.stop()


def test_visitor_and_agent_on_different_processes_chat_both_ways(
    pair: tuple[Server, Server], connect: ClientFactory
) -> None:
    one, two = pair
    api = Api(one.url)
    owner = api.signup()
    # Chat mechanics, without automatic assignment (its system lines would take seqs).
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    session = api.visitor(site)
    guest = connect({"visitor_token": session["visitor_token"]}, server=one)
    agent = connect({"token": owner["token"]}, server=two)
    agent_id = owner["agent"]["id"]

    # Presence crosses processes: the visitor on one sees the agent on two come online.
    guest.wait_for("presence", lambda d: d["subject"]["id"] == agent_id and d["status"] == "online")
    ticket_id = guest.send("Hello from process one")["message"]["ticket_id"]
    agent.wait_for("ticket:created", lambda d: d["ticket"]["id"] == ticket_id)
    assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"]

    agent.emit("typing", {"ticket_id": ticket_id, "typing": True})
    guest.wait_for("typing", lambda d: d["typing"] and d["sender"]["id"] == agent_id)
    assert agent.send("Hello from process two", ticket_id)["ok"]
    guest.wait_for("message:new", lambda d: d["message"]["body"] == "Hello from process two")
    assert guest.call("read", {"ticket_id": ticket_id, "seq": 2})["ok"]
    agent.wait_for("read", lambda d: d["reader"]["type"] == "visitor" and d["seq"] == 2)

    guest.emit("typing", {"ticket_id": ticket_id, "typing": True})
    agent.wait_for("typing", lambda d: d["typing"] and d["sender"]["type"] == "visitor")
    assert guest.send("Thanks!", ticket_id)["ok"]
    agent.wait_for("message:new", lambda d: d["message"]["body"] == "Thanks!")
    assert agent.call("read", {"ticket_id": ticket_id, "seq": 3})["ok"]
    guest.wait_for("read", lambda d: d["reader"]["type"] == "agent" and d["seq"] == 3)

    settle(0.5)
    # Every message reached each side exactly once.
    assert sorted(m["seq"] for m in guest.messages()) == [1, 2, 3]
    assert sorted(m["seq"] for m in agent.messages()) == [2, 3]
    # The agent's own process answers for presence it learned from the other process.
    agents = Api(two.url).call("GET", "/agents", owner["token"])["agents"]
    assert agents[0]["availability"] == "online"
    agent.disconnect()
    guest.wait_for(
        "presence", lambda d: d["subject"]["id"] == agent_id and d["status"] == "offline", timeout=5
    )


def test_emit_from_outside_a_request_reaches_clients(
    pair: tuple[Server, Server], redis_env: dict[str, str], connect: ClientFactory
) -> None:
    one, _two = pair
    api = Api(one.url)
    owner = api.signup()
    site = api.site(owner["token"])
    session = api.visitor(site)
    guest = connect({"visitor_token": session["visitor_token"]}, server=one)
    ticket_id = guest.send("Is anyone there?")["message"]["ticket_id"]
    script = textwrap.dedent(f"""
        from app import create_app
        from app.auth.principal import Principal
        from app.models import Ticket
        from app.extensions import db
        from app.services.messages import send_message
        app = create_app({{"ASYNC_MODE": "threading"}})
        with app.app_context():
            ticket = db.session.get(Ticket, "{ticket_id}")
            bot = Principal(kind="bot", workspace_id=ticket.workspace_id, id="bot", name="Bot")
            send_message(bot, ticket_id=ticket.id, client_id="from-a-script", body="Bot here")
    """)
    env = {**redis_env, "SECRET_KEY": "live-test-secret"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    got = guest.wait_for("message:new", lambda d: d["message"]["body"] == "Bot here")
    assert got["message"]["sender"] == {"type": "bot", "id": "bot", "name": "Bot"}
    assert got["message"]["seq"] == 2


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "REDIS_URL"}


@pytest.mark.parametrize("mode", ["gevent", "threading"])
def test_other_async_modes_serve_the_same_chat(
    mode: str, pg_url: str, transports: list[str]
) -> None:
    server = _start(mode, {"DATABASE_URL": pg_url})
    clients: list[Client] = []
    try:
        api = Api(server.url)
        owner = api.signup()
        site = api.site(owner["token"])
        guest = Client(
            server.url, {"visitor_token": api.visitor(site)["visitor_token"]}, transports
        ).connect()
        agent = Client(server.url, {"token": owner["token"]}, transports).connect()
        clients += [guest, agent]
        ticket_id = guest.send("Hi from " + mode)["message"]["ticket_id"]
        agent.wait_for("ticket:created", lambda d: d["ticket"]["id"] == ticket_id)
        assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"]
        assert agent.send("Hello back", ticket_id)["ok"]
        guest.wait_for("message:new", lambda d: d["message"]["body"] == "Hello back")
        if "websocket" in transports:
            assert guest.sio.transport() == "websocket"
    finally:
        for client in clients:
            client.disconnect()
        server.stop()


def _start(mode: str, env: dict[str, str]) -> Server:
    if mode == "gevent":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            "gevent",
            "-w",
            "1",
            "-b",
            "127.0.0.1:{port}",
            "wsgi:app",
        ]
        return Server(env, async_mode="gevent", command=command).start()
    return Server(env, async_mode=mode).start()


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_query_waiting_on_the_database_does_not_stall_the_process(
    mode: str, pg_url: str, redis_env: dict[str, str]
) -> None:
    """psycopg2 and redis-py are cooperative under the patched modes: one request blocked in
    PostgreSQL (on a row lock) leaves the process serving others."""
    import time

    import psycopg2
    import requests

    server = _start(mode, redis_env)
    blocker = psycopg2.connect(pg_url.replace("postgresql+psycopg2", "postgresql"))
    guest: Client | None = None
    try:
        api = Api(server.url)
        owner = api.signup()
        site = api.site(owner["token"])
        guest = Client(
            server.url,
            {"visitor_token": api.visitor(site)["visitor_token"]},
            ["polling", "websocket"],
        ).connect()
        ticket_id = guest.send("first")["message"]["ticket_id"]
        with blocker.cursor() as cur:
            cur.execute("SELECT id FROM tickets WHERE id = %s FOR UPDATE", (ticket_id,))
        guest.sio.emit(
            "message:send",
            {"ticket_id": ticket_id, "client_id": "blocked", "body": "waits for the lock"},
        )
        time.sleep(0.5)  # the send is now waiting in PostgreSQL
        started = time.monotonic()
        for _ in range(5):
            assert requests.get(server.url + "/readyz", timeout=5).status_code == 200
            assert guest.call("presence:heartbeat", {}, timeout=5)["ok"]
        assert time.monotonic() - started < 3
        assert not [d for d in guest.messages() if d["body"] == "waits for the lock"]
        blocker.rollback()
        guest.wait_for("message:new", lambda d: d["message"]["body"] == "waits for the lock")
    finally:
        blocker.close()
        if guest:
            guest.disconnect()
        server.stop()


def test_presence_is_right_across_processes_and_tabs(
    pair: tuple[Server, Server], connect: ClientFactory
) -> None:
    one, two = pair
    api = Api(one.url)
    owner = api.signup()
    colleague = api.add_agent(owner["token"])
    colleague_id = colleague["agent"]["id"]
    watcher = connect({"token": owner["token"]}, server=one)
    tab_one = connect({"token": colleague["token"]}, server=one)
    tab_two = connect({"token": colleague["token"]}, server=two)

    def announced(status: str) -> list[dict]:
        return [
            d
            for d in watcher.of("presence")
            if d["subject"]["id"] == colleague_id and d["status"] == status
        ]

    watcher.wait_for("presence", lambda d: d["subject"]["id"] == colleague_id)
    tab_one.disconnect()
    settle(1.0)
    assert not announced("offline"), "a tab is still open on the other process"
    agents = Api(one.url).call("GET", "/agents", owner["token"])["agents"]
    assert {a["id"]: a["availability"] for a in agents}[colleague_id] == "online"

    tab_two.disconnect()
    watcher.wait_for(
        "presence", lambda d: d["subject"]["id"] == colleague_id and d["status"] == "offline"
    )
    assert len(announced("offline")) == 1, "two processes must not both announce"


def test_a_killed_process_leaves_no_ghost_online(
    redis_env: dict[str, str], pair: tuple[Server, Server], connect: ClientFactory
) -> None:
    import signal

    one, _two = pair
    doomed = Server(redis_env).start()
    try:
        api = Api(one.url)
        owner = api.signup()
        colleague = api.add_agent(owner["token"])
        colleague_id = colleague["agent"]["id"]
        watcher = connect({"token": owner["token"]}, server=one)
        connect({"token": colleague["token"]}, server=doomed)
        watcher.wait_for(
            "presence", lambda d: d["subject"]["id"] == colleague_id and d["status"] == "online"
        )
        doomed.stop(signal.SIGKILL)
        # The surviving process's sweep announces it once the heartbeat window (4 s) passes.
        watcher.wait_for(
            "presence",
            lambda d: d["subject"]["id"] == colleague_id and d["status"] == "offline",
            timeout=15,
        )
    finally:
        doomed.stop()
