"""Privacy requests about one visitor: export everything stored about it, or erase it.

Erasure follows Intercom and Chatwoot: deleting a contact deletes its conversations, so the
visitor's tickets go with every row that hangs off them (messages, agents' notes included,
ratings, bot replies, read positions, notification state and outbox entries), plus its push
subscriptions and its own row. Visitor tokens are signed and stateless, so the visitor's id
is kept in ``erased_visitors`` (nothing else) to refuse its token from then on. The audit log
keeps ``visitor.exported`` / ``visitor.deleted`` entries, which carry ids and counts only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from app.auth.permissions import require_manager
from app.auth.principal import Principal
from app.errors import NotFound
from app.events import publish, rooms
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import utcnow
from app.limits import MAX_EXPORT_MESSAGES
from app.models import (
    BotReply,
    Delivery,
    ErasedVisitor,
    Message,
    NotificationWindow,
    Participant,
    PushSubscription,
    Rating,
    Ticket,
    Visitor,
)
from app.notifications.reach import forget_reach
from app.services import audit
from app.services.transaction import write_transaction


def export_visitor(
    principal: Principal, visitor_id: str, *, include_notes: bool = False
) -> dict[str, Any]:
    """Everything stored about a visitor of the workspace, as one document (owners, admins).

    Agents' private notes are left out unless ``include_notes``: they are the team's own
    records, never shown to the visitor; each ticket says how many were withheld.
    """
    require_manager(principal)
    visitor = _visitor(principal, visitor_id)
    tickets = list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.workspace_id == principal.workspace_id, Ticket.visitor_id == visitor.id)
            .order_by(Ticket.created_at, Ticket.id)
        )
    )
    ids = [t.id for t in tickets]
    messages, truncated = _messages(principal, ids, include_notes)
    document = {
        "exported_at": utcnow(),
        "workspace_id": principal.workspace_id,
        "includes_notes": include_notes,
        "truncated": truncated,
        "visitor": _visitor_data(visitor),
        "tickets": _tickets_data(principal, tickets, messages, include_notes),
        "push_subscriptions": [
            {"id": s.id, "endpoint_origin": _origin(s.endpoint), "created_at": s.created_at}
            for s in _subscriptions(principal, visitor.id)
        ],
        "notifications": [_delivery_data(d) for d in _deliveries(principal, visitor.id, ids)],
    }
    count = sum(len(m) for m in messages.values())
    with write_transaction() as session:
        details = {"tickets": len(ids), "messages": count, "includes_notes": include_notes}
        audit.record(session, principal, "visitor.exported", "visitor", visitor.id, details)
    return document


def delete_visitor(principal: Principal, visitor_id: str) -> dict[str, int]:
    """Erase a visitor of the workspace and everything about it (owners and admins).

    Its tickets disappear from the console; its live sockets are closed after the commit
    (those on other processes are removed from its room and refused on their next send).
    Returns how many rows of each kind went.
    """
    require_manager(principal)
    with write_transaction() as session:
        visitor = _visitor(principal, visitor_id, lock=True)
        counts = _erase(session, principal, visitor)
        session.add(ErasedVisitor(id=visitor.id, workspace_id=principal.workspace_id))
        audit.record(session, principal, "visitor.deleted", "visitor", visitor.id, counts)
        if counts["push_subscriptions"]:
            forget_reach(session, principal.workspace_id)
        publish.disconnect_after_commit(session, rooms.visitor_room(visitor.id))
    return counts


def _erase(session: Session, principal: Principal, visitor: Visitor) -> dict[str, int]:
    ws = principal.workspace_id
    ticket_ids = select(Ticket.id).where(Ticket.workspace_id == ws, Ticket.visitor_id == visitor.id)
    sub_ids = select(PushSubscription.id).where(_visitor_subscription(ws, visitor.id))
    steps: list[tuple[str, Any, ColumnElement[bool]]] = [
        ("notifications", Delivery, _delivery_filter(ws, ticket_ids, sub_ids)),
        ("notification_windows", NotificationWindow, NotificationWindow.ticket_id.in_(ticket_ids)),
        ("bot_replies", BotReply, BotReply.ticket_id.in_(ticket_ids)),
        ("ratings", Rating, Rating.ticket_id.in_(ticket_ids)),
        ("participants", Participant, Participant.ticket_id.in_(ticket_ids)),
        ("messages", Message, Message.ticket_id.in_(ticket_ids)),
        ("tickets", Ticket, Ticket.id.in_(ticket_ids)),
        ("push_subscriptions", PushSubscription, _visitor_subscription(ws, visitor.id)),
    ]
    counts: dict[str, int] = {}
    for name, model, where in steps:
        result = session.execute(
            delete(model)
            .where(model.workspace_id == ws, where)
            .execution_options(synchronize_session=False)
        )
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    session.delete(visitor)
    session.flush()
    return counts


def _visitor(principal: Principal, visitor_id: str, *, lock: bool = False) -> Visitor:
    """A stored visitor of the principal's workspace; anything else is ``not_found``."""
    query = select(Visitor).where(
        Visitor.id == visitor_id, Visitor.workspace_id == principal.workspace_id
    )
    visitor: Visitor | None = None
    if looks_like_id(visitor_id):
        visitor = db.session.scalar(query.with_for_update() if lock else query)
    if visitor is None:
        raise NotFound("Visitor not found.")
    return visitor


def _visitor_subscription(workspace_id: str, visitor_id: str) -> ColumnElement[bool]:
    return (
        (PushSubscription.workspace_id == workspace_id)
        & (PushSubscription.subject_type == "visitor")
        & (PushSubscription.subject_id == visitor_id)
    )


def _delivery_filter(workspace_id: str, ticket_ids: Any, sub_ids: Any) -> ColumnElement[bool]:
    """Outbox rows about the visitor: anything of its tickets (e-mail always names one) and
    pushes to its browsers."""
    about = or_(Delivery.ticket_id.in_(ticket_ids), Delivery.subscription_id.in_(sub_ids))
    return (Delivery.workspace_id == workspace_id) & about


def _messages(
    principal: Principal, ticket_ids: list[str], include_notes: bool
) -> tuple[dict[str, list[Message]], bool]:
    """The tickets' messages by ticket, in seq order, up to ``MAX_EXPORT_MESSAGES``."""
    found: dict[str, list[Message]] = {t: [] for t in ticket_ids}
    if not ticket_ids:
        return found, False
    query = select(Message).where(
        Message.workspace_id == principal.workspace_id, Message.ticket_id.in_(ticket_ids)
    )
    if not include_notes:
        query = query.where(Message.kind != "note")
    rows = list(
        db.session.scalars(
            query.order_by(Message.ticket_id, Message.seq).limit(MAX_EXPORT_MESSAGES + 1)
        )
    )
    for message in rows[:MAX_EXPORT_MESSAGES]:
        found[message.ticket_id].append(message)
    return found, len(rows) > MAX_EXPORT_MESSAGES


def _tickets_data(
    principal: Principal,
    tickets: list[Ticket],
    messages: dict[str, list[Message]],
    include_notes: bool,
) -> list[dict[str, Any]]:
    ids = [t.id for t in tickets]
    if not ids:
        return []
    ws = principal.workspace_id
    ratings = {
        r.ticket_id: r
        for r in db.session.scalars(
            select(Rating).where(Rating.workspace_id == ws, Rating.ticket_id.in_(ids))
        )
    }
    replies: dict[str, list[BotReply]] = {}
    for reply in db.session.scalars(
        select(BotReply)
        .where(BotReply.workspace_id == ws, BotReply.ticket_id.in_(ids))
        .order_by(BotReply.created_at, BotReply.id)
    ):
        replies.setdefault(reply.ticket_id, []).append(reply)
    positions = {
        p.ticket_id: p
        for p in db.session.scalars(
            select(Participant).where(
                Participant.workspace_id == ws,
                Participant.ticket_id.in_(ids),
                Participant.subject_type == "visitor",
            )
        )
    }
    notes: dict[str, int] = {}
    if not include_notes:
        counted = db.session.execute(
            select(Message.ticket_id, func.count())
            .where(Message.workspace_id == ws, Message.ticket_id.in_(ids), Message.kind == "note")
            .group_by(Message.ticket_id)
        )
        notes = {ticket_id: int(n) for ticket_id, n in counted}
    out = []
    for ticket in tickets:
        rating = ratings.get(ticket.id)
        position = positions.get(ticket.id)
        out.append(
            {
                "id": ticket.id,
                "site_id": ticket.site_id,
                "status": ticket.status,
                "assignee_id": ticket.assignee_id,
                "created_at": ticket.created_at,
                "updated_at": ticket.updated_at,
                "first_response_at": ticket.first_response_at,
                "resolved_at": ticket.resolved_at,
                "visitor_read_seq": position.read_seq if position else 0,
                "visitor_delivered_seq": position.delivered_seq if position else 0,
                "rating": None
                if rating is None
                else {
                    "score": rating.score,
                    "comment": rating.comment,
                    "created_at": rating.created_at,
                    "updated_at": rating.updated_at,
                },
                "messages": [_message_data(m) for m in messages.get(ticket.id, [])],
                "notes_withheld": notes.get(ticket.id, 0),
                "bot_replies": [
                    {
                        "outcome": r.outcome,
                        "faq_id": r.faq_id,
                        "confidence": r.confidence,
                        "helpful": r.helpful,
                        "created_at": r.created_at,
                    }
                    for r in replies.get(ticket.id, [])
                ],
            }
        )
    return out


def _visitor_data(visitor: Visitor) -> dict[str, Any]:
    return {
        "id": visitor.id,
        "site_id": visitor.site_id,
        "name": visitor.name,
        "email": visitor.email,
        "external_id": visitor.external_id,
        "verified": visitor.verified,
        "attributes": visitor.attributes or {},
        "current_url": visitor.current_url,
        "page_title": visitor.page_title,
        "referrer": visitor.referrer,
        "user_agent": visitor.user_agent,
        "first_seen_at": visitor.created_at,
        "last_seen_at": visitor.last_seen_at,
    }


def _message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "seq": message.seq,
        "kind": message.kind,
        "sender": {
            "type": message.sender_type,
            "id": message.sender_id,
            "name": message.sender_name,
        },
        "body": message.body,
        "created_at": message.created_at,
    }


def _subscriptions(principal: Principal, visitor_id: str) -> list[PushSubscription]:
    return list(
        db.session.scalars(
            select(PushSubscription)
            .where(_visitor_subscription(principal.workspace_id, visitor_id))
            .order_by(PushSubscription.created_at, PushSubscription.id)
        )
    )


def _deliveries(principal: Principal, visitor_id: str, ticket_ids: list[str]) -> list[Delivery]:
    """The visitor's e-mail and push outbox entries (webhook calls go to the site's own
    integrations, not to the visitor, and are left out)."""
    ws = principal.workspace_id
    sub_ids = select(PushSubscription.id).where(_visitor_subscription(ws, visitor_id))
    where = _delivery_filter(ws, ticket_ids, sub_ids) & (Delivery.channel != "webhook")
    return list(
        db.session.scalars(select(Delivery).where(where).order_by(Delivery.created_at, Delivery.id))
    )


def _delivery_data(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "channel": delivery.channel,
        "event": delivery.event,
        "ticket_id": delivery.ticket_id,
        "address": delivery.address,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }


def _origin(endpoint: str) -> str:
    """A push endpoint's scheme and host: the rest of the URL is a capability."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.hostname or ''}"
