"""Erased visitors: the id of each visitor whose data was deleted, and nothing else."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import ID, created_at_column


class ErasedVisitor(db.Model):  # type: ignore[name-defined,misc]
    """A tombstone: visitor tokens are signed and stateless, so the id of an erased visitor
    is kept (with no personal data) to refuse its token and never re-create its row."""

    __tablename__ = "erased_visitors"
    __table_args__ = (Index("ix_erased_visitors_workspace", "workspace_id", "erased_at"),)

    #: The erased visitor's id (not generated: it is the id the visitor had).
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    erased_at: Mapped[datetime] = created_at_column()
