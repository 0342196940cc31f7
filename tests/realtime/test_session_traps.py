"""Session traps (issue 9, item 7): a cookie-riding polling handshake, a wildcard CORS
setting, an HMAC identity bound to the wrong external id, and sockets outliving a logout
or a deactivation."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import time
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests import factories as f
from tests.live import PASSWORD, Api, Client, Server

# -- helpers ------------------------------------------------------------------------------------


def _console_login(server: Server, email: str) -> tuple[requests.Session, str]:
    """A console session (cookie) and its CSRF token, as the browser gets them."""
    session = requests.Session()
    r = session.post(
        server.url + "/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert r.status_code == 200, r.text
    return session, r.json()["csrf_token"]


def _cookie_header(session: requests.Session) -> str:
    return f"parley_session={session.cookies['parley_session']}"


def _packets(body: str) -> list[str]:
    """Engine.IO v4 polling payload: packets separated by the record separator."""
    return [p for p in body.split("\x1e") if p]


def _polling_connect(server: Server, headers: dict[str, str], connect: str = "40") -> list[str]:
    """A raw long-polling handshake, then a Socket.IO CONNECT without an auth dict, as a
    browser's same-origin polling GET sends it (with cookies, without Origin). Returns the
    packets the server answers to the CONNECT."""
    base = server.url + "/socket.io/?EIO=4&transport=polling"
    r = requests.get(base, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    opened = _packets(r.text)[0]
    assert opened.startswith("0"), opened
    sid = json.loads(opened[1:])["sid"]
    url = f"{base}&sid={sid}"
    post = requests.post(url, data=connect, headers=headers, timeout=10)
    assert post.status_code == 200, post.text
    answer: list[str] = []
    deadline = time.monotonic() + 10
    while not any(p.startswith("4") for p in answer) and time.monotonic() < deadline:
        got = requests.get(url, headers=headers, timeout=30)
        if got.status_code != 200:
            break
        answer += [p for p in _packets(got.text) if not p.startswith("2")]  # skip pings
    return answer


def _wait_disconnected(client: Client, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while client.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.sio.connected, f"the socket stayed open for {timeout}s"


# -- a polling handshake with the cookie but no Origin ---------------------------------------


def test_polling_handshake_with_the_console_cookie_and_no_origin_gets_no_session(
    live_server: Server,
) -> None:
    owner = Api(live_server.url).signup()
    session, _csrf = _console_login(live_server, owner["agent"]["email"])
    cookie = {"Cookie": _cookie_header(session)}
    # Control: the same raw handshake from our own page (Origin set) is an agent session.
    accepted = _polling_connect(live_server, {**cookie, "Origin": live_server.url})
    assert any(p.startswith("40") for p in accepted), accepted
    # Without Origin the cookie counts for nothing: the CONNECT is refused, whatever auth
    # dict without a usable token it carries.
    for packet in ("40", "40{}", '40{"token":null}', '40{"token":null,"visitor_token":null}'):
        refused = _polling_connect(live_server, cookie, packet)
        assert refused and refused[0].startswith("44"), (packet, refused)
        assert "unauthorized" in refused[0]
        assert not any(p.startswith("40") for p in refused)


# -- CORS --------------------------------------------------------------------------------------


def test_cors_allowed_origins_is_never_a_wildcard(pg_url: str) -> None:
    from app.extensions import socketio as ext

    for public_url in (None, "https://support.example.com"):
        app: Flask = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": pg_url,
                "ASYNC_MODE": "threading",
                "REDIS_URL": None,
                "PUBLIC_URL": public_url,
            }
        )
        allowed: Any = ext.server.eio.cors_allowed_origins
        assert allowed != "*" and allowed is not None
        assert callable(allowed) or (isinstance(allowed, list) and "*" not in allowed)
        assert callable(allowed), "same-origin is decided per request (the host it came to)"
        environ = {"HTTP_HOST": "parley.local:5000", "wsgi.url_scheme": "http"}
        assert allowed("http://parley.local:5000", environ)
        for foreign in ("https://evil.example", "null", "http://parley.local:5001", "*"):
            assert not allowed(foreign, environ), foreign
        if public_url:
            assert allowed(public_url, environ)
        assert app.config["PUBLIC_URL"] == public_url


def test_a_foreign_origin_is_refused_at_the_handshake(live_server: Server) -> None:
    url = live_server.url + "/socket.io/?EIO=4&transport=polling"
    evil = requests.get(url, headers={"Origin": "https://evil.example"}, timeout=10)
    assert evil.status_code == 400
    assert "Access-Control-Allow-Origin" not in evil.headers
    own = requests.get(url, headers={"Origin": live_server.url}, timeout=10)
    assert own.status_code == 200
    assert own.headers.get("Access-Control-Allow-Origin") == live_server.url
    # A token does not make a foreign page acceptable either (websocket and polling).
    owner = Api(live_server.url).signup()
    for transports in (["websocket"], ["polling"]):
        sio = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(
                live_server.url,
                auth={"token": owner["token"]},
                headers={"Origin": "https://evil.example"},
                transports=transports,
                wait_timeout=5,
            )
        sio.disconnect()


# -- the HMAC identity check -------------------------------------------------------------------


def test_identity_hash_of_one_external_id_does_not_identify_another(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    victim = f.widget_session(
        client, site, identity={"external_id": "victim", "user_hash": f.user_hash(site, "victim")}
    )
    assert victim.visitor["external_id"] == "victim"
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    mine = f.user_hash(site, "attacker")
    for identity in (
        {"external_id": "victim", "user_hash": mine},  # my valid hash, the victim's id
        {"external_id": "victim", "user_hash": mine.upper()},
        {"external_id": " victim ", "user_hash": mine},
    ):
        r = client.post(
            "/api/v1/widget/session", json={"site_key": site["site_key"], "identity": identity}
        )
        f.assert_error(r, 403, "forbidden")
    # The check compared, in constant time, the HMAC of the id it names with the one sent.
    expected = hmac.new(site["site_secret"].encode(), b"victim", hashlib.sha256).hexdigest()
    assert (expected, mine) in compared
    # A client-side "verified" claim is not a way around it.
    r = client.post(
        "/api/v1/widget/session",
        json={
            "site_key": site["site_key"],
            "identity": {"external_id": "victim", "user_hash": mine, "verified": True},
        },
    )
    assert r.status_code in (403, 422), r.get_json()
    # And the same visitor token does not carry the victim's history to the attacker.
    attacker = f.widget_session(client, site)
    r = client.post(
        "/api/v1/widget/session",
        json={
            "site_key": site["site_key"],
            "visitor_token": attacker.token,
            "identity": {"external_id": "victim", "user_hash": mine},
        },
    )
    f.assert_error(r, 403, "forbidden")


def test_identity_check_reads_as_constant_time_and_bound_to_the_named_id() -> None:
    """The code path: the widget session checks with identity_hash_matches, which computes
    the HMAC of the external id the request names and compares with hmac.compare_digest."""
    from app.auth import tokens
    from app.services import widget

    session_src = inspect.getsource(widget.start_widget_session)
    assert (
        'identity_hash_matches(\n            _site_secret(site["id"]), identity["external_id"]'
        in (session_src)
    ), "the hash must be checked against the external id the request names"
    check_src = inspect.getsource(tokens.identity_hash_matches)
    assert "hmac.compare_digest" in check_src and "==" not in check_src
    assert "identity_hash(site_secret, external_id)" in check_src


# -- logout and deactivation close the agent's sockets ----------------------------------------


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_logout_closes_the_cookie_socket_and_the_old_cookie_gets_401(
    live_server: Server, transport: str
) -> None:
    owner = Api(live_server.url).signup()
    session, csrf = _console_login(live_server, owner["agent"]["email"])
    cookie = _cookie_header(session)
    headers = {"Cookie": cookie, "Origin": live_server.url}
    transports = ["polling", "websocket"] if transport == "websocket" else ["polling"]
    socket = Client(live_server.url, None, transports, headers=headers).connect()
    try:
        assert socket.call("presence:heartbeat", {})["ok"]
        out = session.post(
            live_server.url + "/api/v1/auth/logout",
            headers={"X-CSRF-Token": csrf, "Origin": live_server.url},
            timeout=10,
        )
        assert out.status_code == 204
        _wait_disconnected(socket, timeout=5)
        me = requests.get(
            live_server.url + "/api/v1/auth/me", headers={"Cookie": cookie}, timeout=10
        )
        assert me.status_code == 401, me.text
        assert me.json()["error"]["code"] == "unauthorized"
        again = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect(live_server.url, headers=headers, transports=transports, wait_timeout=5)
        again.disconnect()
    finally:
        socket.disconnect()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_deactivation_closes_every_socket_of_the_agent_and_its_cookie_gets_401(
    live_server: Server, transport: str
) -> None:
    api = Api(live_server.url)
    owner = api.signup()
    member = api.add_agent(owner["token"])
    session, _csrf = _console_login(live_server, member["agent"]["email"])
    cookie = _cookie_header(session)
    transports = ["polling", "websocket"] if transport == "websocket" else ["polling"]
    by_cookie = Client(
        live_server.url, None, transports, headers={"Cookie": cookie, "Origin": live_server.url}
    ).connect()
    by_token = Client(live_server.url, {"token": member["token"]}, transports).connect()
    bystander = Client(live_server.url, {"token": owner["token"]}, transports).connect()
    try:
        for s in (by_cookie, by_token):
            assert s.call("presence:heartbeat", {})["ok"]
        api.call(
            "PATCH", f"/agents/{member['agent']['id']}", owner["token"], json={"active": False}
        )
        _wait_disconnected(by_cookie, timeout=5)
        _wait_disconnected(by_token, timeout=5)
        assert bystander.call("presence:heartbeat", {})["ok"], "the owner stays connected"
        me = requests.get(
            live_server.url + "/api/v1/auth/me", headers={"Cookie": cookie}, timeout=10
        )
        assert me.status_code == 401, me.text
        me = requests.get(
            live_server.url + "/api/v1/auth/me",
            headers={"Authorization": f"Bearer {member['token']}"},
            timeout=10,
        )
        assert me.status_code == 401, me.text
    finally:
        for s in (by_cookie, by_token, bystander):
            s.disconnect()
