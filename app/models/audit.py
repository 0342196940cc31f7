"""The audit log: who did what to which object in a workspace (never secrets or bodies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import ID, created_at_column, id_column


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """One recorded action. Ids are time-ordered, so ``(workspace_id, id)`` pages newest first.

    ``actor_id`` has no foreign key: the log outlives the agent who acted.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_workspace_id_id", "workspace_id", "id"),
        Index("ix_audit_log_workspace_action", "workspace_id", "action", "id"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    #: The agent who acted; null for the system or a visitor.
    actor_id: Mapped[str | None] = mapped_column(ID)
    #: ``<object>.<verb>``, e.g. ``ticket.assigned`` (see app/services/audit.py).
    action: Mapped[str] = mapped_column(String(48), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    #: What changed, small and without secrets or message bodies.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = created_at_column()
