"""Live fixtures: a real server process (eventlet, PostgreSQL) and clients on both transports.

Every real-time test runs twice: over WebSocket and over long polling only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.live import Api, Client, Server


@pytest.fixture(scope="session")
def live_server(pg_url: str) -> Iterator[Server]:
    server = Server({"DATABASE_URL": pg_url}).start()
    yield server
    server.stop()


@pytest.fixture
def api(live_server: Server) -> Api:
    return Api(live_server.url)


@pytest.fixture(params=["websocket", "polling"])
def transports(request: pytest.FixtureRequest) -> list[str]:
    return ["polling", "websocket"] if request.param == "websocket" else ["polling"]


ClientFactory = Callable[..., Client]


@pytest.fixture
def connect(live_server: Server, transports: list[str]) -> Iterator[ClientFactory]:
    """``connect(auth)`` opens a client on the live server; all are closed after the test."""
    opened: list[Client] = []

    def factory(
        auth: dict[str, Any] | None,
        server: Server | None = None,
        headers: dict[str, str] | None = None,
    ) -> Client:
        client = Client((server or live_server).url, auth, transports, headers)
        client.connect()
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.disconnect()
