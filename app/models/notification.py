"""Notification state: the collapse window per ticket and recipient, and the delivery log.

A delivery is the outbox row of one push, webhook call or e-mail: created in a transaction,
sent by a job that first claims it, marked delivered once. Its ``idempotency_key`` is unique,
so nothing is queued (or delivered) twice. Bodies are never stored here: payloads are built
from ids when a delivery is sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import ID, UTCDateTime, created_at_column, id_column

DELIVERY_CHANNELS = ("push", "webhook", "email")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed", "gone")


class NotificationWindow(db.Model):  # type: ignore[name-defined,misc]
    """When a recipient was last pushed about a ticket, and what waits for the window's end."""

    __tablename__ = "notification_windows"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id",
            "ticket_id",
            "recipient_type",
            "recipient_id",
            name="uq_notification_windows_recipient",
        ),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    ticket_id: Mapped[str] = mapped_column(
        ID, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
    )
    recipient_type: Mapped[str] = mapped_column(String(16), nullable=False)
    recipient_id: Mapped[str] = mapped_column(ID, nullable=False)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Messages folded into the trailing push (0: nothing waits).
    pending_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pending_kind: Mapped[str | None] = mapped_column(String(16))
    pending_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_message_id: Mapped[str | None] = mapped_column(ID)


class Delivery(db.Model):  # type: ignore[name-defined,misc]
    """One push, webhook call or e-mail: its state, attempts and last answer."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_ws_webhook_created", "workspace_id", "webhook_id", "created_at"),
        Index("ix_deliveries_ws_status_due", "workspace_id", "status", "next_attempt_at"),
        Index("ix_deliveries_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    #: ``message.created``, ``ticket.created``, ``ticket.updated`` (webhooks);
    #: ``message``, ``ticket.created`` or ``ticket.handoff`` (push);
    #: ``agent_replied`` or ``transcript`` (e-mail).
    event: Mapped[str] = mapped_column(String(40), nullable=False)
    #: The message or ticket the delivery is about.
    object_id: Mapped[str] = mapped_column(ID, nullable=False)
    ticket_id: Mapped[str | None] = mapped_column(ID)
    #: How many messages a collapsed push stands for.
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    webhook_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("webhooks.id", ondelete="CASCADE")
    )
    subscription_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("push_subscriptions.id", ondelete="CASCADE")
    )
    #: E-mail recipient address.
    address: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    next_attempt_at: Mapped[datetime] = created_at_column()
    #: While ``sending``: until when the claim holds (a killed worker's claim runs out).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    occurred_at: Mapped[datetime] = created_at_column()
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
