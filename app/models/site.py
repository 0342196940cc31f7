"""Sites (a website with the widget), their visitors and the FAQ the bot answers from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import ID, UTCDateTime, created_at_column, id_column


class Site(db.Model):  # type: ignore[name-defined,misc]
    """A website that embeds the widget. ``site_key`` is public, ``site_secret`` is not."""

    __tablename__ = "sites"

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    site_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    site_secret: Mapped[str] = mapped_column(String(128), nullable=False)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    #: Set when the first visitor of this site connected ("widget installed").
    first_visitor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class Visitor(db.Model):  # type: ignore[name-defined,misc]
    """Someone on a site. Stored at the first message; ids come from the visitor token."""

    __tablename__ = "visitors"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id"),
        Index("ix_visitors_workspace_email", "workspace_id", "email"),
        Index("ix_visitors_workspace_seen", "workspace_id", "last_seen_at"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    site_id: Mapped[str] = mapped_column(
        ID, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    external_id: Mapped[str | None] = mapped_column(String(200))
    #: True when the identity came with a valid HMAC ``user_hash``.
    verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    current_url: Mapped[str | None] = mapped_column(String(2048))
    page_title: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str | None] = mapped_column(String(2048))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    #: Answers to the site's custom pre-chat fields, by field name (name and e-mail have
    #: their own columns).
    attributes: Mapped[dict[str, str] | None] = mapped_column(JSON)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()


class FaqEntry(db.Model):  # type: ignore[name-defined,misc]
    """One knowledge-base entry of a site."""

    __tablename__ = "faq_entries"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id"),
        Index("ix_faq_entries_workspace_site", "workspace_id", "site_id"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    site_id: Mapped[str] = mapped_column(
        ID, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
    )
    external_id: Mapped[str | None] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text, nullable=False)
    answer: Mapped[str] = mapped_column(Text, nullable=False)
    alternatives: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
