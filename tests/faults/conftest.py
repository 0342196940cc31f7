"""Fixtures of the fault tests: PostgreSQL behind a proxy that can be cut; two server
processes sharing a Redis of their own, the second one through a proxy that can be cut."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from tests.faults.tools import RedisServer, TcpProxy
from tests.live import Server


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by ``127.0.0.1:port``."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[TcpProxy]:
    """A cuttable proxy in front of this session's PostgreSQL database."""
    proxy = TcpProxy(urlsplit(pg_url).port or 5432, urlsplit(pg_url).hostname or "127.0.0.1")
    yield proxy
    proxy.close()


@dataclass
class RedisPair:
    redis: RedisServer
    one: Server  # straight to Redis
    two: Server  # through ``link``
    link: TcpProxy


@pytest.fixture(scope="session")
def redis_pair(pg_url: str) -> Iterator[RedisPair]:
    """Two processes and their Redis, shared by the Redis tests (each server costs seconds).

    Presence keeps production's 30 s window: clients heartbeat every 15 s, so after a fault
    presence must come back from the servers' side, not from a heartbeat that happens to
    fall in a test's window.
    """
    redis = RedisServer().start()
    link = TcpProxy(redis.port)
    env = {
        "DATABASE_URL": pg_url,
        "SOCKETIO_CHANNEL": f"parley-faults-{uuid.uuid4().hex[:8]}",
        "PRESENCE_TTL_S": "30",
    }
    one = Server({**env, "REDIS_URL": redis.url}).start()
    two = Server({**env, "REDIS_URL": f"redis://127.0.0.1:{link.port}/0"}).start()
    yield RedisPair(redis, one, two, link)
    one.stop(signal.SIGKILL)  # nothing to keep; SIGTERM took seconds
    two.stop(signal.SIGKILL)
    link.close()
    redis.kill()


def stored_messages(pg_url: str, ticket_ids: list[str]) -> list[tuple[Any, ...]]:
    """``(ticket_id, seq, sender_type, sender_id, client_id, body)`` of the tickets, by seq."""
    conn = psycopg2.connect(pg_url.replace("postgresql+psycopg2", "postgresql"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT ticket_id, seq, sender_type, sender_id, client_id, body FROM messages"
                " WHERE ticket_id = ANY(%s) ORDER BY ticket_id, seq",
                (ticket_ids,),
            )
            return list(cur.fetchall())
    finally:
        conn.close()
