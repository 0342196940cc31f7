"""Satisfaction ratings: a visitor's 1-5 score (and comment) of a resolved ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import ID, created_at_column, id_column

RATING_MIN = 1
RATING_MAX = 5


class Rating(db.Model):  # type: ignore[name-defined,misc]
    """One per ticket: rating again replaces the score and comment (``updated_at`` moves)."""

    __tablename__ = "ratings"
    __table_args__ = (
        # Reports read a workspace's ratings by time.
        Index("ix_ratings_workspace_created", "workspace_id", "created_at"),
        CheckConstraint(f"score BETWEEN {RATING_MIN} AND {RATING_MAX}", name="score_range"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    ticket_id: Mapped[str] = mapped_column(
        ID, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
