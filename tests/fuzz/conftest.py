"""One real server process (eventlet, PostgreSQL) shared by the fuzz tests, a small world of
workspace, site, agent, visitor and tickets on it, and a watch over the server's log."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.live import Api, Client, Server

#: Error codes an ack or a REST error may carry (CONTRACT section 2).
CONTRACT_CODES = frozenset(
    {
        "invalid",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "too_large",
        "rate_limited",
        "unavailable",
    }
)

#: What a server log must never show: an escaped exception, a handler's last-resort catch,
#: a database error caused by input (the database itself is healthy during these tests).
_BAD_LOG = re.compile(
    r"Traceback|Exception|Error on request|unhandled error|database error in|"
    r"socket handler error"
)


class LogWatch:
    """Reads what the server logged since the watch began."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.offset = server.log_path.stat().st_size

    def text(self) -> str:
        with open(self.server.log_path, "rb") as handle:
            handle.seek(self.offset)
            return handle.read().decode(errors="replace")

    def assert_clean(self) -> None:
        text = self.text()
        match = _BAD_LOG.search(text)
        if match:
            start = max(0, match.start() - 1500)
            raise AssertionError(f"the server logged an error:\n{text[start : match.end() + 3000]}")


@dataclass
class World:
    """A workspace with a site, its owner (agent), a visitor with a ticket, and a stranger's
    ticket in another workspace (ids that exist but must stay out of reach)."""

    server: Server
    api: Api
    owner: dict[str, Any]
    site: dict[str, Any]
    visitor: dict[str, Any]
    ticket_id: str
    message_id: str
    foreign_ticket_id: str
    foreign_message_id: str

    @property
    def agent_auth(self) -> dict[str, Any]:
        return {"token": self.owner["token"]}

    @property
    def visitor_auth(self) -> dict[str, Any]:
        return {"visitor_token": self.visitor["visitor_token"]}


@pytest.fixture(scope="session")
def fuzz_server(pg_url: str) -> Iterator[Server]:
    server = Server({"DATABASE_URL": pg_url}).start()
    yield server
    server.stop()


def _workspace(api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    owner = api.signup()
    # No automatic assignment and no bot: the fuzz exercises the handlers, not routing.
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    return owner, site, api.visitor(site)


def _first_message(api: Api, visitor: dict[str, Any]) -> dict[str, Any]:
    body = {"client_id": uuid.uuid4().hex, "body": "Where is my parcel?"}
    ticket = api.call("POST", "/tickets", visitor["visitor_token"], json=body)["ticket"]
    return ticket["last_message"] or {"id": "", "ticket_id": ticket["id"]}


@pytest.fixture(scope="session")
def world(fuzz_server: Server) -> World:
    api = Api(fuzz_server.url)
    owner, site, visitor = _workspace(api)
    mine = _first_message(api, visitor)
    _other_owner, _other_site, other_visitor = _workspace(api)
    theirs = _first_message(api, other_visitor)
    return World(
        server=fuzz_server,
        api=api,
        owner=owner,
        site=site,
        visitor=visitor,
        ticket_id=mine["ticket_id"],
        message_id=mine["id"],
        foreign_ticket_id=theirs["ticket_id"],
        foreign_message_id=theirs["id"],
    )


def client(world: World, role: str, transports: list[str] | None = None) -> Client:
    auth = world.agent_auth if role == "agent" else world.visitor_auth
    return Client(world.server.url, auth, transports or ["websocket"]).connect()


def assert_chat_works(world: World) -> None:
    """A visitor's normal send reaches the agent who joined the ticket."""
    agent = client(world, "agent")
    guest = client(world, "visitor")
    try:
        assert agent.call("ticket:join", {"ticket_id": world.ticket_id})["ok"] is True
        text = f"still alive {uuid.uuid4().hex[:6]}"
        ack = guest.send(text, world.ticket_id)
        assert ack["ok"] is True, ack
        agent.wait_for("message:new", lambda d: d["message"]["body"] == text)
    finally:
        guest.disconnect()
        agent.disconnect()
