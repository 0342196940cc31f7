"""Concurrent senders on one ticket: seq 1..N with no gap and no duplicate (PostgreSQL)."""

from __future__ import annotations

import threading
import time
import uuid

import socketio

from tests.live import Api, Client
from tests.realtime.conftest import ClientFactory

SENDERS = 20
EACH = 10


def _send_until_acked(client: Client, body: str, ticket_id: str, client_id: str) -> dict:
    """What a real client does: on an ack timeout or a busy server (`unavailable`), send
    again with the same client_id, a little later."""
    for attempt in range(50):
        try:
            ack = client.call(
                "message:send",
                {"ticket_id": ticket_id, "client_id": client_id, "body": body},
                timeout=30,
            )
        except socketio.exceptions.TimeoutError:
            continue
        if ack.get("ok") or ack["error"]["code"] != "unavailable":
            return ack  # type: ignore[no-any-return]
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError(f"no ack for {client_id} after 50 tries")


def test_twenty_concurrent_senders_get_gapless_unique_seqs(
    api: Api, connect: ClientFactory
) -> None:
    owner = api.signup()
    # Chat mechanics, without automatic assignment (its system lines would take seqs).
    api.call("PATCH", "/workspace", owner["token"], json={"routing": {"mode": "manual"}})
    site = api.site(owner["token"])
    guest = connect({"visitor_token": api.visitor(site)["visitor_token"]})
    ticket_id = guest.send("opening line")["message"]["ticket_id"]
    tokens = [owner["token"]] + [
        api.add_agent(owner["token"], f"Agent {i}")["token"] for i in range(SENDERS - 2)
    ]
    senders = [guest] + [connect({"token": t}) for t in tokens]
    assert len(senders) == SENDERS
    plans = {i: [uuid.uuid4().hex for _ in range(EACH)] for i in range(SENDERS)}
    acks: dict[str, dict] = {}
    lock = threading.Lock()
    start = threading.Barrier(SENDERS)

    def run(i: int) -> None:
        start.wait()
        for n, client_id in enumerate(plans[i]):
            ack = _send_until_acked(senders[i], f"sender {i} message {n}", ticket_id, client_id)
            assert ack["ok"], ack

            with lock:
                acks[client_id] = ack["message"]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    total = SENDERS * EACH
    assert [c.disconnect_reasons for c in senders] == [[]] * SENDERS
    assert len(acks) == total

    seqs = sorted(m["seq"] for m in acks.values())
    assert seqs == list(range(2, total + 2))

    # A resend after a lost ack returns the stored message and stores nothing new.
    lost = plans[3][4]
    again = senders[3].send("sender 3 message 4", ticket_id, lost)
    assert again["duplicate"] is True and again["message"]["id"] == acks[lost]["id"]

    stored: list[dict] = []
    after = 0
    while True:
        page = api.call(
            "GET", f"/tickets/{ticket_id}/messages?after={after}&limit=200", owner["token"]
        )
        stored += page["messages"]
        if not page["has_more"]:
            break
        after = stored[-1]["seq"]
    assert [m["seq"] for m in stored] == list(range(1, total + 2))
    assert len({m["id"] for m in stored}) == total + 1
    assert {m["client_id"] for m in stored[1:]} == set(acks)
    # Each sender's own messages are stored in the order it sent them.
    for i in range(SENDERS):
        mine = [m for m in stored if m["client_id"] in set(plans[i])]
        assert [m["body"] for m in mine] == [f"sender {i} message {n}" for n in range(EACH)]
