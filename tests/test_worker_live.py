"""The real thing: ``python wsgi.py`` and ``python worker.py`` processes on the real Redis
and PostgreSQL push to a push service on loopback; a worker killed with -9 mid-push is
replaced and the push still arrives, once; a 410 deletes the subscription. Embedded mode
(no Redis) delivers from the web process itself."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import redis

from tests.conftest import PG_SERVER, _pg_admin, migrate_to_head
from tests.live import ROOT, Api, Server
from tests.pushstub import PushStub, Subscriber

REDIS_DB_URL = "redis://127.0.0.1:6379/11"


class Worker:
    """``python worker.py`` with the server's environment, its log kept for failures."""

    def __init__(self, env: dict[str, str]) -> None:
        self.log_path = Path(tempfile.gettempdir()) / f"parley-worker-{uuid.uuid4().hex[:8]}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(15)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def _clear_queues() -> None:
    client = redis.Redis.from_url(REDIS_DB_URL)
    for key in client.scan_iter("rq:*"):
        client.delete(key)


@pytest.fixture
def stub(server: Server) -> Iterator[PushStub]:
    key = Api(server.url).call("GET", "/push/vapid-public-key")["public_key"]
    with PushStub(key) as stub:
        yield stub


@pytest.fixture
def server(pg_url: str) -> Iterator[Server]:
    _clear_queues()
    env = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": REDIS_DB_URL,
        "PUSH_ALLOW_PRIVATE": "1",
        "DELIVERY_RETRY_BASE_S": "1",
        "VAPID_PRIVATE_KEY": "3IiwMB0UhXAC_b-a3zdPsodRnWSCwIAyZ5uJ7DJK6Ck",
        "SOCKETIO_CHANNEL": f"parley-worker-test-{uuid.uuid4().hex[:6]}",
    }
    server = Server(env).start()
    yield server
    server.stop()


def _worker(server: Server) -> Worker:
    return Worker({k: v for k, v in server.env.items() if k != "PORT"})


def _visitor_waiting_for_a_reply(
    api: Api, owner: dict[str, Any], stub: PushStub
) -> tuple[str, Subscriber]:
    """A visitor who wrote, then left with push switched on: returns its ticket and subscription."""
    site = api.site(owner["token"])
    session = api.visitor(site)
    token = session["visitor_token"]
    body = {"client_id": uuid.uuid4().hex, "body": "Is my order on its way?"}
    ticket = api.call("POST", "/tickets", token, json=body)["ticket"]
    sub = stub.subscriber()
    api.call("POST", "/push/subscriptions", token, json=sub.subscription)
    return ticket["id"], sub


def _reply(api: Api, owner: dict[str, Any], ticket_id: str, text: str) -> None:
    body = {"client_id": uuid.uuid4().hex, "body": text}
    api.call("POST", f"/tickets/{ticket_id}/messages", owner["token"], json=body)


def test_worker_process_delivers_a_reply_to_the_push_service(
    server: Server, stub: PushStub
) -> None:
    worker = _worker(server)
    try:
        api = Api(server.url)
        owner = api.signup()
        ticket_id, sub = _visitor_waiting_for_a_reply(api, owner, stub)
        _reply(api, owner, ticket_id, "Yes, it ships today.")
        [push] = stub.wait_for(sub, 1, timeout=30)
        assert push["payload"]["body"] == "Yes, it ships today."
        assert push["payload"]["ticket_id"] == ticket_id
        assert push["payload"]["title"] == "Olive Owner"
        assert stub.errors == []
    finally:
        worker.kill(signal.SIGTERM)


def test_a_worker_killed_mid_push_is_replaced_and_the_push_arrives_once(
    server: Server, stub: PushStub
) -> None:
    worker = _worker(server)
    api = Api(server.url)
    owner = api.signup()
    ticket_id, sub = _visitor_waiting_for_a_reply(api, owner, stub)
    sub.hold = threading.Event()
    _reply(api, owner, ticket_id, "Survives a crash")
    assert sub.held.wait(30), worker.log()
    worker.kill()  # SIGKILL while the push request is in flight
    sub.hold.set()
    replacement = _worker(server)
    try:
        try:
            [push] = stub.wait_for(sub, 1, timeout=120)
        except AssertionError as missing:
            raise AssertionError(f"{missing}\nreplacement worker:\n{replacement.log()}") from None
        assert push["payload"]["body"] == "Survives a crash"
        time.sleep(2)  # nothing else is on its way
        assert len(sub.received) == 1 and sub.attempts == 2, replacement.log()
    finally:
        replacement.kill(signal.SIGTERM)


def _subscriptions_with(database_url: str, endpoint: str) -> int:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM push_subscriptions WHERE endpoint = %s", (endpoint,))
        row = cur.fetchone()
    conn.close()
    return int(row[0]) if row else 0


def test_a_410_from_the_push_service_deletes_the_subscription(
    server: Server, stub: PushStub
) -> None:
    worker = _worker(server)
    try:
        api = Api(server.url)
        owner = api.signup()
        ticket_id, sub = _visitor_waiting_for_a_reply(api, owner, stub)
        assert _subscriptions_with(server.env["DATABASE_URL"], sub.endpoint) == 1
        sub.script = [(410, {})]
        _reply(api, owner, ticket_id, "Anyone?")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _subscriptions_with(server.env["DATABASE_URL"], sub.endpoint) == 0:
                break
            time.sleep(0.2)
        assert _subscriptions_with(server.env["DATABASE_URL"], sub.endpoint) == 0, worker.log()
        assert sub.received == [] and sub.attempts == 1
    finally:
        worker.kill(signal.SIGTERM)


def test_embedded_mode_delivers_from_the_web_process(pg_url: str) -> None:
    server = Server(
        {
            "DATABASE_URL": pg_url,
            "PUSH_ALLOW_PRIVATE": "1",
            "VAPID_PRIVATE_KEY": "3IiwMB0UhXAC_b-a3zdPsodRnWSCwIAyZ5uJ7DJK6Ck",
        }
    ).start()
    try:
        api = Api(server.url)
        key = api.call("GET", "/push/vapid-public-key")["public_key"]
        with PushStub(key) as stub:
            owner = api.signup()
            ticket_id, sub = _visitor_waiting_for_a_reply(api, owner, stub)
            _reply(api, owner, ticket_id, "No Redis needed")
            [push] = stub.wait_for(sub, 1, timeout=30)
            assert push["payload"]["body"] == "No Redis needed"
            assert stub.errors == []
    finally:
        server.stop()


def _retry_recorded(database_url: str, endpoint: str) -> bool:
    """Whether a push to ``endpoint`` failed with 503 and waits for its retry."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM deliveries d JOIN push_subscriptions s"
            " ON s.id = d.subscription_id WHERE s.endpoint = %s"
            " AND d.status = 'pending' AND d.last_status_code = 503",
            (endpoint,),
        )
        row = cur.fetchone()
    conn.close()
    return bool(row and row[0])


@pytest.fixture
def own_pg_url() -> Iterator[str]:
    """A database of its own: the one-pass worker delivers everything due, and the session's
    shared database holds other tests' due deliveries (to endpoints long gone)."""
    name = f"parley_worker_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        migrate_to_head(url)
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_worker_without_redis_delivers_what_a_stopped_server_left_due(own_pg_url: str) -> None:
    pg_url = own_pg_url
    env = {
        "DATABASE_URL": pg_url,
        "PUSH_ALLOW_PRIVATE": "1",
        "VAPID_PRIVATE_KEY": "3IiwMB0UhXAC_b-a3zdPsodRnWSCwIAyZ5uJ7DJK6Ck",
        "DELIVERY_RETRY_BASE_S": "3600",
    }
    server = Server(env).start()
    api = Api(server.url)
    key = api.call("GET", "/push/vapid-public-key")["public_key"]
    with PushStub(key) as stub:
        owner = api.signup()
        ticket_id, sub = _visitor_waiting_for_a_reply(api, owner, stub)
        sub.script = [(503, {})]
        _reply(api, owner, ticket_id, "After the restart")
        # Wait until the server has recorded the 503 (not just sent the request): stopped
        # between the two, it would leave the delivery claimed ("sending") for its lease.
        deadline = time.monotonic() + 30
        while not _retry_recorded(pg_url, sub.endpoint) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _retry_recorded(pg_url, sub.endpoint), server.log()
        server.stop()  # its retry, an hour away, lived in its memory
        with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
            cur.execute(
                "UPDATE deliveries SET next_attempt_at = now() - interval '1 minute'"
                " WHERE status = 'pending'"
            )
        conn.close()
        done = subprocess.run(
            [sys.executable, "worker.py", "--once"],
            cwd=ROOT,
            env={k: v for k, v in server.env.items() if k not in ("PORT", "REDIS_URL")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        [push] = stub.wait_for(sub, 1, timeout=10)
        assert push["payload"]["body"] == "After the restart"
        assert stub.errors == []
