"""Who may open a socket: the console cookie only from our own origin, tokens from anywhere."""

from __future__ import annotations

import pytest
import requests
import socketio

from tests.live import PASSWORD, Api, Client, Server


def _console_cookie(server: Server, api: Api) -> tuple[str, dict]:
    owner = api.signup()
    r = requests.post(
        server.url + "/api/v1/auth/login",
        json={"email": owner["agent"]["email"], "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200
    return f"parley_session={r.cookies['parley_session']}", owner


def test_console_cookie_connects_from_our_own_origin(live_server: Server, transports) -> None:
    api = Api(live_server.url)
    cookie, owner = _console_cookie(live_server, api)
    client = Client(
        live_server.url, None, transports, headers={"Cookie": cookie, "Origin": live_server.url}
    ).connect()
    try:
        assert client.call("presence:heartbeat", {})["ok"] is True
        site = api.site(owner["token"])
        guest = Client(
            live_server.url, {"visitor_token": api.visitor(site)["visitor_token"]}, transports
        ).connect()
        ticket_id = guest.send("hello")["message"]["ticket_id"]
        client.wait_for("ticket:created", lambda d: d["ticket"]["id"] == ticket_id)
        guest.disconnect()
    finally:
        client.disconnect()


@pytest.mark.parametrize("origin", ["https://evil.example", None, "null"])
def test_console_cookie_from_another_origin_or_none_is_refused(
    live_server: Server, transports, origin: str | None
) -> None:
    api = Api(live_server.url)
    cookie, _owner = _console_cookie(live_server, api)
    headers = {"Cookie": cookie}
    if origin:
        headers["Origin"] = origin
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, headers=headers, transports=transports, wait_timeout=5)
    client.disconnect()


def test_revoked_console_session_cannot_connect(live_server: Server, transports) -> None:
    api = Api(live_server.url)
    owner = api.signup()
    session = requests.Session()
    r = session.post(
        live_server.url + "/api/v1/auth/login",
        json={"email": owner["agent"]["email"], "password": PASSWORD},
        timeout=10,
    )
    cookie = f"parley_session={session.cookies['parley_session']}"
    csrf = r.json()["csrf_token"]
    out = session.post(
        live_server.url + "/api/v1/auth/logout",
        headers={"X-CSRF-Token": csrf, "Origin": live_server.url},
        timeout=10,
    )
    assert out.status_code == 204
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            live_server.url,
            headers={"Cookie": cookie, "Origin": live_server.url},
            transports=transports,
            wait_timeout=5,
        )
    client.disconnect()


def test_visitor_token_of_one_site_is_bound_to_it(live_server: Server, transports) -> None:
    api = Api(live_server.url)
    owner = api.signup()
    site_a, site_b = api.site(owner["token"]), api.site(owner["token"])
    token_a = api.visitor(site_a)["visitor_token"]
    again = api.visitor(site_b, token=token_a)
    assert again["visitor_token"] != token_a
    assert again["visitor"]["id"] != api.visitor(site_a, token=token_a)["visitor"]["id"]


def _wait_disconnected(client: Client, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while client.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.sio.connected, "the socket stayed open"


def test_logout_closes_the_agents_sockets(live_server: Server, transports) -> None:
    api = Api(live_server.url)
    owner = api.signup()
    session = api.add_agent(owner["token"])
    socket = Client(live_server.url, {"token": session["token"]}, transports).connect()
    other = Client(live_server.url, {"token": owner["token"]}, transports).connect()
    try:
        assert socket.call("presence:heartbeat", {})["ok"]
        api.call("POST", "/auth/logout", session["token"])
        _wait_disconnected(socket, timeout=5)
        assert other.call("presence:heartbeat", {})["ok"], "other agents stay connected"
        again = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect(
                live_server.url,
                auth={"token": session["token"]},
                transports=transports,
                wait_timeout=5,
            )
        again.disconnect()
    finally:
        socket.disconnect()
        other.disconnect()


def test_an_expired_token_closes_its_socket(live_server: Server, pg_url: str, transports) -> None:
    import psycopg2

    api = Api(live_server.url)
    owner = api.signup()
    session = api.add_agent(owner["token"])
    socket = Client(live_server.url, {"token": session["token"]}, transports).connect()
    try:
        assert socket.call("presence:heartbeat", {})["ok"]
        with psycopg2.connect(pg_url.replace("postgresql+psycopg2", "postgresql")) as conn:
            with conn.cursor() as cur:
                cur.execute(
                    "UPDATE api_tokens SET expires_at = now() - interval '1 minute' "
                    "WHERE agent_id = %s",
                    (session["agent"]["id"],),
                )
        _wait_disconnected(socket, timeout=10)  # the server re-checks every second in tests
    finally:
        socket.disconnect()
