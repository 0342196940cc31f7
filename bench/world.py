"""Setup data: workspaces, agents, sites, visitors and tickets.

For Parley everything goes through the public REST API (the calls of ``tests/live.py``):
``POST /auth/signup``, ``/sites``, ``/agents`` and ``/auth/login`` for each agent,
``/widget/session`` for each visitor, and ``POST /tickets`` (as the visitor) to open each
ticket with a first message. The relay accepts any token, so its world is made up locally.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from bench.targets import log

PASSWORD = "bench horse battery staple"  # noqa: S105 - throw-away bench accounts
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
T = TypeVar("T")


def fake_id() -> str:
    """A 26-character id shaped like Parley's (lowercase Crockford base32)."""
    return "".join(_ALPHABET[b & 31] for b in os.urandom(26))


@dataclass
class Workspace:
    owner_token: str
    owner_id: str
    site: dict[str, Any]


@dataclass
class World:
    """Who connects: one visitor per ticket, agents that join tickets."""

    tickets: list[str] = field(default_factory=list)
    visitor_auth: list[dict[str, str]] = field(default_factory=list)
    agent_auth: list[dict[str, str]] = field(default_factory=list)
    #: workspace index of each ticket and of each agent
    ticket_ws: list[int] = field(default_factory=list)
    agent_ws: list[int] = field(default_factory=list)
    workspaces: list[Workspace] = field(default_factory=list)
    setup_s: float = 0.0


class Rest:
    """REST calls against a live Parley server, with a keep-alive session per thread."""

    def __init__(self, url: str) -> None:
        self.url = url + "/api/v1"
        self._sessions: dict[int, requests.Session] = {}

    def _session(self) -> requests.Session:
        import threading

        key = threading.get_ident()
        if key not in self._sessions:
            self._sessions[key] = requests.Session()
        return self._sessions[key]

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(3):
            try:
                r = self._session().request(
                    method, self.url + path, headers=headers, timeout=30, **kwargs
                )
            except requests.ConnectionError:
                if attempt == 2:
                    raise
                time.sleep(0.5)
                continue
            if r.status_code >= 300:
                raise RuntimeError(f"{method} {path} -> {r.status_code} {r.text[:300]}")
            return r.json() if r.content else None
        raise RuntimeError("unreachable")

    def signup(self, workspace: str) -> Workspace:
        email = f"owner-{secrets.token_hex(6)}@bench.example"
        out = self.call(
            "POST",
            "/auth/signup",
            json={
                "workspace_name": workspace,
                "name": "Bench Owner",
                "email": email,
                "password": PASSWORD,
            },
        )
        token = out["token"]
        # Each ticket has its own agent client: automatic assignment would add others.
        self.call("PATCH", "/workspace", token, json={"routing": {"mode": "manual"}})
        site = self.call(
            "POST",
            "/sites",
            token,
            json={"name": "Bench shop", "allowed_origins": ["https://shop.example"]},
        )["site"]
        return Workspace(token, str(out["agent"]["id"]), site)

    def agent(self, ws: Workspace, n: int) -> dict[str, Any]:
        email = f"agent-{n}-{secrets.token_hex(5)}@bench.example"
        self.call(
            "POST",
            "/agents",
            ws.owner_token,
            json={"name": f"Agent {n}", "email": email, "password": PASSWORD, "role": "agent"},
        )
        return self.call(  # type: ignore[no-any-return]
            "POST", "/auth/login", json={"email": email, "password": PASSWORD}
        )

    def visitor(self, ws: Workspace) -> str:
        out = self.call("POST", "/widget/session", json={"site_key": ws.site["site_key"]})
        return str(out["visitor_token"])

    def open_ticket(self, visitor_token: str) -> str:
        out = self.call(
            "POST",
            "/tickets",
            visitor_token,
            json={"client_id": secrets.token_hex(8), "body": "Hello, I need help."},
        )
        return str(out["ticket"]["id"])


def _parallel(fn: Callable[[int], T], n: int, threads: int, what: str) -> list[T]:
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        out = list(pool.map(fn, range(n)))
    if n >= 20:
        log(f"  {n} {what} in {time.monotonic() - t0:.1f}s")
    return out


def parley_world(url: str, *, tickets: int, agents: int, workspaces: int = 1) -> World:
    """Workspaces, ``agents`` agents (logged in) and ``tickets`` tickets, each its visitor's.

    Agent ``k`` belongs to workspace ``k % workspaces``; ticket ``i`` to the workspace of
    agent ``i % agents`` (so an agent only ever joins tickets of its own workspace).
    """
    t0 = time.monotonic()
    rest = Rest(url)
    world = World()
    world.workspaces = _parallel(
        lambda w: rest.signup(f"Bench {w}"), max(1, workspaces), 4, "workspaces"
    )
    nws = len(world.workspaces)
    world.agent_ws = [k % nws for k in range(agents)]
    # Password hashing makes agent creation the slow part (~0.1 s each, serial on the server).
    logins = _parallel(lambda k: rest.agent(world.workspaces[k % nws], k), agents, 4, "agents")
    world.agent_auth = [{"token": str(x["token"])} for x in logins]
    world.ticket_ws = [world.agent_ws[i % agents] if agents else i % nws for i in range(tickets)]

    def make_ticket(i: int) -> tuple[str, str]:
        token = rest.visitor(world.workspaces[world.ticket_ws[i]])
        return token, rest.open_ticket(token)

    made = _parallel(make_ticket, tickets, 8, "tickets")
    world.visitor_auth = [{"visitor_token": token} for token, _ in made]
    world.tickets = [tid for _, tid in made]
    world.setup_s = time.monotonic() - t0
    return world


def parley_visitors(url: str, count: int) -> list[dict[str, str]]:
    """``count`` visitor tokens of one site (anonymous sessions store no row)."""
    rest = Rest(url)
    ws = rest.signup("Bench idle")
    tokens = _parallel(lambda _: rest.visitor(ws), count, 16, "visitor sessions")
    return [{"visitor_token": t} for t in tokens]


def relay_world(*, tickets: int, agents: int, workspaces: int = 1) -> World:
    """The relay accepts any token: a visitor token is its ticket id, an agent's its id.

    Workspaces are spread as in ``parley_world``; with more than one, ids carry a ``w<n>.``
    prefix that the relay reads to send inbox updates to that workspace's agents only.
    """
    world = World()
    nws = max(1, workspaces)
    world.agent_ws = [k % nws for k in range(agents)]
    world.ticket_ws = [world.agent_ws[i % agents] if agents else i % nws for i in range(tickets)]

    def tagged(ws: int) -> str:
        return f"w{ws}.{fake_id()}" if nws > 1 else fake_id()

    world.tickets = [tagged(ws) for ws in world.ticket_ws]
    world.visitor_auth = [{"visitor_token": t} for t in world.tickets]
    world.agent_auth = [{"token": tagged(ws)} for ws in world.agent_ws]
    return world


def relay_visitors(count: int) -> list[dict[str, str]]:
    return [{"visitor_token": fake_id()} for _ in range(count)]
