"""Ticket list, status, assignment and the ticket's group of agents."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from app.auth.permissions import can_manage_ticket, scope_tickets
from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import as_utc, utcnow
from app.limits import TICKET_PAGE_DEFAULT, TICKET_PAGE_MAX
from app.models import Agent, Participant, Ticket
from app.notifications.hooks import notify_ticket_handed_off
from app.services import audit, routing, search, ticket_state
from app.services.messages import post_event
from app.services.transaction import write_transaction


def list_tickets(
    principal: Principal,
    *,
    q: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    site_id: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[Ticket], str | None]:
    """One page of tickets, newest activity first, and the cursor of the next page."""
    size = min(limit or TICKET_PAGE_DEFAULT, TICKET_PAGE_MAX)
    query = scope_tickets(principal, select(Ticket))
    if status:
        query = query.where(Ticket.status == status)
    if site_id:
        query = query.where(Ticket.site_id == site_id)
    if q:
        query = query.where(search.ticket_matches(principal, q))
    if assignee and principal.is_agent:
        if assignee == "me":
            query = query.where(Ticket.assignee_id == principal.id)
        elif assignee == "unassigned":
            query = query.where(Ticket.assignee_id.is_(None))
        elif looks_like_id(assignee):
            query = query.where(Ticket.assignee_id == assignee)
        else:
            raise Invalid(
                "assignee must be me, unassigned or an agent id.",
                fields={"assignee": ["me, unassigned or an agent id."]},
            )
    if cursor:
        at, last_id = _decode_cursor(cursor)
        query = query.where(tuple_(Ticket.last_activity_at, Ticket.id) < tuple_(at, last_id))
    query = query.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc()).limit(size + 1)
    rows = list(db.session.scalars(query))
    page = rows[:size]
    next_cursor = _encode_cursor(page[-1]) if len(rows) > size else None
    return page, next_cursor


def get_ticket(principal: Principal, ticket_id: str) -> Ticket:
    """One ticket the principal may see."""
    return ticket_state.load_ticket(principal, ticket_id)


def update_ticket(
    principal: Principal,
    ticket_id: str,
    *,
    status: str | None = None,
    assignee_id: str | None = None,
    unassign: bool = False,
) -> Ticket:
    """Change status and/or assignee; each change leaves a system line in the ticket."""
    with write_transaction() as session:
        ticket = _managed(principal, ticket_id)
        changed = False
        if unassign or assignee_id is not None:
            changed |= _assign(session, principal, ticket, None if unassign else assignee_id)
        if status is not None and status != ticket.status:
            action, details = _status_action(ticket.status, status)
            audit.record(session, principal, action, "ticket", ticket.id, details)
            _set_status(ticket, status)
            session.flush()
            post_event(session, ticket, _status_line(principal, status))
            changed = True
        if changed:
            ticket.updated_at = utcnow()
            ticket_state.announce_ticket(session, ticket)
            routing.route_now(session, ticket.workspace_id)
    return ticket


def add_participant(principal: Principal, ticket_id: str, agent_id: str) -> Ticket:
    """Invite a colleague into the ticket's group."""
    with write_transaction() as session:
        ticket = _managed(principal, ticket_id)
        agent = _workspace_agent(principal, agent_id)
        existing = session.scalar(
            select(Participant).where(
                Participant.ticket_id == ticket.id,
                Participant.subject_type == "agent",
                Participant.subject_id == agent.id,
            )
        )
        if existing is None or existing.role == "observer":
            ticket_state.add_participant_row(session, ticket, "agent", agent.id, "collaborator")
            post_event(session, ticket, f"{principal.name} added {agent.name}")
            details = {"agent_id": agent.id}
            audit.record(
                session, principal, "ticket.participant_added", "ticket", ticket.id, details
            )
            ticket_state.announce_ticket(session, ticket)
    return ticket


def remove_participant(principal: Principal, ticket_id: str, agent_id: str) -> Ticket:
    """Take a colleague out of the ticket's group (the assignee is unassigned too)."""
    with write_transaction() as session:
        ticket = _managed(principal, ticket_id)
        agent = _workspace_agent(principal, agent_id)
        if ticket.assignee_id == agent.id:
            ticket.assignee_id = None
        result = session.execute(
            delete(Participant).where(
                Participant.ticket_id == ticket.id,
                Participant.subject_type == "agent",
                Participant.subject_id == agent.id,
                Participant.role != "observer",
            )
        )
        if getattr(result, "rowcount", 0):
            post_event(session, ticket, f"{principal.name} removed {agent.name}")
            details = {"agent_id": agent.id}
            audit.record(
                session, principal, "ticket.participant_removed", "ticket", ticket.id, details
            )
            ticket_state.announce_ticket(session, ticket)
            routing.route_now(session, ticket.workspace_id)
    return ticket


def _managed(principal: Principal, ticket_id: str) -> Ticket:
    ticket = ticket_state.load_ticket(principal, ticket_id)
    if not can_manage_ticket(principal, ticket):
        raise Forbidden("Only agents may change tickets.")
    return ticket


def _workspace_agent(principal: Principal, agent_id: str) -> Agent:
    agent = db.session.get(Agent, agent_id) if looks_like_id(agent_id) else None
    if agent is None or agent.workspace_id != principal.workspace_id or not agent.is_active:
        raise NotFound("Agent not found.")
    return agent


def _assign(s: Session, principal: Principal, ticket: Ticket, assignee_id: str | None) -> bool:
    if assignee_id == ticket.assignee_id:
        return False
    previous = ticket.assignee_id
    if ticket.assignee_id is not None:
        old = s.scalar(
            select(Participant).where(
                Participant.ticket_id == ticket.id,
                Participant.subject_type == "agent",
                Participant.subject_id == ticket.assignee_id,
            )
        )
        if old is not None and old.role == "assignee":
            old.role = "collaborator"
    if assignee_id is None:
        ticket.assignee_id = None
        post_event(s, ticket, f"{principal.name} unassigned the ticket")
        audit.record(s, principal, "ticket.unassigned", "ticket", ticket.id, {"from": previous})
        return True
    agent = _workspace_agent(principal, assignee_id)
    ticket.assignee_id = agent.id
    ticket_state.add_participant_row(s, ticket, "agent", agent.id, "assignee")
    if ticket.status == "bot":
        ticket.status = "open"
    who = "themselves" if agent.id == principal.id else agent.name
    post_event(s, ticket, f"{principal.name} assigned {who}")
    details = {"from": previous, "to": agent.id}
    audit.record(s, principal, "ticket.assigned", "ticket", ticket.id, details)
    return True


def assign_in(session: Session, actor: Principal, ticket: Ticket, agent_id: str | None) -> None:
    """Assign (or with None unassign) inside the caller's transaction, for routing and
    deactivation: the same system line and ``ticket:updated`` as ``update_ticket``."""
    if _assign(session, actor, ticket, agent_id):
        ticket.updated_at = utcnow()
        ticket_state.announce_ticket(session, ticket)


def _set_status(ticket: Ticket, status: str) -> None:
    if ticket.status == "resolved" and status != "resolved":
        other = ticket_state.active_ticket(ticket.visitor_id)
        if other is not None and other.id != ticket.id:
            raise Conflict("The visitor already has another active ticket.")
    ticket.status = status
    ticket.resolved_at = utcnow() if status == "resolved" else None


def _status_action(old: str, new: str) -> tuple[str, dict[str, str]]:
    """The audit action and details of a status change."""
    if new == "resolved":
        action = "ticket.resolved"
    elif old == "resolved":
        action = "ticket.reopened"
    else:
        action = "ticket.status_changed"
    return action, {"from": old, "to": new}


def _status_line(principal: Principal, status: str) -> str:
    verb = {
        "resolved": "resolved the ticket",
        "pending": "marked the ticket pending",
        "open": "reopened the ticket",
        "bot": "returned the ticket to the bot",
    }[status]
    return f"{principal.name} {verb}"


def _encode_cursor(ticket: Ticket) -> str:
    raw = f"{as_utc(ticket.last_activity_at).isoformat()}|{ticket.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, ticket_id = raw.split("|", 1)
        at = as_utc(datetime.fromisoformat(at_text))
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise Invalid("The cursor is not valid.", fields={"cursor": ["Not valid."]}) from exc
    if not looks_like_id(ticket_id):
        raise Invalid("The cursor is not valid.", fields={"cursor": ["Not valid."]})
    return at, ticket_id


def hand_off(
    principal: Principal, ticket_id: str, reason: str = "The visitor asked for a person"
) -> Ticket:
    """Take a ticket from the bot to the human queue (status ``open``) with a system line."""
    with write_transaction() as session:
        ticket = ticket_state.load_ticket(principal, ticket_id)
        if ticket.status != "bot":
            return ticket
        ticket.status = "open"
        ticket.updated_at = utcnow()
        session.flush()
        post_event(session, ticket, reason)
        ticket_state.announce_ticket(session, ticket)
        notify_ticket_handed_off(session, ticket)
        routing.route_now(session, ticket.workspace_id)
    return ticket
