"""Tickets (one conversation each), their participants and their messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import ID, UTCDateTime, created_at_column, id_column
from app.models.encrypted import SealedText

TICKET_STATUSES = ("bot", "open", "pending", "resolved")
MESSAGE_KINDS = ("text", "note", "event")
SENDER_TYPES = ("visitor", "agent", "bot", "system")
PARTICIPANT_ROLES = ("visitor", "bot", "assignee", "collaborator", "observer")


class Ticket(db.Model):  # type: ignore[name-defined,misc]
    """A conversation between one visitor, the bot and any number of agents."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Keyset pages of a workspace's ticket list, newest activity first, per filter.
        Index("ix_tickets_ws_activity", "workspace_id", "last_activity_at", "id"),
        Index("ix_tickets_ws_status_activity", "workspace_id", "status", "last_activity_at", "id"),
        Index(
            "ix_tickets_ws_assignee_activity",
            "workspace_id",
            "assignee_id",
            "last_activity_at",
            "id",
        ),
        Index("ix_tickets_ws_site_activity", "workspace_id", "site_id", "last_activity_at", "id"),
        # A visitor has at most one ticket that is not resolved.
        Index(
            "uq_tickets_visitor_active",
            "visitor_id",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_tickets_visitor_activity", "visitor_id", "last_activity_at"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    site_id: Mapped[str] = mapped_column(
        ID, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
    )
    visitor_id: Mapped[str] = mapped_column(
        ID, ForeignKey("visitors.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    assignee_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("agents.id", ondelete="SET NULL")
    )
    #: The highest message seq; the next message takes last_seq + 1 under a row lock.
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: The highest seq a visitor may see (text and event messages, not notes).
    last_public_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_activity_at: Mapped[datetime] = created_at_column()
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class Participant(db.Model):  # type: ignore[name-defined,misc]
    """Someone in a ticket's group, with how far they have received and read it."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("ticket_id", "subject_type", "subject_id"),
        Index("ix_participants_subject", "workspace_id", "subject_type", "subject_id"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    ticket_id: Mapped[str] = mapped_column(
        ID, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
    )
    subject_type: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_id: Mapped[str] = mapped_column(ID, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    delivered_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    read_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = created_at_column()


class Message(db.Model):  # type: ignore[name-defined,misc]
    """One line of a ticket: text, a private note, or a system event."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("ticket_id", "seq"),
        UniqueConstraint("ticket_id", "sender_type", "sender_id", "client_id"),
        Index("ix_messages_workspace", "workspace_id", "created_at"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    ticket_id: Mapped[str] = mapped_column(
        ID, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False, default="text")
    sender_type: Mapped[str] = mapped_column(String(8), nullable=False)
    #: The agent or visitor id; "bot" or "system" for those senders.
    sender_id: Mapped[str] = mapped_column(ID, nullable=False)
    sender_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    #: Sealed at rest (app/lib/crypto.py); plaintext to readers.
    body: Mapped[str] = mapped_column(SealedText(), nullable=False)
    #: The blind index of the body's words for search: ``kid: <hash> <hash> ... ``.
    search_terms: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
