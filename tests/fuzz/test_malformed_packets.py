"""Malformed Engine.IO / Socket.IO packets over raw WebSocket and raw long polling: each is
dropped without harm; the server stays up, logs no traceback, and another connected client
still gets its messages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import websocket

from tests.fuzz.conftest import LogWatch, World, client
from tests.live import Client

_DEEP = 5_000

#: Socket.IO packets (each sent as one Engine.IO message, "4" + packet) that lie or break.
SOCKETIO_GARBAGE = [
    "",
    "garbage",
    "2",  # a bare event with no data
    "2[",
    '2["message:send",',
    '2["message:send",{"client_id":"x","body":',
    "2{}",
    '2{"a":1}',
    "2[]",
    "2[null]",
    "2[1]",
    '2[{"event":"message:send"}]',
    '2[["message:send"]]',
    '2["message:send",NaN]',
    '2["typing",' + "1" * 150 + "]",  # an integer of 150 digits
    "2" + "9" * 120 + '["presence:heartbeat"]',  # an ack id of 120 digits
    '299999999999999999999["presence:heartbeat",{}]',
    '2["sync",' + "[" * _DEEP + "]" * _DEEP + "]",  # nesting the JSON parser refuses
    '2/nowhere,["message:send",{"client_id":"x","body":"hi"}]',  # a namespace nobody joined
    '2/,["presence:heartbeat",{}]',
    '2/nowhere?x=1,["presence:heartbeat",{}]',
    "3",  # an ack for nothing
    '31["surprise"]',
    "3abc",
    '4{"message":"a client sends CONNECT_ERROR"}',
    "7",
    "9",
    "x",
    "0",  # CONNECT again on a connected namespace
    '0/nowhere,{"token":"x"}',
    "5",  # a binary event announcing no attachment count
    '5-["message:send",{"_placeholder":true,"num":0}]',
    '51-["message:send",{"_placeholder":true,"num":7}]',  # index past the attachments
    '51-["message:send",{"_placeholder":true,"num":"0"}]',
    '99999999999-["message:send"]',  # an attachment count of 11 digits
    '61-[{"_placeholder":true,"num":0}]',  # a binary ack for nothing
]
#: Engine.IO packets that are not messages, or not packets at all.
ENGINEIO_GARBAGE = ["", "9", "x", "0", "1x", "2probe", "3", "5", "6", "\x00\xff", "💬"]


def _raw_ws(world: World) -> websocket.WebSocket:
    url = world.server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=10)
    opened = ws.recv()
    assert isinstance(opened, str) and opened.startswith("0{")
    ws.send("40" + json.dumps(world.visitor_auth))
    for _ in range(10):
        reply = ws.recv()
        if isinstance(reply, str) and reply.startswith("40{"):
            return ws
    raise AssertionError("no Socket.IO CONNECT reply")


def _send_ws(ws: websocket.WebSocket, frames: list[str | bytes]) -> int:
    """Send each frame; returns how many went out before the server closed the socket."""
    for sent, frame in enumerate(frames):
        try:
            if isinstance(frame, bytes):
                ws.send_binary(frame)
            else:
                ws.send(frame)
        except (websocket.WebSocketException, OSError):
            return sent
    return len(frames)


class RawPolling:
    """An Engine.IO long-polling session spoken by hand."""

    def __init__(self, world: World) -> None:
        self.base = world.server.url + "/socket.io/"
        self.http = requests.Session()
        r = self.http.get(self.base, params={"EIO": "4", "transport": "polling"}, timeout=10)
        assert r.status_code == 200 and r.text.startswith("0{"), r.text
        self.sid = json.loads(r.text[1:])["sid"]
        self.post("40" + json.dumps(world.visitor_auth))
        assert "40{" in self.poll()

    def params(self) -> dict[str, str]:
        return {"EIO": "4", "transport": "polling", "sid": self.sid}

    def post(self, body: str | bytes) -> int:
        r = self.http.post(self.base, params=self.params(), data=body, timeout=10)
        return r.status_code

    def poll(self) -> str:
        r = self.http.get(self.base, params=self.params(), timeout=30)
        return r.text


@pytest.fixture
def watcher(world: World) -> Iterator[tuple[Client, Client]]:
    """An agent in the world's ticket and its visitor, connected normally over WebSocket."""
    agent = client(world, "agent")
    guest = client(world, "visitor")
    assert agent.call("ticket:join", {"ticket_id": world.ticket_id})["ok"] is True
    yield agent, guest
    agent.disconnect()
    guest.disconnect()


def _chat_still_works(world: World, watcher: tuple[Client, Client]) -> None:
    agent, guest = watcher
    assert requests.get(world.server.url + "/healthz", timeout=5).status_code == 200
    text = f"after the garbage {uuid.uuid4().hex[:6]}"
    assert guest.send(text, world.ticket_id)["ok"] is True
    agent.wait_for("message:new", lambda d: d["message"]["body"] == text)
    assert agent.call("presence:heartbeat", {})["ok"] is True


def _frames() -> list[str | bytes]:
    frames: list[str | bytes] = ["4" + packet for packet in SOCKETIO_GARBAGE]
    frames += ENGINEIO_GARBAGE
    frames += [b"", b"\x00\x01\x02", b"\xff" * 64, b"4" + b"\xff\xfe"]
    return frames


def test_malformed_websocket_frames_are_dropped_without_harm(
    world: World, watcher: tuple[Client, Client]
) -> None:
    watch = LogWatch(world.server)
    frames = _frames()
    reconnects = 0
    start = 0
    for _ in range(len(frames)):  # each time the server closes the socket, go on in a new one
        ws = _raw_ws(world)
        sent = _send_ws(ws, frames[start:])
        ws.close()
        start += max(sent, 1)
        if start >= len(frames):
            break
        reconnects += 1
    _chat_still_works(world, watcher)
    watch.assert_clean()


def test_malformed_polling_payloads_are_dropped_without_harm(
    world: World, watcher: tuple[Client, Client]
) -> None:
    watch = LogWatch(world.server)
    bodies: list[str | bytes] = [*_frames(), "\x1e".join(["42[", "4x", "6"]), "\x1e\x1e", "b"]
    bodies += ["bAAEC", "b!!!notbase64", "4" + "x" * 1000, '42["message:send"]\x1e' * 20]
    session = RawPolling(world)
    statuses = []
    for body in bodies:
        statuses.append(session.post(body))
        if statuses[-1] != 200:  # the server ended this session: go on in a new one
            session = RawPolling(world)
    # A GET or POST with a made-up or missing sid, or for another protocol version.
    http = requests.Session()
    base = world.server.url + "/socket.io/"
    for params in (
        {"EIO": "4", "transport": "polling", "sid": "nope"},
        {"EIO": "3", "transport": "polling"},
        {"EIO": "4", "transport": "carrier-pigeon"},
        {"EIO": "x"},
    ):
        assert http.get(base, params=params, timeout=10).status_code == 400
        r = http.post(base, params=params, data="42[]", timeout=10)
        assert r.status_code == 400
    _chat_still_works(world, watcher)
    watch.assert_clean()
    assert 200 in statuses


def test_events_before_the_socketio_connect_are_ignored(world: World) -> None:
    """A raw Engine.IO session that never joined namespace "/" sends events: nothing runs."""
    watch = LogWatch(world.server)
    url = world.server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=10)
    try:
        ws.recv()
        payload: dict[str, Any] = {"client_id": "x", "body": "sneaky"}
        ws.send("421" + json.dumps(["message:send", payload]))
        ws.send("422" + json.dumps(["presence:heartbeat", {}]))
        ws.send("2")  # an Engine.IO ping from the client is answered, nothing else
        ws.settimeout(2)
        replies = []
        try:
            for _ in range(5):
                replies.append(ws.recv())
        except (websocket.WebSocketTimeoutException, websocket.WebSocketException):
            pass
        assert not [r for r in replies if isinstance(r, str) and r.startswith("43")], replies
    finally:
        ws.close()
    watch.assert_clean()
