"""Group commit for the message path on PostgreSQL.

One writer per process takes every send waiting at that moment and stores them in one
transaction: lock their tickets (in id order), find resends, give each new message the next
``seq`` of its ticket in arrival order, insert them all, move the tickets and the senders' read
positions, commit once, then publish in ``seq`` order and answer each caller. A commit costs
one flush of the write-ahead log, so while it waits the next batch gathers behind it: the
higher the load, the bigger the batches, with ``synchronous_commit`` left on and every ack still
after its message is durable.

Only the common case comes here: an existing ticket the sender may post in, in a kind it may
post. Everything else (a new or resolved ticket, a refusal, a failed batch) answers
``None`` and the caller takes the per-message path, which decides and explains.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app

from app.auth.principal import Principal
from app.errors import Unavailable
from app.events import names, rooms
from app.events.publish import emit_now, enqueue_now
from app.extensions import db, socketio
from app.lib import crypto
from app.lib.ids import new_id
from app.lib.timeutil import as_utc, utcnow
from app.models import Message
from app.notifications.reach import notifiable
from app.schemas.tickets import MESSAGE_OUT
from app.services import ticket_state

log = logging.getLogger(__name__)

#: Sends stored by one transaction at most.
MAX_BATCH = 256
#: How long a caller waits for its batch before it is told to resend (same client_id).
WAIT_S = 10.0
#: The writer's loop ends after this long without work (and starts again on the next send).
IDLE_EXIT_S = 5.0

DEFAULT_NAMES = {"visitor": "Visitor", "bot": "Bot", "system": ""}
_EXTENSION_KEY = "parley.message_writer"


@dataclass(frozen=True)
class Stored:
    message: Message
    ticket_id: str
    duplicate: bool


@dataclass(eq=False)
class _Send:
    principal: Principal
    ticket_id: str
    client_id: str
    body: str
    kind: str
    done: Any
    result: Stored | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.ticket_id, self.principal.kind, self.principal.id, self.client_id)


@dataclass(eq=False)
class _Receipt:
    """A ``read`` or ``delivered``: the caller's position moves forward, never back."""

    principal: Principal
    ticket_id: str
    seq: int
    read: bool
    done: Any
    result: int | None = None

    @property
    def subject(self) -> tuple[str, str, str]:
        return (self.ticket_id, self.principal.kind, self.principal.id)


_Request = _Send | _Receipt


@dataclass
class _TicketRow:
    id: str
    workspace_id: str
    visitor_id: str
    assignee_id: str | None
    status: str
    last_seq: int
    last_public_seq: int
    site_id: str = ""
    responded: bool = False
    changed: bool = False


@dataclass
class _Moved:
    """A participant position that moved: published as ``read`` or ``delivered``."""

    ticket_id: str
    subject: dict[str, str]
    seq: int
    read: bool
    by_agent: bool


@dataclass
class _Written:
    """What one transaction stored, for publishing after its commit."""

    new: list[_Send] = field(default_factory=list)
    moved: list[_Moved] = field(default_factory=list)
    tickets: dict[str, _TicketRow] = field(default_factory=dict)
    agents: dict[str, list[str]] = field(default_factory=dict)


def writer_for_app() -> MessageWriter | None:
    """This app's writer, or None where group commit does not apply (SQLite, or switched off)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    writer = app.extensions.get(_EXTENSION_KEY)
    if writer is None:
        enabled = app.config.get("GROUP_COMMIT", True) and db.engine.dialect.name == "postgresql"
        writer = app.extensions[_EXTENSION_KEY] = MessageWriter(app) if enabled else False
    return writer or None


class MessageWriter:
    """Gathers concurrent sends and receipts and stores each gathering in one transaction."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._pending: list[_Request] = []
        self._wake = socketio.server.eio.create_event()
        self._running = False
        #: Transactions written so far (each stores one gathering).
        self.batches = 0
        self._connection: Any = None

    def send(
        self, principal: Principal, ticket_id: str, client_id: str, body: str, kind: str
    ) -> Stored | None:
        """Store one message with the next batch; None when the per-message path must decide."""
        request = _Send(principal, ticket_id, client_id, body, kind, self._event())
        self._wait(request)
        return request.result

    def receipt(self, principal: Principal, ticket_id: str, seq: int, *, read: bool) -> int | None:
        """Move the caller's position with the next batch: the stored seq, or None when the
        per-message path must decide (an unknown ticket, one the caller may not see)."""
        request = _Receipt(principal, ticket_id, seq, read, self._event())
        self._wait(request)
        return request.result

    def _event(self) -> Any:
        return socketio.server.eio.create_event()

    def _wait(self, request: _Request) -> None:
        with self._lock:
            self._pending.append(request)
            start = not self._running
            self._running = True
        if start:
            socketio.start_background_task(self._run)
        self._wake.set()
        if not request.done.wait(WAIT_S):
            raise Unavailable("The server is busy; send again in a moment with the same client_id.")

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            self._wake.wait(1.0)
            with self._lock:
                self._wake.clear()
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if self._pending:
                    self._wake.set()
                if not batch and time.monotonic() - idle_since > IDLE_EXIT_S:
                    self._running = False
                    self._release_connection()
                    return
            if not batch:
                continue
            idle_since = time.monotonic()
            try:
                with self.app.app_context():
                    self._store_and_publish(batch)
            except Exception as exc:  # unstored requests take the per-message path
                log.warning("a message batch failed: %s", type(exc).__name__, exc_info=True)
            finally:
                for request in batch:
                    request.done.set()

    def _release_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _store_and_publish(self, batch: list[_Request]) -> None:
        # The writer keeps one connection: no pool checkout (and its ping) per transaction.
        if self._connection is None:
            self._connection = db.engine.raw_connection()
        connection = self._connection
        try:
            cursor = connection.cursor()
            written = _store(cursor, batch)
            connection.commit()
            self.batches += 1
        except BaseException:
            for request in batch:
                request.result = None
            self._connection = None
            try:
                connection.rollback()
            finally:
                connection.invalidate()  # the next batch starts on a fresh connection
            raise
        _publish(written)


def _store(cursor: Any, batch: list[_Request]) -> _Written:
    """The batch's transaction, up to the commit, in at most three round trips before it:
    lock the tickets (reading their groups' agents), look for resends, then every write in
    one multi-statement request. Sets each accepted request's result."""
    cursor.execute(
        "SELECT t.id, t.workspace_id, t.visitor_id, t.assignee_id, t.status, t.last_seq,"
        " t.last_public_seq, t.site_id, ARRAY(SELECT p.subject_id FROM participants p"
        " WHERE p.ticket_id = t.id AND p.subject_type = 'agent'"
        " AND p.role IN ('assignee', 'collaborator'))"
        " FROM tickets t WHERE t.id = ANY(%s) ORDER BY t.id FOR UPDATE OF t",
        (sorted({r.ticket_id for r in batch}),),
    )
    written = _Written()
    for row in cursor.fetchall():
        written.tickets[row[0]] = _TicketRow(*row[:8])
        written.agents[row[0]] = list(row[8])
    sends = [r for r in batch if isinstance(r, _Send)]
    receipts = [r for r in batch if isinstance(r, _Receipt)]
    statements = _message_statements(cursor, sends, written)
    receipts_sql, wanted = _receipt_statement(cursor, receipts, written.tickets)
    if receipts_sql:
        statements.append(receipts_sql)
    if statements:
        cursor.execute(b";".join(statements))
    if receipts_sql:
        written.moved = _moved(cursor.fetchall(), wanted)
    return written


def _values(cursor: Any, template: str, rows: list[tuple[Any, ...]]) -> bytes:
    """``VALUES`` rows for a statement, each bound by the driver."""
    return b",".join(cursor.mogrify(template, row) for row in rows)


def _message_statements(cursor: Any, sends: list[_Send], written: _Written) -> list[bytes]:
    """The writes of the new messages among ``sends`` (insert, tickets, senders' positions);
    a resend gets the stored message. Records the new requests in ``written``."""
    tickets = written.tickets
    accepted = [r for r in sends if _may_append(r, tickets.get(r.ticket_id))]
    if not accepted:
        return []
    existing = _stored_messages(cursor, accepted)
    now = utcnow()
    first_of: dict[tuple[str, str, str, str], Message] = {}
    for request in accepted:
        earlier = existing.get(request.key) or first_of.get(request.key)
        if earlier is not None:
            request.result = Stored(earlier, request.ticket_id, True)
            continue
        ticket = tickets[request.ticket_id]
        message = _next_message(request, ticket, now)
        first_of[request.key] = message
        request.result = Stored(message, request.ticket_id, False)
        written.new.append(request)
        agents = written.agents.setdefault(ticket.id, [])
        if request.principal.is_agent and request.principal.id not in agents:
            agents.append(request.principal.id)  # an agent who writes joins the group
    if not written.new:
        return []
    messages = [_message_values(r.result.message) for r in written.new if r.result is not None]
    changed = [
        (t.id, t.last_seq, t.last_public_seq, t.status, now, t.responded)
        for t in tickets.values()
        if t.changed
    ]
    return [
        b"INSERT INTO messages (id, workspace_id, ticket_id, seq, client_id, kind, sender_type,"
        b" sender_id, sender_name, body, created_at, search_terms) VALUES "
        + _values(cursor, "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", messages),
        b"UPDATE tickets AS t SET last_seq = v.last_seq, last_public_seq = v.last_public_seq,"
        b" status = v.status, last_activity_at = v.now, updated_at = v.now,"
        b" first_response_at = CASE WHEN v.responded"
        b" THEN COALESCE(t.first_response_at, v.now) ELSE t.first_response_at END FROM (VALUES "
        + _values(cursor, "(%s,%s::integer,%s::integer,%s,%s::timestamptz,%s::boolean)", changed)
        + b") AS v(id, last_seq, last_public_seq, status, now, responded) WHERE t.id = v.id",
        *_sender_statements(cursor, written.new, tickets, now),
    ]


def _receipt_statement(
    cursor: Any, receipts: list[_Receipt], tickets: dict[str, _TicketRow]
) -> tuple[bytes | None, dict[tuple[str, str, str], list[Any]]]:
    """The upsert that moves read and delivered positions (never back), ``RETURNING`` the
    positions that moved; and what was asked per (ticket, kind, id)."""
    # (ticket, kind, id) -> [delivered, read, workspace, role]
    wanted: dict[tuple[str, str, str], list[Any]] = {}
    for request in receipts:
        principal, ticket = request.principal, tickets.get(request.ticket_id)
        if (
            ticket is None
            or ticket.workspace_id != principal.workspace_id
            or (principal.is_visitor and ticket.visitor_id != principal.id)
        ):
            continue  # the per-message path answers not_found
        visible = ticket.last_public_seq if principal.is_visitor else ticket.last_seq
        request.result = seq = max(0, min(request.seq, visible))
        if seq == 0:
            continue
        role = "visitor" if principal.is_visitor else "observer"
        entry = wanted.setdefault(request.subject, [0, 0, principal.workspace_id, role])
        entry[0] = max(entry[0], seq)
        if request.read:
            entry[1] = max(entry[1], seq)
    if not wanted:
        return None, wanted
    now = utcnow()
    rows = [
        (new_id(), entry[2], *subject, entry[3], entry[0], entry[1], now)
        for subject, entry in sorted(wanted.items())
    ]
    statement = (
        b"INSERT INTO participants AS p (id, workspace_id, ticket_id, subject_type, subject_id,"
        b" role, delivered_seq, read_seq, created_at) VALUES "
        + _values(cursor, "(%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
        + b" ON CONFLICT (ticket_id, subject_type, subject_id) DO UPDATE SET"
        b" delivered_seq = GREATEST(p.delivered_seq, EXCLUDED.delivered_seq),"
        b" read_seq = GREATEST(p.read_seq, EXCLUDED.read_seq)"
        b" WHERE p.delivered_seq < EXCLUDED.delivered_seq OR p.read_seq < EXCLUDED.read_seq"
        b" RETURNING ticket_id, subject_type, subject_id, delivered_seq, read_seq"
    )
    return statement, wanted


def _moved(
    rows: list[tuple[Any, ...]], wanted: dict[tuple[str, str, str], list[Any]]
) -> list[_Moved]:
    """The positions that moved, as ``read`` (when the read position moved) or ``delivered``."""
    moved = []
    for ticket_id, kind, subject_id, delivered_seq, read_seq in rows:
        asked = wanted[(ticket_id, kind, subject_id)]
        read = asked[1] > 0 and read_seq == asked[1]
        subject = {"type": kind, "id": subject_id}
        seq = read_seq if read else delivered_seq
        moved.append(_Moved(ticket_id, subject, seq, read, kind == "agent"))
    return moved


def _may_append(request: _Send, ticket: _TicketRow | None) -> bool:
    """The per-message path's fast rules: the caller's workspace, a visitor's own open ticket,
    notes by agents and events by the system. Anything else is decided one by one."""
    principal = request.principal
    if ticket is None or ticket.workspace_id != principal.workspace_id:
        return False
    if principal.is_visitor and (ticket.visitor_id != principal.id or ticket.status == "resolved"):
        return False
    if request.kind == "note" and not principal.is_agent:
        return False
    return not (request.kind == "event" and principal.kind != "system")


def _stored_messages(
    cursor: Any, requests: list[_Send]
) -> dict[tuple[str, str, str, str], Message]:
    """Messages stored before under the requests' (ticket, sender, client_id) keys."""
    keys = list({r.key for r in requests})
    cursor.execute(
        "SELECT m.id, m.workspace_id, m.ticket_id, m.seq, m.client_id, m.kind, m.sender_type,"
        " m.sender_id, m.sender_name, m.body, m.created_at FROM messages m"
        " JOIN unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS k(t, st, s, c)"
        " ON m.ticket_id = k.t AND m.sender_type = k.st AND m.sender_id = k.s"
        " AND m.client_id = k.c",
        tuple([k[i] for k in keys] for i in range(4)),
    )
    found = {}
    ring = crypto.keyring()
    for row in cursor.fetchall():
        message = Message(**dict(zip(MESSAGE_COLUMNS, row, strict=True)))
        message.body = ring.open(message.ticket_id, message.id, message.body)
        message.created_at = as_utc(message.created_at)
        found[(message.ticket_id, message.sender_type, message.sender_id, message.client_id)] = (
            message
        )
    return found


#: The messages table's columns, in the order both message paths insert them.
MESSAGE_COLUMNS = (
    "id",
    "workspace_id",
    "ticket_id",
    "seq",
    "client_id",
    "kind",
    "sender_type",
    "sender_id",
    "sender_name",
    "body",
    "created_at",
)


def _next_message(request: _Send, ticket: _TicketRow, now: datetime) -> Message:
    """The request's message with its ticket's next seq; the ticket row follows in memory."""
    principal = request.principal
    ticket.last_seq += 1
    ticket.changed = True
    if request.kind != "note":
        ticket.last_public_seq = ticket.last_seq
    if principal.is_visitor and ticket.status == "pending":
        ticket.status = "open"
    if principal.is_agent and request.kind == "text":
        ticket.responded = True
    return Message(
        id=new_id(),
        workspace_id=principal.workspace_id,
        ticket_id=ticket.id,
        seq=ticket.last_seq,
        client_id=request.client_id,
        kind=request.kind,
        sender_type=principal.kind,
        sender_id=principal.id,
        sender_name=principal.name or DEFAULT_NAMES.get(principal.kind, ""),
        body=request.body,
        created_at=now,
    )


#: The columns both message paths insert: the message's own, then its blind index.
INSERT_COLUMNS = (*MESSAGE_COLUMNS, "search_terms")


def stored_values(message: Message) -> dict[str, Any]:
    """The row to insert for ``message``: its body sealed (bound to its ticket and id) and
    the blind index of its words, under the current key."""
    ring = crypto.keyring()
    values = {column: getattr(message, column) for column in MESSAGE_COLUMNS}
    values["body"] = ring.seal(message.ticket_id, message.id, message.body)
    values["search_terms"] = ring.terms(message.body)
    return values


def _message_values(message: Message) -> tuple[Any, ...]:
    values = stored_values(message)
    return tuple(values[column] for column in INSERT_COLUMNS)


def _sender_statements(
    cursor: Any, new: list[_Send], tickets: dict[str, _TicketRow], now: datetime
) -> list[bytes]:
    """Each sender is in its ticket's group and has read (and received) its own messages."""
    rows: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for request in new:
        principal, ticket = request.principal, tickets[request.ticket_id]
        if principal.kind == "system" or request.result is None:
            continue
        role = {"visitor": "visitor", "bot": "bot"}.get(principal.kind, "collaborator")
        if principal.is_agent and ticket.assignee_id == principal.id:
            role = "assignee"
        seq = request.result.message.seq
        key = (ticket.id, principal.kind, principal.id)
        rows[key] = (new_id(), principal.workspace_id, *key, role, seq, seq, now)
    if not rows:
        return []
    return [
        b"INSERT INTO participants (id, workspace_id, ticket_id, subject_type, subject_id, role,"
        b" delivered_seq, read_seq, created_at) VALUES "
        + _values(cursor, "(%s,%s,%s,%s,%s,%s,%s,%s,%s)", [rows[key] for key in sorted(rows)])
        + b" ON CONFLICT (ticket_id, subject_type, subject_id) DO UPDATE SET"
        b" read_seq = GREATEST(participants.read_seq, EXCLUDED.read_seq),"
        b" delivered_seq = GREATEST(participants.delivered_seq, EXCLUDED.delivered_seq),"
        b" role = CASE WHEN participants.role = 'observer' OR EXCLUDED.role = 'assignee'"
        b" THEN EXCLUDED.role ELSE participants.role END"
    ]


def _publish(written: _Written) -> None:
    """After the commit: each new message to its ticket's group in seq order, the receipts,
    then one (coalesced) ``ticket:updated`` per ticket. A failed publish is logged and costs
    clients a ``sync``; it never turns a stored message into a refused one."""
    from app.services.bot_chat import after_committed as bot_after_committed

    tickets, agents = written.tickets, written.agents
    announce = {t.id for t in tickets.values() if t.changed}
    reach: dict[tuple[str, str], bool] = {}  # asked once per workspace and site per batch
    for request in written.new:
        if request.result is None:  # pragma: no cover - every new request has its result
            continue
        ticket = tickets[request.ticket_id]
        to = rooms.ticket_rooms(
            ticket.id,
            ticket.visitor_id,
            agents.get(ticket.id, []),
            agents_only=request.kind == "note",
        )
        try:
            payload = {"message": MESSAGE_OUT.dump(request.result.message)}
        except Exception:
            log.exception("building a message:new payload failed")
            continue
        emit_now(names.MESSAGE_NEW, payload, to)
        # What notify_message_created (app/notifications/hooks.py) queues in a transaction,
        # unless the workspace has no way to be notified (most of a job's cost under load).
        where = (ticket.workspace_id, ticket.site_id)
        if where not in reach:
            reach[where] = notifiable(*where)
        if reach[where]:
            enqueue_now("notify_message", request.result.message.id, False)
        bot_after_committed(request.principal, ticket.id, request.result.message.seq, ticket.status)
    for moved in written.moved:
        ticket = tickets[moved.ticket_id]
        to = rooms.ticket_rooms(
            ticket.id, ticket.visitor_id, agents.get(ticket.id, []), agents_only=False
        )

        payload = {"ticket_id": ticket.id, "reader": moved.subject, "seq": moved.seq}
        emit_now(names.READ if moved.read else names.DELIVERED, payload, to)
        if moved.read and moved.by_agent:
            # The team's unread count changed; a visitor's reading changes nothing agents see.
            announce.add(ticket.id)
    for ticket_id in sorted(announce):
        ticket_state.announce_committed(ticket_id)
