"""A publish lost between processes is healed by ``sync``, not by luck.

The agent's process loses its link to Redis (a network blip: the proxy between them is cut)
while the visitor's process publishes a message. Redis pub/sub keeps nothing for an absent
subscriber, so the agent never gets that ``message:new``; once the link is back, newer
messages arrive again, and ``sync`` from the agent's last seq returns the lost one.
"""

from __future__ import annotations

import time

from tests.faults.conftest import RedisPair
from tests.live import Api, Client, settle

#: How long the agent's process may take to subscribe again once the link is back
#: (python-socketio retries after 1, 2, 4... s).
RESUBSCRIBE_S = 15.0


def test_a_publish_lost_between_processes_comes_back_with_sync(redis_pair: RedisPair) -> None:
    one, two = redis_pair.one, redis_pair.two
    api = Api(one.url)
    owner = api.signup()
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    session = api.visitor(site)
    guest = Client(one.url, {"visitor_token": session["visitor_token"]}, ["polling"]).connect()
    agent = Client(two.url, {"token": owner["token"]}, ["polling", "websocket"]).connect()
    try:
        ticket_id = guest.send("Hello")["message"]["ticket_id"]
        assert agent.call("ticket:join", {"ticket_id": ticket_id})["ok"]
        assert guest.send("Anyone?", ticket_id, "before")["ok"]
        agent.wait_for("message:new", lambda d: d["message"]["client_id"] == "before")
        last_seq = max(m["seq"] for m in agent.messages())

        redis_pair.link.cut()
        lost = guest.send("Did you get this one?", ticket_id, "lost")
        assert lost["ok"], lost  # stored and acked: only its event is lost
        settle(0.5)
        redis_pair.link.restore()

        cut_at = time.monotonic()
        for n in range(200):  # newer messages reach the agent once process two listens again
            cid = f"after-{n}"
            assert guest.send(f"Still there? {n}", ticket_id, cid)["ok"]
            try:
                agent.wait_for("message:new", lambda d, c=cid: d["message"]["client_id"] == c, 0.5)
                break
            except AssertionError:
                assert time.monotonic() - cut_at < RESUBSCRIBE_S, "process two never came back"
        # The lost event never came: not late, not by luck.
        assert "lost" not in {m["client_id"] for m in agent.messages()}
        assert agent.sio.connected, "the agent's own connection never dropped"

        synced = agent.call("sync", {"tickets": {ticket_id: last_seq}})
        assert synced["ok"] and not synced["has_more"][ticket_id]
        assert synced["messages"][0]["client_id"] == "lost"
        assert synced["messages"][0]["seq"] == lost["message"]["seq"] == last_seq + 1
        seqs = [m["seq"] for m in synced["messages"]]
        assert seqs == list(range(last_seq + 1, last_seq + 1 + len(seqs)))
    finally:
        guest.disconnect()
        agent.disconnect()
