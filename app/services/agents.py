"""Managing a workspace's agents: rename, change role, deactivate and reactivate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.permissions import check_change_agent
from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import utcnow
from app.models import Agent, ApiToken, Ticket
from app.services import audit, connections
from app.services.transaction import write_transaction


def update_agent(principal: Principal, agent_id: str, changes: dict[str, Any]) -> Agent:
    """Apply ``changes`` (``name``, ``role``, ``active``) to an agent of the workspace.

    The workspace always keeps one active owner; nobody deactivates itself. Deactivation
    revokes every token and console session of the agent, closes its sockets and puts its
    open and pending tickets back in the queue.
    """
    with write_transaction() as session:
        agent = session.get(Agent, agent_id) if looks_like_id(agent_id) else None
        if agent is None or agent.workspace_id != principal.workspace_id:
            raise NotFound("Agent not found.")
        check_change_agent(principal, agent.role, changes)
        deactivating = changes.get("active") is False and agent.is_active
        if deactivating and agent.id == principal.id:
            raise Forbidden("You cannot deactivate yourself.")
        demoting = changes.get("role") not in (None, "owner") and agent.role == "owner"
        if (deactivating or demoting) and agent.is_active:
            _keep_an_owner(principal.workspace_id, agent.id)
        _audit(session, principal, agent, changes)
        if "name" in changes:
            agent.name = changes["name"]
        if "role" in changes:
            agent.role = changes["role"]
        if "active" in changes:
            agent.is_active = bool(changes["active"])
        revoked = _revoke_tokens(agent) if deactivating else []
        if deactivating:
            _hand_back_tickets(session, principal, agent)
    for token_id in revoked:
        connections.close_connections_of_token(token_id)
    return agent


def _audit(session: Session, principal: Principal, agent: Agent, changes: dict[str, Any]) -> None:
    """One entry per kind of change that actually changes something."""
    if "role" in changes and changes["role"] != agent.role:
        details = {"from": agent.role, "to": changes["role"]}
        audit.record(session, principal, "agent.role_changed", "agent", agent.id, details)
    if "active" in changes and bool(changes["active"]) != agent.is_active:
        action = "agent.reactivated" if changes["active"] else "agent.deactivated"
        audit.record(session, principal, action, "agent", agent.id)
    if "name" in changes and changes["name"] != agent.name:
        audit.record(session, principal, "agent.updated", "agent", agent.id, {"changed": ["name"]})


def _hand_back_tickets(session: Session, principal: Principal, agent: Agent) -> None:
    """A deactivated agent's open and pending tickets go back to the queue (and routing)."""
    from app.services import routing, tickets

    held = session.scalars(
        select(Ticket)
        .where(
            Ticket.workspace_id == agent.workspace_id,
            Ticket.assignee_id == agent.id,
            Ticket.status.in_(("open", "pending")),
        )
        .order_by(Ticket.created_at)
        .with_for_update()
    ).all()
    for ticket in held:
        tickets.assign_in(session, principal, ticket, None)
    if held:
        routing.route_now(session, agent.workspace_id)


def _keep_an_owner(workspace_id: str, leaving_id: str) -> None:
    """Refuse when ``leaving_id`` is the workspace's last active owner (rows locked)."""
    owners = list(
        db.session.scalars(
            select(Agent.id)
            .where(
                Agent.workspace_id == workspace_id,
                Agent.role == "owner",
                Agent.is_active.is_(True),
            )
            .with_for_update()
        )
    )
    if [o for o in owners if o != leaving_id] == []:
        raise Conflict("The workspace needs at least one active owner.")


def _revoke_tokens(agent: Agent) -> list[str]:
    """Revoke the agent's live tokens; returns their ids (their sockets close after commit)."""
    now = utcnow()
    ids = list(
        db.session.scalars(
            select(ApiToken.id).where(
                ApiToken.workspace_id == agent.workspace_id,
                ApiToken.agent_id == agent.id,
                ApiToken.revoked_at.is_(None),
            )
        )
    )
    if ids:
        db.session.execute(update(ApiToken).where(ApiToken.id.in_(ids)).values(revoked_at=now))
    return ids
