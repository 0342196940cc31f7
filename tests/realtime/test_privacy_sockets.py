"""Erasing a visitor (DELETE /visitors/{id}) closes its live sockets and refuses new ones."""

from __future__ import annotations

import time

import pytest
import requests
import socketio

from tests.live import Api, Client, Server


def _wait_disconnected(client: Client, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while client.sio.connected:
        assert time.monotonic() < deadline, "the erased visitor's socket is still open"
        time.sleep(0.05)


def test_erasing_a_visitor_closes_its_sockets_and_refuses_its_token(
    live_server: Server, transports: list[str]
) -> None:
    api = Api(live_server.url)
    owner = api.signup()
    site = api.site(owner["token"])
    vera_token = api.visitor(site)["visitor_token"]
    vera = Client(live_server.url, {"visitor_token": vera_token}, transports).connect()
    other = Client(
        live_server.url, {"visitor_token": api.visitor(site)["visitor_token"]}, transports
    ).connect()
    try:
        ticket_id = vera.send("please forget me")["message"]["ticket_id"]
        vera_id = api.call("GET", f"/tickets/{ticket_id}", owner["token"])["ticket"]["visitor"][
            "id"
        ]
        r = requests.delete(
            f"{api.url}/visitors/{vera_id}",
            headers={"Authorization": f"Bearer {owner['token']}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        _wait_disconnected(vera)
        again = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect(
                live_server.url,
                auth={"visitor_token": vera_token},
                transports=transports,
                wait_timeout=5,
            )
        again.disconnect()
        # The other visitor of the same site is untouched.
        assert other.sio.connected
        assert other.send("still here")["ok"] is True
    finally:
        vera.disconnect()
        other.disconnect()
