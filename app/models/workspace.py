"""Workspaces (tenants), their agents and the agents' API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import ID, UTCDateTime, created_at_column, id_column

ROLES = ("owner", "admin", "agent")
AVAILABILITIES = ("online", "away")


class Workspace(db.Model):  # type: ignore[name-defined,misc]
    """A tenant: every customer row carries its ``workspace_id``."""

    __tablename__ = "workspaces"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = created_at_column()


class Agent(db.Model):  # type: ignore[name-defined,misc]
    """A person who works tickets. E-mail addresses are unique across workspaces."""

    __tablename__ = "agents"

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="agent")
    #: What the agent chose; "offline" is derived from presence, never stored.
    availability: Mapped[str] = mapped_column(String(16), nullable=False, default="online")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: When routing last gave this agent a ticket (round-robin picks the longest-waiting).
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    """A bearer token or console session of an agent; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_agent", "workspace_id", "agent_id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    agent_id: Mapped[str] = mapped_column(
        ID, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    #: "bearer" for API clients, "session" for the console's cookie session.
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="bearer")
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
