"""Automatic assignment: round-robin over online agents with a per-agent capacity.

One idempotent pass per workspace does all the work: it gives the oldest unassigned open
tickets to the online agents with free capacity, each time to the one that has waited
longest since its last routed ticket, then tells every visitor still waiting its place in
the queue (after the commit). A pass runs inside the transaction that may need one (a new
ticket, a handoff, a status or assignee change, a routing setting) or, when an agent comes
online, in a transaction of its own. Passes of one workspace are serialised by a lock on the
workspace's row (on SQLite by its single writer); waiting tickets are taken with SKIP LOCKED.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import system_principal
from app.events import names, rooms
from app.events.publish import Batcher, emit_after_commit
from app.extensions import db
from app.lib.timeutil import utcnow
from app.limits import MAX_QUEUE_NOTICES
from app.models import Agent, Ticket, Workspace
from app.schemas.events import QueueOut
from app.services import presence_store
from app.services.transaction import write_transaction
from app.services.workspace import routing_of

log = logging.getLogger(__name__)

#: Who the system line of an automatic assignment names ("Routing assigned Alex").
ROUTING_ACTOR = "Routing"
#: Recent first responses the expected wait is estimated from.
WAIT_SAMPLE = 50
WAIT_WINDOW = timedelta(days=30)
_ASSIGNED_STATUSES = ("open", "pending")
QUEUE_OUT = QueueOut()


@dataclass(frozen=True)
class Assignment:
    ticket_id: str
    agent_id: str


def route_now(session: Session, workspace_id: str) -> list[Assignment]:
    """A routing pass inside the caller's write transaction (queue notices go after commit)."""
    return _route(session, workspace_id)


def ticket_opened(session: Session, ticket: Ticket, created: bool) -> None:
    """After a visitor's first message stored a new ticket: route it unless the bot has it."""
    if created and ticket.status != "bot":
        _route(session, ticket.workspace_id)


def agent_presence_changed(workspace_id: str, subject_type: str, status: str) -> None:
    """Presence announced a change: an agent that came online may take waiting tickets.

    The pass runs in the background, at most one per workspace per second and process: a
    connect or a heartbeat never waits for it, and fifty agents connecting at once make one
    pass, not fifty passes queueing on the workspace's lock with a connection each."""
    if subject_type != "agent" or status != "online":
        return
    _presence_passes.submit(workspace_id, workspace_id)


def _route_workspaces(workspace_ids: list[str]) -> None:
    for workspace_id in workspace_ids:
        try:
            route_workspace(workspace_id)
        except Exception:  # routing must never break a connect or a heartbeat
            log.exception("routing pass failed")


_presence_passes = Batcher(_route_workspaces)


def route_workspace(workspace_id: str) -> list[Assignment]:
    """A routing pass in a transaction of its own."""
    if not queue_tickets(workspace_id, 1):  # the common case, in one indexed query
        return []
    with write_transaction() as session:
        return _route(session, workspace_id)


def _route(session: Session, workspace_id: str) -> list[Assignment]:
    """Assign what auto mode can, then queue the waiting visitors' places for after commit."""
    if not queue_tickets(workspace_id, 1):
        return []
    # One pass at a time per workspace (SQLite's write lock already serialises). NO KEY
    # UPDATE: the transaction has usually inserted a ticket, which holds KEY SHARE on this
    # row (the foreign key) as every concurrent one does; a plain FOR UPDATE would deadlock.
    workspace = session.scalar(
        select(Workspace).where(Workspace.id == workspace_id).with_for_update(key_share=True)
    )

    if workspace is None:
        return []
    settings = routing_of(workspace)
    assigned: list[Assignment] = []
    online = _online_agent_ids(workspace_id)
    if settings.mode == "auto" and online:
        assigned = _assign_waiting(session, workspace_id, online, settings.capacity)
    _notify_queue(session, workspace_id, len(online))
    return assigned


def queue_tickets(workspace_id: str, limit: int | None = None) -> list[Ticket]:
    """The workspace's unassigned open tickets, oldest first: the queue (its first
    ``MAX_QUEUE_NOTICES`` unless ``limit`` says otherwise)."""
    return list(
        db.session.scalars(
            select(Ticket)
            .where(
                Ticket.workspace_id == workspace_id,
                Ticket.status == "open",
                Ticket.assignee_id.is_(None),
            )
            .order_by(Ticket.created_at, Ticket.id)
            .limit(MAX_QUEUE_NOTICES if limit is None else limit)
        )
    )


def _online_agent_ids(workspace_id: str) -> list[str]:
    rows = db.session.scalars(
        select(Agent.id).where(
            Agent.workspace_id == workspace_id,
            Agent.is_active.is_(True),
            Agent.availability == "online",
        )
    ).all()
    live = presence_store.statuses("agent", rows)
    return [a for a in rows if live.get(a) == "online"]


def _assign_waiting(
    session: Session, workspace_id: str, online: list[str], capacity: int
) -> list[Assignment]:
    from app.services.tickets import assign_in

    done: list[Assignment] = []
    agents = list(
        session.scalars(
            select(Agent)
            .where(Agent.id.in_(online), Agent.is_active.is_(True))
            .order_by(Agent.last_assigned_at.asc().nulls_first(), Agent.id)
        )
    )
    load = dict(
        session.execute(
            select(Ticket.assignee_id, func.count())
            .where(
                Ticket.workspace_id == workspace_id,
                Ticket.status.in_(_ASSIGNED_STATUSES),
                Ticket.assignee_id.in_(online),
            )
            .group_by(Ticket.assignee_id)
        ).all()
    )
    free = {a.id: capacity - int(load.get(a.id, 0)) for a in agents}
    room = sum(max(n, 0) for n in free.values())
    if room <= 0:
        return []
    waiting = list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.workspace_id == workspace_id,
                Ticket.status == "open",
                Ticket.assignee_id.is_(None),
            )
            .order_by(Ticket.created_at, Ticket.id)
            .limit(room)
            .with_for_update(skip_locked=True)
        )
    )
    actor = system_principal(workspace_id, ROUTING_ACTOR)
    for ticket in waiting:
        candidates = [a for a in agents if free[a.id] > 0]
        if not candidates:
            break
        agent = candidates[0]  # the one that waited longest since its last ticket
        assign_in(session, actor, ticket, agent.id)
        free[agent.id] -= 1
        agent.last_assigned_at = utcnow()
        agents.remove(agent)
        agents.append(agent)
        done.append(Assignment(ticket.id, agent.id))
    return done


def _notify_queue(session: Session, workspace_id: str, online_agents: int) -> None:
    waiting = queue_tickets(workspace_id)
    if not waiting:
        return
    sample = _recent_first_responses(workspace_id)
    typical = median(sample) if sample else None
    for position, ticket in enumerate(waiting, start=1):
        wait = None if typical is None else round(typical * position / max(online_agents, 1))
        payload = {"ticket_id": ticket.id, "position": position, "expected_wait_s": wait}
        emit_after_commit(
            session, names.QUEUE, QUEUE_OUT.dump(payload), rooms.visitor_room(ticket.visitor_id)
        )


def _recent_first_responses(workspace_id: str) -> list[float]:
    rows = db.session.execute(
        select(Ticket.created_at, Ticket.first_response_at)
        .where(
            Ticket.workspace_id == workspace_id,
            Ticket.first_response_at.is_not(None),
            Ticket.created_at >= utcnow() - WAIT_WINDOW,
        )
        .order_by(Ticket.created_at.desc())
        .limit(WAIT_SAMPLE)
    ).all()
    return [
        max((answered - created).total_seconds(), 0.0) for created, answered in rows if answered
    ]
