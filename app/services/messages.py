"""The message path: every message, from any transport, the bot or the system, goes here.

``send_message`` validates, takes the ticket's next ``seq`` under a row lock, inserts, commits,
then publishes. A repeated ``client_id`` from the same sender returns the stored message and
publishes nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.permissions import can_post
from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.events import names
from app.events.publish import emit_after_commit
from app.extensions import db
from app.lib.ids import looks_like_id, new_id
from app.lib.timeutil import utcnow
from app.limits import (
    MAX_BODY_CHARS,
    MAX_CLIENT_ID_CHARS,
    MESSAGE_PAGE_DEFAULT,
    MESSAGE_PAGE_MAX,
    SYNC_PAGE_MAX,
)
from app.models import Message, Participant, Ticket
from app.notifications.hooks import notify_message_created
from app.schemas.tickets import MESSAGE_OUT
from app.services import message_writer, routing, ticket_state
from app.services.bot_chat import after_message as bot_after_message
from app.services.transaction import in_transaction, write_transaction

#: Tries of the send transaction when a concurrent first message of the visitor races it.
_SEND_ATTEMPTS = 3


@dataclass(frozen=True)
class SendResult:
    message: Message
    ticket_id: str
    duplicate: bool


def send_message(
    principal: Principal,
    *,
    ticket_id: str | None,
    client_id: str | None,
    body: str,
    kind: str = "text",
) -> SendResult:
    """Store one message and publish it after commit; idempotent per sender and ``client_id``."""
    body, client_id = _checked(principal, body, client_id, kind)
    if ticket_id is not None and looks_like_id(ticket_id) and not in_transaction():
        writer = message_writer.writer_for_app()
        if writer is not None:
            db.session.rollback()  # hold no connection while the batch is written
            stored = writer.send(principal, ticket_id, client_id, body, kind)
            if stored is not None:
                return SendResult(stored.message, stored.ticket_id, stored.duplicate)
    for attempt in range(_SEND_ATTEMPTS):
        try:
            with write_transaction() as session:
                fast = _append_fast(session, principal, ticket_id, client_id, body, kind)
                if fast is not None:
                    return fast
                return _append(session, principal, ticket_id, client_id, body, kind)
        except _Resend as resend:
            found = _stored(resend.ticket_id, principal, client_id)
            if found is not None:
                return found
        except IntegrityError:
            # A concurrent request won a race: a resend of the same client_id (answer with
            # its message), or the visitor's first messages creating its row or ticket at
            # once (try again: this time they exist).
            tid = ticket_id or _active_ticket_id(principal)
            found = _stored(tid, principal, client_id) if tid else None
            if found is not None:
                return found
            if attempt == _SEND_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def post_event(session: Session, ticket: Ticket, body: str) -> Message:
    """A system line (assigned, resolved, handoff...) inside the caller's transaction."""
    system = Principal(kind="system", workspace_id=ticket.workspace_id, id="system")
    result = _append(session, system, ticket.id, new_id(), body, "event")
    return result.message


def list_messages(
    principal: Principal,
    ticket_id: str,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> tuple[list[Message], bool]:
    """One page of history, ascending by seq; ``has_more`` says whether the page is not the end."""
    ticket = ticket_state.load_ticket(principal, ticket_id)
    size = min(limit or MESSAGE_PAGE_DEFAULT, MESSAGE_PAGE_MAX)
    query = select(Message).where(Message.ticket_id == ticket.id)
    if principal.is_visitor:
        query = query.where(Message.kind != "note")
    if after is not None:
        rows = list(
            db.session.scalars(
                query.where(Message.seq > after).order_by(Message.seq).limit(size + 1)
            )
        )
        return rows[:size], len(rows) > size
    if before is not None:
        query = query.where(Message.seq < before)
    rows = list(db.session.scalars(query.order_by(Message.seq.desc()).limit(size + 1)))
    return list(reversed(rows[:size])), len(rows) > size


def sync_messages(
    principal: Principal, positions: dict[str, int]
) -> tuple[list[Message], dict[str, bool]]:
    """Everything the caller may see after each ``{ticket_id: last_seq}``, oldest first."""
    messages: list[Message] = []
    has_more: dict[str, bool] = {}
    for ticket_id, last_seq in positions.items():
        rows, more = list_messages(
            principal, ticket_id, after=max(0, last_seq), limit=SYNC_PAGE_MAX
        )
        messages.extend(rows)
        has_more[ticket_id] = more
    return messages, has_more


def mark_read(principal: Principal, ticket_id: str, seq: int) -> int:
    """Everything up to ``seq`` is read (and so delivered) by the caller; returns the stored seq."""
    return _advance_batched(principal, ticket_id, seq, read=True)


def mark_delivered(principal: Principal, ticket_id: str, seq: int) -> int:
    """The caller's client has received everything up to ``seq``."""
    return _advance_batched(principal, ticket_id, seq, read=False)


def _advance_batched(principal: Principal, ticket_id: str, seq: int, *, read: bool) -> int:
    """``_advance`` with the next group commit where there is one (PostgreSQL)."""
    if looks_like_id(ticket_id) and not in_transaction():
        writer = message_writer.writer_for_app()
        if writer is not None:
            db.session.rollback()  # hold no connection while the batch is written
            stored = writer.receipt(principal, ticket_id, seq, read=read)
            if stored is not None:
                return stored
    return _advance(principal, ticket_id, seq, read=read)


def message_payload(message: Message) -> dict[str, object]:
    return {"message": MESSAGE_OUT.dump(message)}


# -- internals -------------------------------------------------------------------------------


def _checked(principal: Principal, body: object, client_id: object, kind: str) -> tuple[str, str]:
    if not isinstance(body, str) or not body.strip():
        raise Invalid("The message is empty.", fields={"body": ["Must not be empty."]})
    body = body.strip()
    if len(body) > MAX_BODY_CHARS:
        raise Invalid(
            f"The message is longer than {MAX_BODY_CHARS} characters.",
            fields={"body": [f"At most {MAX_BODY_CHARS} characters."]},
        )
    if principal.kind == "system" and client_id is None:
        client_id = new_id()
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID_CHARS:
        raise Invalid(
            "client_id must be 1 to 64 characters.", fields={"client_id": ["1 to 64 characters."]}
        )
    if kind not in ("text", "note", "event"):
        raise Invalid("Unknown message kind.", fields={"kind": ["text or note."]})
    return body, client_id


def _stored(ticket_id: str, principal: Principal, client_id: str) -> SendResult | None:
    ticket = ticket_state.load_ticket(principal, ticket_id)
    message = db.session.scalar(
        select(Message).where(
            Message.ticket_id == ticket.id,
            Message.sender_type == principal.kind,
            Message.sender_id == principal.id,
            Message.client_id == client_id,
        )
    )
    return SendResult(message, ticket.id, True) if message is not None else None


def _active_ticket_id(principal: Principal) -> str | None:
    if not principal.is_visitor:
        return None
    ticket = ticket_state.active_ticket(principal.id)
    return ticket.id if ticket else None


class _Resend(Exception):
    """The client_id was stored before: roll back the seq just taken and answer with it."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id


def _append_fast(
    session: Session,
    principal: Principal,
    ticket_id: str | None,
    client_id: str,
    body: str,
    kind: str,
    *,
    created: bool = False,
) -> SendResult | None:
    """Append to an existing ticket in four statements (seq under the ticket's row lock,
    insert-or-resend, the sender's read position, the group's rooms): the one place that
    inserts messages. Returns None, having changed nothing, when ``_append`` must decide
    first (a new ticket, a resolved one to reopen, an unknown ticket or a refusal)."""
    if ticket_id is None:
        return None
    if (kind == "note" and not principal.is_agent) or (
        kind == "event" and principal.kind != "system"
    ):
        return None
    now = utcnow()
    dialect = session.get_bind().dialect.name
    variant = (
        "visitor"
        if principal.is_visitor
        else "agent_text"
        if principal.is_agent and kind == "text"
        else "plain"
    )
    row = session.execute(
        _take_seq_statement(variant, kind == "note"),
        {"tid": ticket_id, "ws": principal.workspace_id, "vid": principal.id, "now": now},
    ).first()
    if row is None:
        return None
    seq, visitor_id, assignee_id = int(row[0]), str(row[1]), row[2]
    message = Message(
        id=new_id(),
        workspace_id=principal.workspace_id,
        ticket_id=ticket_id,
        seq=seq,
        client_id=client_id,
        kind=kind,
        sender_type=principal.kind,
        sender_id=principal.id,
        sender_name=principal.name or _DEFAULT_NAMES.get(principal.kind, ""),
        body=body,
        created_at=now,
    )
    inserted = session.execute(
        _insert_message_statement(dialect), message_writer.stored_values(message)
    ).first()
    if inserted is None:
        raise _Resend(ticket_id)
    if principal.kind != "system":
        role = {"visitor": "visitor", "bot": "bot"}.get(principal.kind, "collaborator")
        if principal.is_agent and assignee_id == principal.id:
            role = "assignee"
        _upsert_sender(session, principal, ticket_id, role, seq, now)
    rooms = ticket_state.ticket_group_rooms(ticket_id, visitor_id, agents_only=kind == "note")
    emit_after_commit(session, names.MESSAGE_NEW, message_payload(message), rooms)
    event = names.TICKET_CREATED if created else names.TICKET_UPDATED
    ticket_state.announce(session, ticket_id, principal.workspace_id, visitor_id, event)
    notify_message_created(session, message, created=created)
    bot_after_message(session, principal, ticket_id, seq)
    return SendResult(message, ticket_id, False)


_DEFAULT_NAMES = message_writer.DEFAULT_NAMES
_MESSAGE_KEY = ["ticket_id", "sender_type", "sender_id", "client_id"]


@functools.cache
def _take_seq_statement(variant: str, note: bool) -> Any:
    """The UPDATE that takes a ticket's next seq (and locks its row), built once per shape.

    Its WHERE is the permission check: the caller's workspace and, for a visitor, its own
    ticket that is not resolved; no row means "let the general path decide".
    """
    tickets = Ticket.__table__
    now: Any = bindparam("now")
    values: dict[str, Any] = {
        "last_seq": tickets.c.last_seq + 1,
        "last_activity_at": now,
        "updated_at": now,
    }
    if not note:
        values["last_public_seq"] = tickets.c.last_seq + 1
    where = [tickets.c.id == bindparam("tid"), tickets.c.workspace_id == bindparam("ws")]
    if variant == "visitor":
        where += [tickets.c.visitor_id == bindparam("vid"), tickets.c.status != "resolved"]
        values["status"] = case((tickets.c.status == "pending", "open"), else_=tickets.c.status)
    if variant == "agent_text":
        values["first_response_at"] = func.coalesce(tickets.c.first_response_at, now)
    return (
        update(tickets)
        .where(*where)
        .values(**values)
        .returning(tickets.c.last_seq, tickets.c.visitor_id, tickets.c.assignee_id)
    )


@functools.cache
def _insert_message_statement(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (ticket, sender, client_id) DO NOTHING RETURNING id."""
    table = Message.__table__
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    return (
        insert.values({c: bindparam(c) for c in message_writer.INSERT_COLUMNS})
        .on_conflict_do_nothing(index_elements=_MESSAGE_KEY)
        .returning(table.c.id)
    )


def _insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def _upsert_sender(
    session: Session, principal: Principal, ticket_id: str, role: str, seq: int, now: Any
) -> None:
    """The sender is in the group and has read (and received) its own message."""
    table = Participant.__table__
    stmt = _participant_row(session, principal, ticket_id, role, seq, seq, now)

    def biggest(column: Any, other: Any) -> Any:
        return _greater(session, column, other)

    session.execute(
        stmt.on_conflict_do_update(
            index_elements=_PARTICIPANT_KEY,
            set_={
                "read_seq": biggest(table.c.read_seq, stmt.excluded.read_seq),
                "delivered_seq": biggest(table.c.delivered_seq, stmt.excluded.delivered_seq),
                "role": case(
                    (
                        (table.c.role == "observer") | (stmt.excluded.role == "assignee"),
                        stmt.excluded.role,
                    ),
                    else_=table.c.role,
                ),
            },
        )
    )


_PARTICIPANT_KEY = ["ticket_id", "subject_type", "subject_id"]


def _participant_row(
    session: Session,
    principal: Principal,
    ticket_id: str,
    role: str,
    delivered_seq: int,
    read_seq: int,
    now: Any,
) -> Any:
    """INSERT of the principal's participant row (the caller adds its ON CONFLICT)."""
    return _insert(session, Participant.__table__).values(
        id=new_id(),
        workspace_id=principal.workspace_id,
        ticket_id=ticket_id,
        subject_type=principal.kind,
        subject_id=principal.id,
        role=role,
        delivered_seq=delivered_seq,
        read_seq=read_seq,
        created_at=now,
    )


def _append(
    session: Session,
    principal: Principal,
    ticket_id: str | None,
    client_id: str,
    body: str,
    kind: str,
) -> SendResult:
    created = False
    if ticket_id is None:
        if not principal.is_visitor:
            raise Invalid("ticket_id is required.", fields={"ticket_id": ["Required."]})
        ticket, created = ticket_state.open_ticket(session, principal)
    else:
        ticket = ticket_state.load_ticket(principal, ticket_id)
    if not can_post(principal, ticket, kind):
        raise Forbidden("You may not post this kind of message here.")
    if principal.is_visitor and ticket.status == "resolved":
        _reopen(session, ticket)
    result = _append_fast(session, principal, ticket.id, client_id, body, kind, created=created)
    if result is None:  # pragma: no cover - the ticket was just loaded or created
        raise NotFound("Ticket not found.")
    routing.ticket_opened(session, ticket, created)
    return result


def _reopen(session: Session, ticket: Ticket) -> None:
    other = ticket_state.active_ticket(ticket.visitor_id)
    if other is not None and other.id != ticket.id:
        # One unresolved ticket per visitor (uq_tickets_visitor_active): write there instead.
        raise Conflict("You already have an open conversation; continue it instead.")
    ticket.status = "open"
    ticket.resolved_at = None
    session.flush()


def _advance(principal: Principal, ticket_id: str, seq: int, *, read: bool) -> int:
    """Move the caller's delivered (and, for reads, read) position forward, never back; tell
    the group when it moved. Returns the stored position."""
    tickets, people = Ticket.__table__, Participant.__table__
    with write_transaction() as session:
        row = (
            session.execute(
                select(
                    tickets.c.workspace_id,
                    tickets.c.visitor_id,
                    tickets.c.last_seq,
                    tickets.c.last_public_seq,
                ).where(tickets.c.id == ticket_id)
            ).first()
            if looks_like_id(ticket_id)
            else None
        )
        if (
            row is None
            or row.workspace_id != principal.workspace_id
            or (principal.is_visitor and row.visitor_id != principal.id)
        ):
            raise NotFound("Ticket not found.")
        visible = row.last_public_seq if principal.is_visitor else row.last_seq
        seq = max(0, min(seq, visible))
        column = people.c.read_seq if read else people.c.delivered_seq
        values: dict[str, Any] = {"delivered_seq": _greater(session, people.c.delivered_seq, seq)}
        if read:
            values["read_seq"] = seq
        mine = (
            (people.c.ticket_id == ticket_id)
            & (people.c.subject_type == principal.kind)
            & (people.c.subject_id == principal.id)
        )
        moved = session.execute(
            update(people).where(mine, column < seq).values(**values).returning(column)
        ).first()
        if moved is None:
            role = "visitor" if principal.is_visitor else "observer"
            first = _participant_row(
                session, principal, ticket_id, role, seq, seq if read else 0, utcnow()
            )
            inserted = session.execute(
                first.on_conflict_do_nothing(index_elements=_PARTICIPANT_KEY).returning(people.c.id)
            ).first()
            if inserted is None or seq == 0:
                return int(session.scalar(select(column).where(mine)) or 0)
        payload = {"ticket_id": ticket_id, "reader": principal.subject, "seq": seq}
        rooms = ticket_state.ticket_group_rooms(ticket_id, row.visitor_id)
        emit_after_commit(session, names.READ if read else names.DELIVERED, payload, rooms)
        if read and principal.is_agent:
            # The team's unread count changed; a visitor's reading changes nothing agents see.
            ticket_state.announce(session, ticket_id, row.workspace_id, row.visitor_id)
    return seq


def _greater(session: Session, column: Any, value: Any) -> Any:
    """SQL for max(column, value) on PostgreSQL and SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return func.greatest(column, value)
    return func.max(column, value)
