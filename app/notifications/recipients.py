"""Who gets a push: never the sender, only someone with no live connection.

- a message (text or note): each participant agent (assignee, collaborators);
- an agent's text reply: also the ticket's visitor;
- a new ticket in the human queue (open, unassigned) or a handoff from the bot: every
  available agent (active, availability ``online``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Agent, Message, Participant, PushSubscription, Ticket, Visitor
from app.services import presence_store


@dataclass(frozen=True)
class Recipient:
    type: str  # "agent" or "visitor" (push), or "email" (the visitor's address)
    id: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.id)


def for_message(message: Message, ticket: Ticket) -> list[Recipient]:
    """Who should hear about ``message`` (before presence and subscriptions are checked)."""
    if message.kind not in ("text", "note"):
        return []
    agents = db.session.scalars(
        select(Participant.subject_id).where(
            Participant.workspace_id == ticket.workspace_id,
            Participant.ticket_id == ticket.id,
            Participant.subject_type == "agent",
            Participant.role.in_(("assignee", "collaborator")),
        )
    ).all()
    result = [Recipient("agent", a) for a in agents]
    if message.kind == "text" and message.sender_type == "agent":
        result.append(Recipient("visitor", ticket.visitor_id))
    sender = (message.sender_type, message.sender_id)
    return [r for r in _unique(result) if r.key != sender]


def available_agents(ticket: Ticket) -> list[Recipient]:
    """Every active agent of the ticket's workspace who chose to be available."""
    ids = db.session.scalars(
        select(Agent.id).where(
            Agent.workspace_id == ticket.workspace_id,
            Agent.is_active.is_(True),
            Agent.availability == "online",
        )
    ).all()
    return [Recipient("agent", a) for a in ids]


def reachable(workspace_id: str, candidates: Iterable[Recipient]) -> dict[Recipient, list[str]]:
    """The candidates with no live connection and at least one push subscription:
    ``{recipient: [subscription ids]}``."""
    candidates = _unique(candidates)
    if not candidates:
        return {}
    subs: dict[tuple[str, str], list[str]] = {}
    rows = db.session.execute(
        select(PushSubscription.id, PushSubscription.subject_type, PushSubscription.subject_id)
        .where(
            PushSubscription.workspace_id == workspace_id,
            PushSubscription.subject_id.in_([c.id for c in candidates]),
        )
        .order_by(PushSubscription.created_at, PushSubscription.id)
    ).all()
    for sub_id, subject_type, subject_id in rows:
        subs.setdefault((subject_type, subject_id), []).append(sub_id)
    with_subs = [c for c in candidates if c.key in subs]
    offline = _offline(with_subs)
    return {c: subs[c.key] for c in with_subs if c in offline}


def is_offline(recipient: Recipient) -> bool:
    return recipient in _offline([recipient])


def _offline(recipients: list[Recipient]) -> set[Recipient]:
    """Those with no live connection (an e-mail recipient is its visitor)."""
    result: set[Recipient] = set()
    for kind in ("agent", "visitor"):
        mine = [r for r in recipients if _presence_type(r) == kind]
        statuses = presence_store.statuses(kind, [r.id for r in mine])
        result.update(r for r in mine if statuses.get(r.id, "offline") == "offline")
    return result


def _presence_type(recipient: Recipient) -> str:
    return "visitor" if recipient.type == "email" else recipient.type


def email_recipient(message: Message, ticket: Ticket) -> Recipient | None:
    """The visitor, by e-mail, for an agent's reply: if it left an address and is not
    connected."""
    if message.kind != "text" or message.sender_type != "agent":
        return None
    address = db.session.scalar(
        select(Visitor.email).where(
            Visitor.workspace_id == ticket.workspace_id, Visitor.id == ticket.visitor_id
        )
    )
    if not address:
        return None
    recipient = Recipient("email", ticket.visitor_id)
    return recipient if is_offline(recipient) else None


def _unique(items: Iterable[Recipient]) -> list[Recipient]:
    seen: dict[Recipient, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
