"""Socket.IO event handlers (namespace ``/``): CONTRACT section 5.

Each handler loads its payload schema, calls one service and returns the ack. Errors become
``{"ok": false, "error": {code, message}}`` in one place (``_acked``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.auth.principal import Principal
from app.auth.web import principal_from_auth
from app.errors import Invalid, NotFound, ParleyError, Unavailable
from app.events import names, rooms
from app.extensions import db, socketio
from app.models import Agent
from app.realtime.runtime import Connection, runtime
from app.schemas.base import load
from app.schemas.events import HeartbeatIn, SeqIn, SyncIn, TicketRefIn, TypingIn
from app.schemas.tickets import (
    MESSAGE_OUT,
    MESSAGES_OUT,
    TICKET_OUT,
    MessageIn,
)
from app.services import messages, ticket_state, tickets
from app.services.presence import Subject
from app.services.rate_limits import Throttled, rate_limits
from app.services.views import ticket_view

log = logging.getLogger(__name__)
Ack = dict[str, Any]


_MESSAGE_IN = MessageIn()


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]


def _is_live(sid: str) -> bool:
    """True once the connection is established; False while connecting or disconnecting.

    A client can emit "connect" or "disconnect" as ordinary events; python-socketio runs
    the same handlers for them while the socket is live, so those calls are ignored.
    """
    return bool(socketio.server.manager.is_connected(sid, "/"))


def _connection() -> Connection:
    conn = runtime().get(_sid())
    if conn is None:
        raise NotFound("Not connected.", code="unauthorized")
    return conn


def _acked(handler: Callable[..., Ack]) -> Callable[..., Ack]:
    """Map every failure to the contract's error ack; never let an exception escape."""

    @functools.wraps(handler)
    def wrapper(data: Any = None, *extra: Any) -> Ack:
        try:
            _count_event()
            return handler(data)
        except Throttled as error:
            # Not processed. Events sent without an ack (typing, delivered) are thus dropped.
            ack = _error(error)
            ack["error"]["retry_after"] = error.retry_after
            return ack
        except ParleyError as error:
            return {
                "ok": False,
                "error": {
                    "code": error.code,
                    "message": error.message,
                    **({"fields": error.fields} if error.fields else {}),
                },
            }
        except (DBAPIError, PoolTimeout) as exc:
            db.session.rollback()
            log.warning("database error in %s: %s", handler.__name__, type(exc).__name__)
            return _error(Unavailable("The database is unavailable; retry shortly."))
        except RedisError:  # presence lives in Redis; it comes back by itself (runtime.py)
            db.session.rollback()
            log.warning("redis error in %s", handler.__name__)
            return _error(Unavailable("Presence is unavailable; retry shortly."))
        except Exception:
            db.session.rollback()
            log.exception("unhandled error in %s", handler.__name__)
            return {"ok": False, "error": {"code": "internal", "message": "Internal error."}}

    return wrapper


def _error(error: ParleyError) -> Ack:
    return {"ok": False, "error": {"code": error.code, "message": error.message}}


def _count_event() -> None:
    """Take a token for this event from its connection's and its visitor's buckets."""
    sid = _sid()
    conn = runtime().get(sid)
    visitor_id = conn.principal.id if conn is not None and conn.principal.is_visitor else None
    rate_limits().check_event(sid, visitor_id)


# -- lifecycle -------------------------------------------------------------------------------


def on_connect(auth: Any = None) -> bool | None:
    """Authenticate by visitor token, agent bearer token, or the console cookie; join rooms.

    An address with ``SOCKET_CONNECTIONS_PER_IP`` connections open here is refused first,
    before any database work, with the reason ``rate_limited``.
    """
    sid = _sid()
    if _is_live(sid) or runtime().get(sid) is not None:
        return None  # a client-emitted "connect" event: ignore
    limits = rate_limits()
    try:
        limits.open_connection(sid, request.remote_addr or "unknown")
    except Throttled as exc:
        raise ConnectionRefusedError(
            "rate_limited", {"code": exc.code, "message": exc.message}
        ) from exc
    try:
        return _connect(sid, auth)
    except BaseException:
        limits.close_connection(sid)
        raise


def _connect(sid: str, auth: Any) -> bool:
    try:
        principal = _authenticate(auth)
    except (DBAPIError, PoolTimeout) as exc:
        db.session.rollback()
        raise ConnectionRefusedError("unavailable") from exc
    if principal is None:
        raise ConnectionRefusedError("unauthorized")
    subject = Subject(principal.kind, principal.id, principal.workspace_id, principal.site_id)
    chosen = None
    if principal.is_agent:
        chosen = db.session.scalar(db.select(Agent.availability).where(Agent.id == principal.id))
        join_room(rooms.agent_room(principal.id))
        join_room(rooms.workspace_room(principal.workspace_id))
    else:
        join_room(rooms.visitor_room(principal.id))
        join_room(rooms.workspace_visitors_room(principal.workspace_id))
    db.session.rollback()
    runtime().add(sid, Connection(principal=principal, subject=subject))
    try:
        if principal.is_agent:
            runtime().presence.remember_choice(subject, chosen or "online")
        runtime().heartbeat(sid, "online")
    except RedisError:  # chat works without presence: the next heartbeat (or the runtime's
        log.warning("presence unavailable at connect")  # restore after a restart) records it
    return True


def _authenticate(auth: Any) -> Principal | None:
    # The rules (a token alone when one is named; the cookie only with our Origin) live in
    # app/auth/web.py with the rest of the request authentication.
    return principal_from_auth(auth)


def on_disconnect(reason: Any = None) -> None:
    sid = _sid()
    if _is_live(sid):
        return  # a client-emitted "disconnect" event: ignore
    rate_limits().close_connection(sid)
    conn = runtime().remove(sid)
    if conn is None:
        return
    try:
        status = runtime().presence.disconnect(conn.subject, sid)
        if status == "offline" or not runtime().sids_of(conn.subject.key):
            runtime().stop_typing_of(conn.subject.type, conn.subject.id)
    except Exception:
        log.exception("presence update on disconnect failed")


# -- messages --------------------------------------------------------------------------------


@_acked
def on_message_send(data: Any) -> Ack:
    conn = _connection()
    payload = load(_MESSAGE_IN, data)
    admission = runtime().sends
    if not admission.try_enter():
        raise Unavailable("The server is busy; send again in a moment with the same client_id.")
    try:
        result = messages.send_message(
            conn.principal,
            ticket_id=payload.get("ticket_id"),
            client_id=payload["client_id"],
            body=payload["body"],
            kind=payload["kind"],
        )
    finally:
        admission.leave()
    ack: Ack = {"ok": True, "message": MESSAGE_OUT.dump(result.message)}
    if result.duplicate:
        ack["duplicate"] = True
    return ack


@_acked
def on_typing(data: Any) -> Ack:
    conn = _connection()
    payload = load(TypingIn(), data)
    ticket = ticket_state.load_ticket(conn.principal, payload["ticket_id"])
    to = ticket_state.group_rooms(ticket)
    db.session.rollback()
    sender = {"type": conn.principal.kind, "id": conn.principal.id, "name": conn.principal.name}
    event = {"ticket_id": ticket.id, "sender": sender, "typing": payload["typing"]}
    key = (ticket.id, conn.principal.kind, conn.principal.id)
    runtime().typing(key, payload["typing"], to, event, skip_sid=_sid())
    return {"ok": True}


@_acked
def on_delivered(data: Any) -> Ack:
    conn = _connection()
    payload = load(SeqIn(), data)
    seq = messages.mark_delivered(conn.principal, payload["ticket_id"], payload["seq"])
    return {"ok": True, "seq": seq}


@_acked
def on_read(data: Any) -> Ack:
    conn = _connection()
    payload = load(SeqIn(), data)
    seq = messages.mark_read(conn.principal, payload["ticket_id"], payload["seq"])
    return {"ok": True, "seq": seq}


@_acked
def on_sync(data: Any) -> Ack:
    conn = _connection()
    payload = load(SyncIn(), data)
    rows, has_more = messages.sync_messages(conn.principal, payload["tickets"])
    return {"ok": True, "messages": MESSAGES_OUT.dump(rows), "has_more": has_more}


# -- tickets ---------------------------------------------------------------------------------


@_acked
def on_ticket_join(data: Any) -> Ack:
    conn = _connection()
    if not conn.principal.is_agent:
        raise ParleyError("Only agents join tickets; visitors are in theirs.", code="forbidden")
    payload = load(TicketRefIn(), data)
    ticket = tickets.get_ticket(conn.principal, payload["ticket_id"])
    rows, has_more = messages.list_messages(conn.principal, ticket.id)
    join_room(rooms.ticket_agents_room(ticket.id))
    conn.joined.add(ticket.id)
    return {
        "ok": True,
        "ticket": TICKET_OUT.dump(ticket_view(conn.principal, ticket)),
        "messages": MESSAGES_OUT.dump(rows),
        "has_more": has_more,
    }


@_acked
def on_ticket_leave(data: Any) -> Ack:
    conn = _connection()
    payload = load(TicketRefIn(), data)
    if payload["ticket_id"] in conn.joined:
        leave_room(rooms.ticket_agents_room(payload["ticket_id"]))
        conn.joined.discard(payload["ticket_id"])
    return {"ok": True}


@_acked
def on_ticket_handoff(data: Any) -> Ack:
    conn = _connection()
    if not conn.principal.is_visitor:
        raise ParleyError("Only the visitor hands a ticket off.", code="forbidden")
    payload = load(TicketRefIn(), data)
    ticket = tickets.hand_off(conn.principal, payload["ticket_id"])
    return {"ok": True, "ticket": TICKET_OUT.dump(ticket_view(conn.principal, ticket))}


@_acked
def on_bot_feedback(data: Any) -> Ack:
    from app.schemas.faq import BotFeedbackIn
    from app.services import bot_chat

    conn = _connection()
    if not conn.principal.is_visitor:
        raise ParleyError("Only the visitor gives the bot feedback.", code="forbidden")
    payload = load(BotFeedbackIn(), data)
    ticket = bot_chat.give_feedback(
        conn.principal, payload["ticket_id"], payload["message_id"], payload["helpful"]
    )
    return {"ok": True, "ticket": TICKET_OUT.dump(ticket_view(conn.principal, ticket))}


# -- presence --------------------------------------------------------------------------------


@_acked
def on_heartbeat(data: Any) -> Ack:
    conn = _connection()
    payload = load(HeartbeatIn(), data if data is not None else {})
    status = runtime().heartbeat(_sid(), payload.get("status", "online"), conn)
    return {"ok": True, "status": status}


def on_error(error: Exception) -> Ack:  # pragma: no cover - _acked catches first
    log.exception("socket handler error")
    return _error(Invalid("Bad event."))


HANDLERS: dict[str, Callable[..., Any]] = {
    "connect": on_connect,
    "disconnect": on_disconnect,
    names.MESSAGE_SEND: on_message_send,
    names.TYPING: on_typing,
    names.DELIVERED: on_delivered,
    names.READ: on_read,
    names.SYNC: on_sync,
    names.TICKET_JOIN: on_ticket_join,
    names.TICKET_LEAVE: on_ticket_leave,
    names.TICKET_HANDOFF: on_ticket_handoff,
    names.PRESENCE_HEARTBEAT: on_heartbeat,
    names.BOT_FEEDBACK: on_bot_feedback,
}


def register() -> None:
    """Attach the handlers to the current Socket.IO server (each ``create_app`` makes one)."""
    for event, handler in HANDLERS.items():
        socketio.on_event(event, handler)
    socketio.on_error_default(on_error)
