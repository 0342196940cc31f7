"""Known traps of this stack (issue 9 item 7): what crosses Redis is JSON, never pickle (a
pickle from Redis would run code in every process that reads it), and a frame far over the
Engine.IO buffer size is refused without harm to anyone else on the server.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
import websocket

from app.jobs.runner import RQBackend
from tests.live import Api, Client, Server

#: A Redis database these tests only read and write under their own keys.
REDIS_DB_URL = "redis://127.0.0.1:6379/12"
PICKLE_MARK = b"\x80"  # every pickle of protocol 2 or later starts with it
TWO_MB = 2 * 1024 * 1024


def test_rq_jobs_are_stored_as_json_not_pickle() -> None:
    backend = RQBackend(REDIS_DB_URL)
    queue = backend.queues["parley-notify"]
    client = redis.Redis.from_url(REDIS_DB_URL)
    before = set(queue.job_ids)
    marker = f"wire-{uuid.uuid4().hex}"
    backend.enqueue("notify_message", (marker, True), 0)
    new = [job_id for job_id in queue.job_ids if job_id not in before]
    try:
        assert len(new) == 1
        raw = client.hget(f"rq:job:{new[0]}", "data")
        assert raw is not None
        payload = zlib.decompress(raw)
        assert not payload.startswith(PICKLE_MARK)
        function, _instance, args, _kwargs = json.loads(payload)
        assert function == "app.jobs.tasks.notify_message" and args == [marker, True]
    finally:
        for job_id in new:
            queue.remove(job_id)
            client.delete(f"rq:job:{job_id}")


@pytest.fixture
def queued_server(pg_url: str) -> Iterator[tuple[Server, str]]:
    channel = f"parley-wire-{uuid.uuid4().hex[:8]}"
    server = Server(
        {"DATABASE_URL": pg_url, "REDIS_URL": REDIS_DB_URL, "SOCKETIO_CHANNEL": channel}
    ).start()
    yield server, channel
    server.stop()


def test_socketio_queue_messages_are_json_not_pickle(queued_server: tuple[Server, str]) -> None:
    server, channel = queued_server
    published: list[bytes] = []
    pubsub = redis.Redis.from_url(REDIS_DB_URL).pubsub()
    pubsub.subscribe(channel)

    def listen() -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not published:
            got = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if got is not None:
                published.append(got["data"])

    listener = threading.Thread(target=listen)
    listener.start()
    try:
        api = Api(server.url)
        owner = api.signup()
        visitor = api.visitor(api.site(owner["token"]))
        body = {"client_id": uuid.uuid4().hex, "body": "Hello over the queue"}
        api.call("POST", "/tickets", visitor["visitor_token"], json=body)
        listener.join(timeout=20)
    finally:
        pubsub.close()
    assert published, "no emit crossed the Socket.IO message queue"
    assert not published[0].startswith(PICKLE_MARK)
    message = json.loads(published[0])
    assert message["method"] == "emit" and isinstance(message["event"], str)


def _raw_visitor_socket(server: Server, visitor_token: str) -> Any:
    """A WebSocket connected to the "/" namespace as the visitor, by hand."""
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=10)
    assert ws.recv().startswith("0{")
    ws.send("40" + json.dumps({"visitor_token": visitor_token}))
    assert ws.recv().startswith("40{")
    return ws


def test_a_2_mb_frame_is_refused_and_nobody_else_notices(live_server: Server) -> None:
    api = Api(live_server.url)
    owner = api.signup()
    site = api.site(owner["token"])
    bystander = Client(
        live_server.url, {"visitor_token": api.visitor(site)["visitor_token"]}, ["websocket"]
    ).connect()
    attacker = _raw_visitor_socket(live_server, api.visitor(site)["visitor_token"])
    try:
        huge = "x" * TWO_MB
        frame = "42" + json.dumps(["message:send", {"client_id": "big", "body": huge}])
        try:
            attacker.send(frame)
            closed = attacker.recv() == ""  # the server closes the connection
        except websocket.WebSocketTimeoutException:
            closed = False  # still open, ten seconds on
        except (websocket.WebSocketException, ConnectionError):
            closed = True
        assert closed
        # Over long polling the same packet is refused before it is read.
        handshake = requests.get(
            live_server.url + "/socket.io/?EIO=4&transport=polling", timeout=10
        )
        sid = json.loads(handshake.text[1:])["sid"]
        refused = requests.post(
            live_server.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}",
            data=frame,
            timeout=10,
        )
        assert refused.status_code == 413
        # The bystander's chat goes on; nothing of the big message was stored.
        ack = bystander.send("Still here?")
        assert ack["ok"], ack
        assert requests.get(live_server.url + "/healthz", timeout=5).status_code == 200
        tickets = api.call("GET", "/tickets?q=xxxxxxxx", owner["token"])["tickets"]
        assert tickets == []
    finally:
        attacker.close()
        bystander.disconnect()
