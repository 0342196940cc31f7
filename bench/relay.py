"""A bare Flask-SocketIO relay with Parley's events and payload shapes, and no persistence.

It is the framework's ceiling on this machine: what Flask-SocketIO does in the chosen async
mode when a message costs nothing but validation, a room emit and an ack. It never imports
``app`` and keeps nothing but a per-ticket seq counter and who each connection is.

- connect with ``auth: {visitor_token}`` or ``auth: {token}``: any non-empty string is
  accepted. A visitor token *is* the visitor id, and a visitor's ticket id is its visitor id
  (one ticket per visitor); an agent token is the agent id.
- ``message:send {ticket_id?, client_id, body, kind?}`` -> ``message:new {message}`` to the
  ticket's group (its agents' room, the sending agent's room, the visitor's room), then the
  ack ``{ok, message}``.
- ``ticket:updated`` to every agent and to the visitor after a message, coalesced per ticket
  as Parley does (first at once, then at most one per second), so both servers carry the
  same event traffic: with many agents in a workspace this inbox fan-out is most of it.
- ``ticket:join``/``ticket:leave``, ``read``/``delivered`` (relayed to the group),

  ``typing`` (relayed, not to the sender), ``presence:heartbeat``, ``sync`` (empty).

Started like Parley in each mode: ``python bench/relay.py`` (eventlet, or threading with
``ASYNC_MODE=threading``) or ``gunicorn -k gevent -w 1 bench.relay:app`` (gevent).
"""

from __future__ import annotations

import os
import sys

_MODE = (os.environ.get("ASYNC_MODE") or "eventlet").lower()
_SERVING = __name__ == "__main__"

if _MODE == "eventlet" and _SERVING:
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
elif _MODE == "gevent" and _SERVING:
    from gevent import monkey

    monkey.patch_all()

import itertools  # noqa: E402
import logging  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, leave_room  # noqa: E402

MAX_BODY_CHARS = 5000
MAX_CLIENT_ID_CHARS = 64
MAX_CONNECTIONS = 10_000

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or secrets.token_hex(16)
socketio = SocketIO(
    app,
    async_mode=_MODE if _MODE in ("eventlet", "gevent", "threading") else "threading",
    message_queue=os.environ.get("REDIS_URL") or None,
    cors_allowed_origins="*",
    max_http_buffer_size=256 * 1024,
    ping_interval=25,
    ping_timeout=20,
)

#: sid -> (kind, id, name): who each connection is.
_who: dict[str, tuple[str, str, str]] = {}
#: ticket id -> last seq handed out (in memory only).
_seqs: dict[str, int] = {}
_ids = itertools.count(1)


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _group(ticket_id: str, sender: tuple[str, str, str] | None = None) -> list[str]:
    rooms = [f"ticket:{ticket_id}:agents", f"visitor:{ticket_id}"]
    if sender is not None and sender[0] == "agent":
        rooms.append(f"agent:{sender[1]}")
    return rooms


def _ticket_of(who: tuple[str, str, str], data: dict[str, Any]) -> str | None:
    ticket_id = data.get("ticket_id")
    if ticket_id is None and who[0] == "visitor":
        return who[1]
    if not isinstance(ticket_id, str) or not ticket_id:
        return None
    if who[0] == "visitor" and ticket_id != who[1]:
        return None
    return ticket_id


@app.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


def _workspace(token: str) -> str:
    """The workspace room a token belongs to: ``w<n>.`` prefixes name one (see
    ``bench.world.relay_world``), as Parley's inbox updates go to one workspace's agents."""
    head, dot, _ = token.partition(".")
    return f"workspace:{head}" if dot else "workspace"


def on_connect(auth: Any = None) -> bool:
    if not isinstance(auth, dict):
        raise ConnectionRefusedError("unauthorized")
    visitor, agent = auth.get("visitor_token"), auth.get("token")
    if isinstance(visitor, str) and visitor:
        who = ("visitor", visitor, "Visitor")
        join_room(f"visitor:{visitor}")
        join_room(f"{_workspace(visitor)}:visitors")
    elif isinstance(agent, str) and agent:
        who = ("agent", agent, "Agent")
        join_room(f"agent:{agent}")
        join_room(_workspace(agent))
    else:
        raise ConnectionRefusedError("unauthorized")
    _who[_sid()] = who
    return True


def on_disconnect(reason: Any = None) -> None:
    _who.pop(_sid(), None)


def on_message_send(data: Any = None) -> dict[str, Any]:
    who = _who.get(_sid())
    if who is None:
        return _error("unauthorized", "Not connected.")
    if not isinstance(data, dict):
        return _error("invalid", "The payload must be an object.")
    body, client_id, kind = data.get("body"), data.get("client_id"), data.get("kind", "text")
    if not isinstance(body, str) or not body.strip():
        return _error("invalid", "The message is empty.")
    body = body.strip()
    if len(body) > MAX_BODY_CHARS:
        return _error("invalid", "The message is too long.")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID_CHARS:
        return _error("invalid", "client_id must be 1 to 64 characters.")
    if kind not in ("text", "note") or (kind == "note" and who[0] != "agent"):
        return _error("invalid", "Unknown message kind.")
    ticket_id = _ticket_of(who, data)
    if ticket_id is None:
        return _error("not_found", "Ticket not found.")
    seq = _seqs.get(ticket_id, 0) + 1
    _seqs[ticket_id] = seq
    message = {
        "id": f"r{next(_ids):025d}",
        "ticket_id": ticket_id,
        "seq": seq,
        "client_id": client_id,
        "kind": kind,
        "sender": {"type": who[0], "id": who[1], "name": who[2]},
        "body": body,
        "created_at": _now(),
    }
    socketio.emit("message:new", {"message": message}, to=_group(ticket_id, who))
    _announce(ticket_id, message)
    return {"ok": True, "message": message}


#: ticket id -> (monotonic time of the last ticket:updated, latest message).
_announced: dict[str, float] = {}
_latest: dict[str, dict[str, Any]] = {}
_scheduled: set[str] = set()
ANNOUNCE_WINDOW_S = 1.0


def _announce(ticket_id: str, message: dict[str, Any]) -> None:
    """``ticket:updated`` to the agents and the visitor, coalesced per ticket like Parley's
    (the first at once, then one trailing update per second), with a ticket of the same shape."""
    _latest[ticket_id] = message
    if ticket_id in _scheduled:
        return
    wait = ANNOUNCE_WINDOW_S - (time.monotonic() - _announced.get(ticket_id, -ANNOUNCE_WINDOW_S))
    if wait <= 0:
        _send_ticket_updated(ticket_id)
    else:
        _scheduled.add(ticket_id)
        socketio.start_background_task(_trailing_update, ticket_id, wait)


def _trailing_update(ticket_id: str, wait: float) -> None:
    socketio.sleep(wait)
    _scheduled.discard(ticket_id)
    _send_ticket_updated(ticket_id)


def _send_ticket_updated(ticket_id: str) -> None:
    _announced[ticket_id] = time.monotonic()
    message = _latest[ticket_id]
    ticket = {
        "id": ticket_id,
        "site_id": "relay",
        "status": "open",
        "assignee": None,
        "visitor": {
            "id": ticket_id,
            "site_id": "relay",
            "name": "Visitor",
            "email": None,
            "external_id": None,
            "current_url": None,
            "last_seen_at": message["created_at"],
            "status": "online",
        },
        "participants": [
            {"type": "visitor", "id": ticket_id, "name": "Visitor", "role": "visitor"}
        ],
        "last_seq": message["seq"],
        "last_message": message,
        "unread_count": 1,
        "created_at": message["created_at"],
        "updated_at": message["created_at"],
    }
    socketio.emit("ticket:updated", {"ticket": ticket}, to=_workspace(ticket_id))
    socketio.emit("ticket:updated", {"ticket": ticket}, to=f"visitor:{ticket_id}")


def on_ticket_join(data: Any = None) -> dict[str, Any]:
    who = _who.get(_sid())
    if who is None or who[0] != "agent":
        return _error("forbidden", "Only agents join tickets.")
    ticket_id = data.get("ticket_id") if isinstance(data, dict) else None
    if not isinstance(ticket_id, str) or not ticket_id:
        return _error("invalid", "ticket_id is required.")
    join_room(f"ticket:{ticket_id}:agents")
    ticket = {"id": ticket_id, "status": "open", "last_seq": _seqs.get(ticket_id, 0)}
    return {"ok": True, "ticket": ticket, "messages": [], "has_more": False}


def on_ticket_leave(data: Any = None) -> dict[str, Any]:
    ticket_id = data.get("ticket_id") if isinstance(data, dict) else None
    if isinstance(ticket_id, str):
        leave_room(f"ticket:{ticket_id}:agents")
    return {"ok": True}


def _receipt(event: str, data: Any) -> dict[str, Any]:
    who = _who.get(_sid())
    if who is None:
        return _error("unauthorized", "Not connected.")
    if not isinstance(data, dict) or not isinstance(data.get("seq"), int):
        return _error("invalid", "ticket_id and seq are required.")
    ticket_id = _ticket_of(who, data)
    if ticket_id is None:
        return _error("not_found", "Ticket not found.")
    seq = max(0, min(int(data["seq"]), _seqs.get(ticket_id, 0)))
    payload = {"ticket_id": ticket_id, "reader": {"type": who[0], "id": who[1]}, "seq": seq}
    socketio.emit(event, payload, to=_group(ticket_id))
    return {"ok": True, "seq": seq}


def on_read(data: Any = None) -> dict[str, Any]:
    return _receipt("read", data)


def on_delivered(data: Any = None) -> dict[str, Any]:
    return _receipt("delivered", data)


def on_typing(data: Any = None) -> None:
    who = _who.get(_sid())
    if who is None or not isinstance(data, dict):
        return
    ticket_id = _ticket_of(who, data)
    if ticket_id is None:
        return
    event = {
        "ticket_id": ticket_id,
        "sender": {"type": who[0], "id": who[1], "name": who[2]},
        "typing": bool(data.get("typing")),
    }
    socketio.emit("typing", event, to=_group(ticket_id), skip_sid=_sid())


def on_heartbeat(data: Any = None) -> dict[str, Any]:
    return {"ok": True, "status": "online"}


def on_sync(data: Any = None) -> dict[str, Any]:
    return {"ok": True, "messages": [], "has_more": {}}


HANDLERS: dict[str, Callable[..., Any]] = {
    "connect": on_connect,
    "disconnect": on_disconnect,
    "message:send": on_message_send,
    "ticket:join": on_ticket_join,
    "ticket:leave": on_ticket_leave,
    "read": on_read,
    "delivered": on_delivered,
    "typing": on_typing,
    "presence:heartbeat": on_heartbeat,
    "sync": on_sync,
}
for _event, _handler in HANDLERS.items():
    socketio.on_event(_event, _handler)


class _NoDelayListener:
    """Accepted connections get TCP_NODELAY, as Parley's server does."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def accept(self) -> tuple[Any, Any]:
        conn, addr = self._sock.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5100"))
    print(f"relay serving on http://{host}:{port} (async mode {_MODE})", file=sys.stderr)
    if _MODE == "eventlet":
        import eventlet.wsgi

        listener = _NoDelayListener(eventlet.listen((host, port), backlog=2048))
        eventlet.wsgi.server(
            listener,
            app,
            log_output=False,
            max_size=MAX_CONNECTIONS,
            keepalive=True,
            socket_timeout=None,
        )
    elif _MODE == "gevent":
        from gevent import pywsgi

        server = pywsgi.WSGIServer((host, port), app, log=None, backlog=2048)
        server.serve_forever()
    else:
        socketio.run(app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
