"""Workspaces, agents, sign-up, log-in and tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.passwords import hash_password, verify_password
from app.auth.permissions import may_assign_role, require_agent, require_manager
from app.auth.principal import Principal
from app.auth.tokens import (
    AGENT_TOKEN_TTL,
    CONSOLE_SESSION_TTL,
    hash_token,
    new_agent_token,
)
from app.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.extensions import db
from app.lib.timeutil import utcnow
from app.models import Agent, ApiToken, Workspace
from app.services import audit, connections, presence_store
from app.services.transaction import write_transaction


@dataclass(frozen=True)
class Session:
    """A logged-in agent and the raw token (shown once, never stored)."""

    agent: Agent
    token: str
    token_id: str
    #: The console cookie session's token row, when one was asked for.
    console_token_id: str | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def agent_principal(agent: Agent, token_id: str | None = None) -> Principal:
    return Principal(
        kind="agent",
        workspace_id=agent.workspace_id,
        id=agent.id,
        name=agent.name,
        role=agent.role,
        token_id=token_id,
    )


def signup(workspace_name: str, name: str, email: str, password: str) -> Session:
    """Create a workspace with its owner and log the owner in."""
    with write_transaction() as session:
        workspace = Workspace(name=workspace_name, settings={})
        session.add(workspace)
        session.flush()
        agent = _add_agent(workspace.id, name, email, password, "owner")
        token, raw = _add_token(agent, "bearer")
    return Session(agent=agent, token=raw, token_id=token.id)


def create_owner(email: str, password: str, workspace_name: str, name: str = "Owner") -> Agent:
    """Create a workspace and its owner (the CLI's ``create-owner``)."""
    with write_transaction() as session:
        workspace = Workspace(name=workspace_name, settings={})
        session.add(workspace)
        session.flush()
        agent = _add_agent(workspace.id, name, email, password, "owner")
    return agent


def login(email: str, password: str, *, console_session: bool = False) -> Session:
    """Check the credentials; issue a bearer token and, if asked, a console session."""
    agent = db.session.scalar(select(Agent).where(Agent.email == normalize_email(email)))
    if not verify_password(agent.password_hash if agent else None, password) or agent is None:
        raise Unauthorized("Wrong e-mail or password.")
    if not agent.is_active:
        raise Unauthorized("Wrong e-mail or password.")
    with write_transaction() as session:
        token, raw = _add_token(agent, "bearer")
        console = _add_token(agent, "session")[0] if console_session else None
        audit.record(session, agent_principal(agent), "agent.login", "agent", agent.id)
    return Session(
        agent=agent, token=raw, token_id=token.id, console_token_id=console.id if console else None
    )


def console_session_for_email(email: str) -> Session:
    """Single sign-on: a console session for the active agent with this (verified) e-mail.

    There is no sign-up this way: an unknown or deactivated address is refused.
    """
    agent = db.session.scalar(select(Agent).where(Agent.email == normalize_email(email)))
    if agent is None or not agent.is_active:
        raise Forbidden("No active Parley agent has this e-mail address.")
    with write_transaction() as session:
        token, raw = _add_token(agent, "session")
        details = {"method": "sso"}
        audit.record(session, agent_principal(agent), "agent.login", "agent", agent.id, details)
    return Session(agent=agent, token=raw, token_id=token.id, console_token_id=token.id)


def logout(principal: Principal) -> None:
    """Revoke the token or console session the principal authenticated with."""
    if principal.token_id is None:
        return
    token_id = principal.token_id
    with write_transaction() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    connections.close_connections_of_token(token_id)


def valid_token_ids(token_ids: set[str]) -> set[str]:
    """Those of ``token_ids`` that are unrevoked, unexpired and of an active agent."""
    if not token_ids:
        return set()
    rows = db.session.scalars(
        select(ApiToken.id)
        .join(Agent, Agent.id == ApiToken.agent_id)
        .where(
            ApiToken.id.in_(token_ids),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > utcnow(),
            Agent.is_active.is_(True),
        )
    )
    return set(rows)


def authenticate_token(
    raw: str | None = None, *, token_id: str | None = None, kind: str | None = None
) -> Principal | None:
    """The agent behind a raw bearer token (or a session token id), if valid and unexpired."""
    query = select(ApiToken, Agent).join(Agent, Agent.id == ApiToken.agent_id)
    if raw is not None:
        query = query.where(ApiToken.token_hash == hash_token(raw))
    elif token_id is not None:
        query = query.where(ApiToken.id == token_id)
    else:
        return None
    if kind is not None:
        query = query.where(ApiToken.kind == kind)
    row = db.session.execute(query).first()
    if row is None:
        return None
    token, agent = row
    if token.revoked_at is not None or token.expires_at <= utcnow() or not agent.is_active:
        return None
    return agent_principal(agent, token.id)


def get_agent(principal: Principal, agent_id: str | None = None) -> Agent:
    """An agent of the principal's workspace (the principal itself by default)."""
    require_agent(principal)
    agent = db.session.get(Agent, agent_id or principal.id)
    if agent is None or agent.workspace_id != principal.workspace_id:
        raise NotFound("Agent not found.")
    return agent


def list_agents(principal: Principal) -> list[Agent]:
    """Every agent of the principal's workspace, by name."""
    require_agent(principal)
    return list(
        db.session.scalars(
            select(Agent)
            .where(Agent.workspace_id == principal.workspace_id)
            .order_by(func.lower(Agent.name), Agent.id)
        )
    )


def create_agent(principal: Principal, name: str, email: str, password: str, role: str) -> Agent:
    """Add an agent to the principal's workspace (owners and admins)."""
    require_manager(principal)
    if not may_assign_role(principal, role):
        raise Forbidden(f"An {principal.role} may not create an {role}.")
    with write_transaction() as session:
        agent = _add_agent(principal.workspace_id, name, email, password, role)
        audit.record(session, principal, "agent.invited", "agent", agent.id, {"role": role})
    return agent


def set_availability(principal: Principal, availability: str) -> Agent:
    """An agent marks itself online or away."""
    require_agent(principal)
    with write_transaction():
        agent = get_agent(principal)
        agent.availability = availability
    presence_store.choose_availability(agent.id, agent.workspace_id, availability)
    return agent


def _add_agent(workspace_id: str, name: str, email: str, password: str, role: str) -> Agent:
    agent = Agent(
        workspace_id=workspace_id,
        name=name,
        email=normalize_email(email),
        password_hash=hash_password(password),
        role=role,
        availability="online",
        is_active=True,
    )
    db.session.add(agent)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "An account with this e-mail already exists.", fields={"email": ["Already registered."]}
        ) from exc
    return agent


def _add_token(agent: Agent, kind: str) -> tuple[ApiToken, str]:
    raw = new_agent_token()
    ttl = CONSOLE_SESSION_TTL if kind == "session" else AGENT_TOKEN_TTL
    token = ApiToken(
        workspace_id=agent.workspace_id,
        agent_id=agent.id,
        token_hash=hash_token(raw),
        kind=kind,
        expires_at=utcnow() + ttl,
    )
    db.session.add(token)
    db.session.flush()
    return token, raw
