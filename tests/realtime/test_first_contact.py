"""A visitor's burst of first messages, all at once, opens exactly one ticket."""

from __future__ import annotations

import threading
import uuid

import requests

from tests.live import Api, Server

BURST = 20


def test_concurrent_first_messages_of_one_visitor_open_one_ticket(live_server: Server) -> None:
    api = Api(live_server.url)
    owner = api.signup()
    site = api.site(owner["token"])
    token = api.visitor(site)["visitor_token"]
    replies: list[requests.Response] = []
    lock = threading.Lock()
    start = threading.Barrier(BURST)

    def first_message(n: int) -> None:
        start.wait()
        r = requests.post(
            live_server.url + "/api/v1/tickets",
            headers={"Authorization": f"Bearer {token}"},
            json={"client_id": uuid.uuid4().hex, "body": f"hello {n}"},
            timeout=30,
        )
        with lock:
            replies.append(r)

    threads = [threading.Thread(target=first_message, args=(n,)) for n in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status_code for r in replies) == [201] * BURST, [r.text for r in replies]
    tickets = {r.json()["ticket"]["id"] for r in replies}
    assert len(tickets) == 1
    seqs = sorted(r.json()["message"]["seq"] for r in replies)
    assert seqs == list(range(1, BURST + 1))
    listed = api.call("GET", "/tickets", owner["token"])["tickets"]
    assert [t["id"] for t in listed] == list(tickets)
