"""Cross-site WebSocket hijacking (issue 9 item 4): a page on another site cannot ride a logged-in
agent's console cookie into Socket.IO, over WebSocket or long polling.

Raw Engine.IO handshakes against the real server, as a browser on ``https://evil.example``
would send them (the browser adds the agent's cookie and its own Origin): refused before any
session exists, with no CORS grant, while the very same request from the app's own origin
opens an agent session that receives the workspace's events. (The no-Origin case is tested
in test_connect_auth.py and by the transport fuzzing.)
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
import websocket

from tests.live import PASSWORD, Api, Server

EVIL = "https://evil.example"
ENGINE = "/socket.io/?EIO=4&transport="


def _agent_cookie(server: Server) -> tuple[str, dict[str, Any]]:
    owner = Api(server.url).signup()
    r = requests.post(
        server.url + "/api/v1/auth/login",
        json={"email": owner["agent"]["email"], "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return f"parley_session={r.cookies['parley_session']}", owner


def _start_ticket(server: Server, owner: dict[str, Any]) -> str:
    """A visitor of the agent's workspace opens a ticket (the event the hijacker wants)."""
    api = Api(server.url)
    visitor = api.visitor(api.site(owner["token"]))
    body = {"client_id": "cswsh-1", "body": "my card number is ..."}
    ticket = api.call("POST", "/tickets", visitor["visitor_token"], json=body)["ticket"]
    return str(ticket["id"])


def _polling(server: Server, headers: dict[str, str], sid: str = "", data: str = "") -> Any:
    url = server.url + ENGINE + "polling" + (f"&sid={sid}" if sid else "")
    if data:
        return requests.post(url, data=data, headers=headers, timeout=10)
    return requests.get(url, headers=headers, timeout=10)


def _packets(body: str) -> list[str]:
    return body.split("\x1e")  # Engine.IO v4 separates polled packets with a record separator


def _poll_until(server: Server, headers: dict[str, str], sid: str, wanted: str) -> list[str]:
    """Poll the session's packets until one starts with ``wanted`` (within 10 s)."""
    seen: list[str] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(p.startswith(wanted) for p in seen):
        seen += _packets(_polling(server, headers, sid).text)
    return seen


def _ws_until(ws: Any, wanted: str) -> list[str]:
    """Read WebSocket packets (answering pings) until one starts with ``wanted``."""
    seen: list[str] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(p.startswith(wanted) for p in seen):
        seen.append(ws.recv())
        if seen[-1] == "2":
            ws.send("3")
    return seen


def test_a_foreign_origin_polling_handshake_with_the_agents_cookie_is_refused(
    live_server: Server,
) -> None:
    cookie, _owner = _agent_cookie(live_server)
    refused = _polling(live_server, {"Cookie": cookie, "Origin": EVIL})
    assert refused.status_code == 400
    assert '"sid"' not in refused.text
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Credentials" not in refused.headers
    # Forwarded headers naming the foreign host do not make it ours (no trusted proxy here).
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    refused = _polling(live_server, {"Cookie": cookie, "Origin": EVIL, **forged})
    assert refused.status_code == 400 and '"sid"' not in refused.text
    # A preflight from there gets no grant either.
    preflight = requests.options(
        live_server.url + ENGINE + "polling",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_the_same_polling_handshake_from_our_origin_is_an_agent_session(
    live_server: Server,
) -> None:
    cookie, owner = _agent_cookie(live_server)
    ours = {"Cookie": cookie, "Origin": live_server.url}
    opened = _polling(live_server, ours)
    assert opened.status_code == 200, opened.text
    assert opened.headers["Access-Control-Allow-Origin"] == live_server.url
    sid = json.loads(opened.text[1:])["sid"]
    assert _polling(live_server, ours, sid, "40").text == "OK"  # join "/" with the cookie
    joined = _poll_until(live_server, ours, sid, "40{")
    assert any(p.startswith("40{") for p in joined), joined  # accepted: an agent session

    # The hijacker cannot read that session's packets by its sid either.
    stolen = _polling(live_server, {"Cookie": cookie, "Origin": EVIL}, sid)
    assert stolen.status_code == 400 and "Access-Control-Allow-Origin" not in stolen.headers

    ticket_id = _start_ticket(live_server, owner)
    seen = _poll_until(live_server, ours, sid, '42["ticket:created"')
    assert any(p.startswith('42["ticket:created"') and ticket_id in p for p in seen), seen


def test_a_foreign_origin_websocket_with_the_agents_cookie_is_refused_ours_works(
    live_server: Server,
) -> None:
    cookie, owner = _agent_cookie(live_server)
    url = live_server.url.replace("http://", "ws://") + ENGINE + "websocket"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, header=[f"Cookie: {cookie}"], origin=EVIL, timeout=10)
    assert refused.value.status_code == 400

    ours = websocket.create_connection(
        url, header=[f"Cookie: {cookie}"], origin=live_server.url, timeout=10
    )
    try:
        assert ours.recv().startswith("0{")  # Engine.IO open
        ours.send("40")
        joined = _ws_until(ours, "40{")  # Socket.IO connect accepted with the cookie
        assert any(p.startswith("40{") for p in joined), joined
        ticket_id = _start_ticket(live_server, owner)
        seen = _ws_until(ours, '42["ticket:created"')
        assert any(p.startswith('42["ticket:created"') and ticket_id in p for p in seen), seen
    finally:
        ours.close()
