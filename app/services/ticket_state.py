"""Shared steps of the ticket and message use cases: load, create, join, announce."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.permissions import check_view_ticket
from app.auth.principal import Principal
from app.auth.visitors import visitor_erased
from app.errors import NotFound, Unauthorized
from app.events import names, rooms
from app.events.publish import Batcher, batch_after_commit, emit_after_commit, emit_now
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import utcnow
from app.models import Participant, Site, Ticket, Visitor
from app.notifications.hooks import notify_ticket_updated
from app.schemas.tickets import TICKET_OUT

TEAM_VIEWER_ID = "team"


def load_ticket(principal: Principal, ticket_id: object, *, lock: bool = False) -> Ticket:
    """The ticket if the principal may see it, else ``not_found`` (bad ids included)."""
    if not looks_like_id(ticket_id):
        raise NotFound("Ticket not found.")
    query = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        query = query.with_for_update()
    return check_view_ticket(principal, db.session.scalar(query))


def active_ticket(visitor_id: str) -> Ticket | None:
    """The visitor's one ticket that is not resolved, if any."""
    return db.session.scalar(
        select(Ticket).where(Ticket.visitor_id == visitor_id, Ticket.status != "resolved")
    )


def ensure_visitor(session: Session, principal: Principal) -> Visitor:
    """The visitor's row, created at its first message from what its token says."""
    visitor = session.get(Visitor, principal.id)
    if visitor is not None:
        return visitor
    if principal.site_id is None:
        raise NotFound("Site not found.")
    if visitor_erased(principal.id):  # a socket opened before the erasure
        raise Unauthorized("This visitor's data was deleted.")
    visitor = Visitor(
        id=principal.id,
        workspace_id=principal.workspace_id,
        site_id=principal.site_id,
        last_seen_at=utcnow(),
    )
    session.add(visitor)
    session.flush()
    return visitor


def open_ticket(session: Session, principal: Principal) -> tuple[Ticket, bool]:
    """The visitor's active ticket, or a new one: ``(ticket, created)``.

    A partial unique index allows one unresolved ticket per visitor, so concurrent first
    messages of one visitor end in one ticket.
    """
    existing = active_ticket(principal.id)
    if existing is not None:
        return existing, False
    ensure_visitor(session, principal)
    site = session.get(Site, principal.site_id)
    if site is None:
        raise NotFound("Site not found.")
    bot = bool((site.settings or {}).get("bot_enabled"))
    now = utcnow()
    ticket = Ticket(
        workspace_id=principal.workspace_id,
        site_id=site.id,
        visitor_id=principal.id,
        status="bot" if bot else "open",
        last_seq=0,
        last_public_seq=0,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    try:
        with session.begin_nested():
            session.add(ticket)
            session.flush()
    except IntegrityError:
        raced = active_ticket(principal.id)
        if raced is None:
            raise
        return raced, False
    add_participant_row(session, ticket, "visitor", principal.id, "visitor")
    if bot:
        add_participant_row(session, ticket, "bot", "bot", "bot")
    if site.first_visitor_at is None:
        site.first_visitor_at = now
    return ticket, True


def add_participant_row(
    session: Session, ticket: Ticket, subject_type: str, subject_id: str, role: str
) -> Participant:
    """Add someone to the ticket's group, or upgrade an observer's role."""
    row = session.scalar(
        select(Participant).where(
            Participant.ticket_id == ticket.id,
            Participant.subject_type == subject_type,
            Participant.subject_id == subject_id,
        )
    )
    if row is None:
        row = Participant(
            workspace_id=ticket.workspace_id,
            ticket_id=ticket.id,
            subject_type=subject_type,
            subject_id=subject_id,
            role=role,
            delivered_seq=0,
            read_seq=0,
        )
        session.add(row)
        session.flush()
    elif row.role == "observer" or (role == "assignee" and row.role == "collaborator"):
        row.role = role
    return row


def participant_agent_ids(ticket_id: str) -> list[str]:
    """Agents who are in the ticket's group (assignee and collaborators)."""
    return list(
        db.session.scalars(
            select(Participant.subject_id).where(
                Participant.ticket_id == ticket_id,
                Participant.subject_type == "agent",
                Participant.role.in_(("assignee", "collaborator")),
            )
        )
    )


def group_rooms(ticket: Ticket, *, agents_only: bool = False) -> list[str]:
    """Every room that makes up the ticket's group."""
    return ticket_group_rooms(ticket.id, ticket.visitor_id, agents_only=agents_only)


def ticket_group_rooms(ticket_id: str, visitor_id: str, *, agents_only: bool = False) -> list[str]:
    """Every room that makes up a ticket's group, by ids."""
    return rooms.ticket_rooms(
        ticket_id, visitor_id, participant_agent_ids(ticket_id), agents_only=agents_only
    )


def announce_ticket(session: Session, ticket: Ticket, event: str = names.TICKET_UPDATED) -> None:
    """Queue ``ticket:created``/``ticket:updated`` for the workspace's agents and the visitor."""
    announce(session, ticket.id, ticket.workspace_id, ticket.visitor_id, event)
    notify_ticket_updated(session, ticket, event)


def announce(
    session: Session,
    ticket_id: str,
    workspace_id: str,
    visitor_id: str,
    event: str = names.TICKET_UPDATED,
) -> None:
    """``announce_ticket`` by ids. The payloads are built after the commit, outside the
    ticket's row lock. Updates of one ticket are coalesced: at most one per second per
    process, the first at the next tick and the rest folded into one carrying the latest
    state; the updates due at one tick are built together."""
    if event != names.TICKET_UPDATED:
        team_room, visitor_room = rooms.workspace_room(workspace_id), rooms.visitor_room(visitor_id)
        payloads = _AudiencePayloads(ticket_id)
        emit_after_commit(session, event, lambda: payloads.get("team"), team_room)
        emit_after_commit(
            session, names.TICKET_UPDATED, lambda: payloads.get("visitor"), visitor_room
        )
        return
    batch_after_commit(session, _updates, ticket_id, ticket_id)


def announce_committed(ticket_id: str) -> None:
    """``announce`` for a change that is already committed (the batching message writer)."""
    _updates.submit(ticket_id, ticket_id)


def _send_updates(ticket_ids: list[str]) -> None:
    """``ticket:updated`` of each ticket to its workspace's agents and to its visitor."""
    from app.services.views import audience_views_many

    tickets = list(db.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))))
    views = audience_views_many(tickets, TEAM_VIEWER_ID)

    for ticket in tickets:
        team, visitor = views[ticket.id]
        emit_now(
            names.TICKET_UPDATED,
            {"ticket": TICKET_OUT.dump(team)},
            rooms.workspace_room(ticket.workspace_id),
        )
        emit_now(
            names.TICKET_UPDATED,
            {"ticket": TICKET_OUT.dump(visitor)},
            rooms.visitor_room(ticket.visitor_id),
        )


_updates = Batcher(_send_updates)


class _AudiencePayloads:
    """Both audiences' views of a ticket, built once, after the commit, on first use."""

    def __init__(self, ticket_id: str) -> None:
        self.ticket_id = ticket_id
        self._built: dict[str, dict[str, object]] | None = None

    def get(self, audience: str) -> dict[str, object]:
        if self._built is None:
            from app.services.views import audience_views

            ticket = db.session.get(Ticket, self.ticket_id)
            if ticket is None:
                self._built = {"team": {}, "visitor": {}}
            else:
                team, visitor = audience_views(ticket, TEAM_VIEWER_ID)
                self._built = {
                    "team": {"ticket": TICKET_OUT.dump(team)},
                    "visitor": {"ticket": TICKET_OUT.dump(visitor)},
                }
        return self._built[audience]
