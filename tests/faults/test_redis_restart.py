"""Redis restarted mid-chat (its data lost): within 10 s messages cross processes again and
presence is right again, without waiting for the clients' next heartbeat (every 15 s)."""

from __future__ import annotations

import time
from typing import Any

from tests.faults.conftest import RedisPair
from tests.live import Api, Client, Server

#: The issue's liveness deadline, counted from the moment Redis answers again.
RECOVERY_S = 10.0


def test_chat_and_presence_recover_within_10_s_of_a_redis_restart(redis_pair: RedisPair) -> None:
    one, two, redis_server = redis_pair.one, redis_pair.two, redis_pair.redis
    api = Api(one.url)
    owner = api.signup()
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    session = api.visitor(site)
    visitor_id = session["visitor"]["id"]
    guest = Client(one.url, {"visitor_token": session["visitor_token"]}, ["polling"]).connect()
    agent = Client(two.url, {"token": owner["token"]}, ["polling", "websocket"]).connect()
    try:
        ticket_id = guest.send("Hello before the restart")["message"]["ticket_id"]
        assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"]
        assert agent.send("Hi! Before the restart too.", ticket_id)["ok"]
        guest.wait_for("message:new", lambda d: d["message"]["body"].startswith("Hi!"))
        assert _presence(one, owner, visitor_id) == ("online", "online")

        redis_server.kill()
        # While Redis is down a heartbeat says so with a contract code, never a crash.
        ack = agent.call("presence:heartbeat", {})
        assert ack["ok"] or ack["error"]["code"] == "unavailable", ack
        redis_server.start()
        back_at = time.monotonic()

        acked = _chat_until_it_crosses(guest, agent, ticket_id, back_at)
        presence = _presence(one, owner, visitor_id)
        while presence != ("online", "online"):
            assert time.monotonic() - back_at < RECOVERY_S, f"presence still {presence}"
            time.sleep(0.3)
            presence = _presence(one, owner, visitor_id)
        # Both ways, and the heartbeat of an ordinary client works again.
        assert agent.send("Glad you are still here", ticket_id)["ok"]
        guest.wait_for("message:new", lambda d: d["message"]["body"] == "Glad you are still here")
        assert agent.call("presence:heartbeat", {}) == {"ok": True, "status": "online"}
        assert time.monotonic() - back_at < RECOVERY_S + 5

        # Nothing acked was lost: the agent's catch-up holds every message once.
        synced = agent.call("sync", {"tickets": {ticket_id: 0}})
        seqs = [m["seq"] for m in synced["messages"]]
        assert seqs == list(range(1, len(seqs) + 1))
        assert {m["client_id"] for m in synced["messages"]} >= acked
    finally:
        guest.disconnect()
        agent.disconnect()


def _chat_until_it_crosses(guest: Client, agent: Client, ticket_id: str, since: float) -> set[str]:
    """The visitor (process one) sends until one message reaches the agent (process two)
    through the restarted Redis; returns the client_ids acked."""
    acked: set[str] = set()
    for n in range(100):
        assert time.monotonic() - since < RECOVERY_S, "no message crossed processes in 10 s"
        cid = f"after-restart-{n}"
        ack = guest.send(f"are you there? {n}", ticket_id, cid)
        if not ack["ok"]:
            assert ack["error"]["code"] == "unavailable", ack
            time.sleep(0.3)
            continue
        acked.add(cid)
        try:
            agent.wait_for("message:new", lambda d, c=cid: d["message"]["client_id"] == c, 1)
            return acked
        except AssertionError:
            continue
    raise AssertionError("unreachable")


def _presence(server: Server, owner: dict[str, Any], visitor_id: str) -> tuple[str, str]:
    """(the agent's availability, the visitor's status) as process ``server`` reports them."""
    api = Api(server.url)
    agents = api.call("GET", "/agents", owner["token"])["agents"]
    visitor = api.call("GET", f"/visitors/{visitor_id}", owner["token"])["visitor"]
    return agents[0]["availability"], visitor["status"]
