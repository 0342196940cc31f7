"""Assemble what the API shows of tickets: visitor, assignee, participants, unread counts.

Everything is loaded in a fixed number of queries per page, whatever its size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from app.auth.principal import Principal
from app.extensions import db
from app.models import Agent, Message, Participant, Rating, Ticket, Visitor
from app.services import presence_store


@dataclass
class VisitorView:
    id: str
    site_id: str
    name: str | None = None
    email: str | None = None
    external_id: str | None = None
    attributes: dict[str, str] | None = None
    current_url: str | None = None
    last_seen_at: datetime | None = None
    status: str = "offline"


@dataclass
class AgentView:
    id: str
    name: str
    email: str
    role: str
    availability: str
    active: bool = True


@dataclass
class TicketView:
    ticket: Ticket
    visitor: VisitorView
    assignee: AgentView | None
    participants: list[dict[str, str | int]] = field(default_factory=list)
    last_seq: int = 0
    last_message: Message | None = None
    unread_count: int = 0
    rating: Rating | None = None


def visitor_view(
    visitor: Visitor | None, visitor_id: str, site_id: str, status: str = "offline"
) -> VisitorView:
    if visitor is None:
        return VisitorView(id=visitor_id, site_id=site_id, status=status)
    return VisitorView(
        id=visitor.id,
        site_id=visitor.site_id,
        name=visitor.name,
        email=visitor.email,
        external_id=visitor.external_id,
        attributes=visitor.attributes,
        current_url=visitor.current_url,
        last_seen_at=visitor.last_seen_at,
        status=status,
    )


@dataclass
class _Related:
    """What views of some tickets need, loaded once for every viewer."""

    visitors: dict[str, Visitor]
    participants: list[Participant]
    by_ticket: dict[str, list[Participant]]
    agents: dict[str, Agent]
    agent_list: dict[str, AgentView]
    visitor_status: dict[str, str]
    ratings: dict[str, Rating]


def ticket_views(viewer: Principal, tickets: Sequence[Ticket]) -> list[TicketView]:
    """Views of ``tickets`` as ``viewer`` sees them (visitors never see notes)."""
    if not tickets:
        return []
    return _assemble(viewer, tickets, _related(tickets))


def audience_views(ticket: Ticket, team_viewer_id: str) -> tuple[TicketView, TicketView]:
    """The ticket as its workspace's agents and as its visitor see it, for broadcasts.

    ``unread_count`` for the agents is counted from the team's furthest read position.
    """
    related = _related([ticket])
    team = Principal(kind="agent", workspace_id=ticket.workspace_id, id=team_viewer_id)
    visitor = Principal(
        kind="visitor",
        workspace_id=ticket.workspace_id,
        id=ticket.visitor_id,
        site_id=ticket.site_id,
    )
    messages = _messages_at_many(
        [(ticket.id, ticket.last_seq), (ticket.id, ticket.last_public_seq)]
    )
    return (
        _assemble(team, [ticket], related, messages)[0],
        _assemble(visitor, [ticket], related, messages)[0],
    )


def audience_views_many(
    tickets: Sequence[Ticket], team_viewer_id: str
) -> dict[str, tuple[TicketView, TicketView]]:
    """``audience_views`` of many tickets in a fixed number of queries: ``{id: (team, visitor)}``.

    The visitor's view of each ticket is the one its own visitor gets.
    """
    if not tickets:
        return {}
    related = _related(tickets)
    pairs = [(t.id, t.last_seq) for t in tickets] + [(t.id, t.last_public_seq) for t in tickets]
    messages = _messages_at_many(pairs)
    team = Principal(kind="agent", workspace_id="", id=team_viewer_id)
    team_views = _assemble(team, tickets, related, messages)
    visitor_views = _assemble(
        team, tickets, related, messages, unread=_own_visitor_unread(tickets, related)
    )
    for view in visitor_views:
        view.last_seq = view.ticket.last_public_seq
        view.last_message = messages.get((view.ticket.id, view.last_seq))
        view.assignee = _without_email(view.assignee)
    return {
        t.id: (team_view, visitor_view)
        for t, team_view, visitor_view in zip(tickets, team_views, visitor_views, strict=True)
    }


def _own_visitor_unread(tickets: Sequence[Ticket], related: _Related) -> dict[str, int]:
    """Per ticket, how many agent and bot lines its own visitor has not read (notes excluded)."""
    read = {t.id: 0 for t in tickets}
    owner = {t.id: t.visitor_id for t in tickets}
    for p in related.participants:
        if p.subject_type == "visitor" and p.subject_id == owner.get(p.ticket_id):
            read[p.ticket_id] = p.read_seq
    behind = [(t.id, read[t.id]) for t in tickets if t.last_public_seq > read[t.id]]
    if not behind:
        return {}
    query = (
        select(Message.ticket_id, func.count())
        .where(or_(*[and_(Message.ticket_id == tid, Message.seq > seq) for tid, seq in behind]))
        .where(Message.kind == "text", Message.sender_type != "visitor")
        .group_by(Message.ticket_id)
    )
    return {tid: int(n) for tid, n in db.session.execute(query).all()}


def _related(tickets: Sequence[Ticket]) -> _Related:
    ids = [t.id for t in tickets]

    visitors = {
        v.id: v
        for v in db.session.scalars(
            select(Visitor).where(Visitor.id.in_({t.visitor_id for t in tickets}))
        )
    }
    participants = list(
        db.session.scalars(
            select(Participant)
            .where(Participant.ticket_id.in_(ids))
            .order_by(Participant.created_at, Participant.id)
        )
    )
    agent_ids = {t.assignee_id for t in tickets if t.assignee_id}
    agent_ids |= {p.subject_id for p in participants if p.subject_type == "agent"}
    agents = (
        {a.id: a for a in db.session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))}
        if agent_ids
        else {}
    )
    by_ticket: dict[str, list[Participant]] = {}
    for p in participants:
        by_ticket.setdefault(p.ticket_id, []).append(p)
    return _Related(
        visitors=visitors,
        participants=participants,
        by_ticket=by_ticket,
        agents=agents,
        agent_list=agent_views(list(agents.values())),
        visitor_status=presence_store.statuses("visitor", {t.visitor_id for t in tickets}),
        ratings={
            r.ticket_id: r
            for r in db.session.scalars(select(Rating).where(Rating.ticket_id.in_(ids)))
        },
    )


def _assemble(
    viewer: Principal,
    tickets: Sequence[Ticket],
    related: _Related,
    messages: dict[tuple[str, int], Message] | None = None,
    unread: dict[str, int] | None = None,
) -> list[TicketView]:
    last_seqs = {t.id: _visible_last_seq(viewer, t) for t in tickets}
    if messages is None:
        messages = _messages_at_many(list(last_seqs.items()))
    if unread is None:
        unread = _unread_counts(viewer, tickets, related.participants, last_seqs)

    visitors, agents, by_ticket = related.visitors, related.agents, related.by_ticket
    visitor_status, agent_list = related.visitor_status, related.agent_list
    views = []

    for t in tickets:
        views.append(
            TicketView(
                ticket=t,
                visitor=visitor_view(
                    visitors.get(t.visitor_id),
                    t.visitor_id,
                    t.site_id,
                    visitor_status.get(t.visitor_id, "offline"),
                ),
                assignee=_shown_assignee(viewer, agent_list.get(t.assignee_id or "")),
                participants=_participant_list(by_ticket.get(t.id, []), visitors, agents),
                last_seq=last_seqs[t.id],
                last_message=messages.get((t.id, last_seqs[t.id])),
                unread_count=unread.get(t.id, 0),
                rating=related.ratings.get(t.id),
            )
        )
    return views


def _shown_assignee(viewer: Principal, agent: AgentView | None) -> AgentView | None:
    """The assignee as the viewer may see it: a visitor never gets an agent's e-mail."""
    return _without_email(agent) if viewer.is_visitor else agent


def _without_email(agent: AgentView | None) -> AgentView | None:
    return None if agent is None else dataclasses.replace(agent, email="")


def ticket_view(viewer: Principal, ticket: Ticket) -> TicketView:

    return ticket_views(viewer, [ticket])[0]


def agent_views(agents: Sequence[Agent]) -> dict[str, AgentView]:
    """Agents with their live availability: offline unless connected, else what they chose."""
    live = presence_store.statuses("agent", [a.id for a in agents])
    return {
        a.id: AgentView(
            id=a.id,
            name=a.name,
            email=a.email,
            role=a.role,
            availability=_availability(a, live.get(a.id)),
            active=a.is_active,
        )
        for a in agents
    }


def agent_view(agent: Agent) -> AgentView:
    return agent_views([agent])[agent.id]


def _availability(agent: Agent, live_status: str | None) -> str:
    if live_status in (None, "offline"):
        return "offline"
    return "away" if agent.availability == "away" or live_status == "away" else "online"


def _visible_last_seq(viewer: Principal, ticket: Ticket) -> int:
    return ticket.last_public_seq if viewer.is_visitor else ticket.last_seq


def _messages_at_many(pairs: list[tuple[str, int]]) -> dict[tuple[str, int], Message]:
    """Messages by ``(ticket_id, seq)``, in one query."""
    wanted = {(tid, seq) for tid, seq in pairs if seq > 0}
    if not wanted:
        return {}
    rows = db.session.scalars(
        select(Message).where(
            or_(*[and_(Message.ticket_id == tid, Message.seq == seq) for tid, seq in wanted])
        )
    )
    return {(m.ticket_id, m.seq): m for m in rows}


def _read_positions(
    viewer: Principal, tickets: Sequence[Ticket], participants: list[Participant]
) -> dict[str, int]:
    """The viewer's read seq per ticket; for agents not in the ticket, the team's furthest."""
    own = {
        p.ticket_id: p.read_seq
        for p in participants
        if p.subject_type == viewer.kind and p.subject_id == viewer.id
    }
    if viewer.is_visitor:
        return {t.id: own.get(t.id, 0) for t in tickets}
    team: dict[str, int] = {}
    for p in participants:
        if p.subject_type == "agent":
            team[p.ticket_id] = max(team.get(p.ticket_id, 0), p.read_seq)
    return {t.id: own.get(t.id, team.get(t.id, 0)) for t in tickets}


def _unread_counts(
    viewer: Principal,
    tickets: Sequence[Ticket],
    participants: list[Participant],
    last_seqs: dict[str, int],
) -> dict[str, int]:
    read = _read_positions(viewer, tickets, participants)
    behind = [(tid, read[tid]) for tid, last in last_seqs.items() if last > read[tid]]
    if not behind:
        return {}
    kinds = ("text",) if viewer.is_visitor else ("text", "note")
    query = (
        select(Message.ticket_id, func.count())
        .where(or_(*[and_(Message.ticket_id == tid, Message.seq > seq) for tid, seq in behind]))
        .where(Message.kind.in_(kinds))
        .where(or_(Message.sender_type != viewer.kind, Message.sender_id != viewer.id))
        .group_by(Message.ticket_id)
    )
    return {tid: int(n) for tid, n in db.session.execute(query).all()}


def _participant_list(
    rows: list[Participant], visitors: dict[str, Visitor], agents: dict[str, Agent]
) -> list[dict[str, str | int]]:
    result: list[dict[str, str | int]] = []
    for p in rows:
        if p.role == "observer":
            continue
        if p.subject_type == "agent":
            agent = agents.get(p.subject_id)
            name = agent.name if agent else ""
        elif p.subject_type == "visitor":
            visitor = visitors.get(p.subject_id)
            name = (visitor.name if visitor else None) or "Visitor"
        else:
            name = "Bot"
        result.append(
            {
                "type": p.subject_type,
                "id": p.subject_id,
                "name": name,
                "role": p.role,
                "read_seq": p.read_seq,
                "delivered_seq": max(p.delivered_seq, p.read_seq),
            }
        )
    return result
