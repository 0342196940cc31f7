"""What the FAQ bot said in a ticket: one row per bot reply, with its buttons and feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import ID, created_at_column, id_column


class BotReply(db.Model):  # type: ignore[name-defined,misc]
    """A bot message's decision. Keyed by the message's ``(ticket_id, client_id)``, written in
    the same transaction as the message, so the message's ``meta`` is there when it is sent."""

    __tablename__ = "bot_replies"
    __table_args__ = (
        UniqueConstraint("ticket_id", "client_id"),
        Index("ix_bot_replies_workspace_ticket", "workspace_id", "ticket_id", "created_at"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    ticket_id: Mapped[str] = mapped_column(
        ID, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
    )
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    #: answer, suggest, unsure, handoff or offline.
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    #: The FAQ entry answered with (no foreign key: the entry may be deleted later).
    faq_id: Mapped[str | None] = mapped_column(ID)
    confidence: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    #: What clients render: ``{faq_id?, actions: [...], suggestions: [...]}``.
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = created_at_column()


class BotSettings(db.Model):  # type: ignore[name-defined,misc]
    """A site's own bot settings: thresholds (absent: the calibrated defaults of docs/BOT.md)
    and, for a bring-your-own bot, its webhook."""

    __tablename__ = "bot_settings"
    __table_args__ = (Index("ix_bot_settings_workspace_site", "workspace_id", "site_id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    site_id: Mapped[str] = mapped_column(
        ID, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    answer_threshold: Mapped[float] = mapped_column(Float, nullable=False)
    margin: Mapped[float] = mapped_column(Float, nullable=False)
    suggest_threshold: Mapped[float] = mapped_column(Float, nullable=False)
    #: The budget and result of the last calibration, if the thresholds came from one.
    calibration: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Bring-your-own bot: visitor messages go to this URL (signed with the secret) instead
    #: of the FAQ bot; the site's bot answers through the REST API with the secret.
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = created_at_column()
