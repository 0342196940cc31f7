"""One push per ticket and recipient per window (``NOTIFY_COLLAPSE_S``, 30 s by default).

The first notification goes out at once; later ones within the window are counted into one
trailing push sent when the window ends, carrying the count and the latest message. The
window is a row per ticket and recipient, locked while it is decided on, so concurrent jobs
never send two pushes in one window.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.extensions import db
from app.lib.ids import new_id
from app.lib.timeutil import isoformat_ms, utcnow
from app.models import NotificationWindow, PushSubscription, Ticket, Visitor
from app.notifications.outbox import NewDelivery, queue_deliveries
from app.notifications.recipients import Recipient, is_offline
from app.services.transaction import write_transaction

#: A window's ``recipient_type`` for the visitor's e-mail ("agent replied" mails).
EMAIL = "email"


def collapse_seconds(recipient_type: str) -> float:
    """The window: ``NOTIFY_COLLAPSE_S`` for pushes, ``EMAIL_COLLAPSE_S`` for e-mail."""
    key = "EMAIL_COLLAPSE_S" if recipient_type == EMAIL else "NOTIFY_COLLAPSE_S"
    return float(current_app.config.get(key, 300 if recipient_type == EMAIL else 30))


def notify(
    ticket: Ticket, recipient: Recipient, event: str, message_id: str | None
) -> tuple[str, float] | None:
    """Notify ``recipient`` of ``event`` now, or count it into the window's trailing one.

    Returns ``(window id, delay)`` when a trailing notification was started:
    ``flush_window`` must run after the delay."""
    window_s = collapse_seconds(recipient.type)
    with write_transaction() as session:
        window = _locked_window(session, ticket, recipient)
        if message_id is not None and window.last_message_id == message_id:
            return None  # this job ran before
        now = utcnow()
        if message_id is not None:
            window.last_message_id = message_id
        if window.pending_count > 0:
            window.pending_count += 1
            return None
        if window.last_sent_at is not None and now - window.last_sent_at < timedelta(
            seconds=window_s
        ):
            window.pending_count = 1
            window.pending_kind = "message" if message_id else event
            window.pending_due_at = window.last_sent_at + timedelta(seconds=window_s)
            return window.id, max((window.pending_due_at - now).total_seconds(), 0.0)
        window.last_sent_at = now
        marker = message_id or isoformat_ms(now)
        queue_deliveries(
            session,
            ticket.workspace_id,
            _deliveries(
                session,
                window,
                key=f"{event}:{ticket.id}:{marker}",
                event=event,
                object_id=message_id or ticket.id,
                count=1,
            ),
        )
    return None


def flush(window_id: str) -> float | None:
    """Send a window's trailing notification (with its count). Returns a delay if it is not
    due yet."""
    window = db.session.get(NotificationWindow, window_id)
    if window is None or window.pending_count == 0:
        return None
    offline = is_offline(Recipient(window.recipient_type, window.recipient_id))
    db.session.rollback()
    with write_transaction() as session:
        window = _lock(session, window_id)
        if window is None or window.pending_count == 0 or window.pending_due_at is None:
            return None
        now = utcnow()
        if window.pending_due_at > now:
            return (window.pending_due_at - now).total_seconds()
        if offline:
            kind = "message" if window.last_message_id else (window.pending_kind or "message")
            queue_deliveries(
                session,
                window.workspace_id,
                _deliveries(
                    session,
                    window,
                    key=f"window:{window.id}:{isoformat_ms(window.pending_due_at)}",
                    event=kind,
                    object_id=window.last_message_id or window.ticket_id,
                    count=window.pending_count,
                ),
            )
            window.last_sent_at = now
        window.pending_count = 0
        window.pending_due_at = None
        window.pending_kind = None
    return None


def _deliveries(
    session: Session,
    window: NotificationWindow,
    *,
    key: str,
    event: str,
    object_id: str,
    count: int,
) -> list[NewDelivery]:
    """One delivery per push subscription of the recipient, or one e-mail."""
    if window.recipient_type == EMAIL:
        address = session.scalar(
            select(Visitor.email).where(
                Visitor.workspace_id == window.workspace_id, Visitor.id == window.recipient_id
            )
        )
        if not address:
            return []
        return [
            NewDelivery(
                channel="email",
                key=f"email:{key}",
                event="agent_replied",
                object_id=object_id,
                ticket_id=window.ticket_id,
                count=count,
                address=address,
            )
        ]
    subs = session.scalars(
        select(PushSubscription.id).where(
            PushSubscription.workspace_id == window.workspace_id,
            PushSubscription.subject_type == window.recipient_type,
            PushSubscription.subject_id == window.recipient_id,
        )
    ).all()
    return [
        NewDelivery(
            channel="push",
            key=f"push:{key}:{sub_id}",
            event=event,
            object_id=object_id,
            ticket_id=window.ticket_id,
            count=count,
            subscription_id=sub_id,
        )
        for sub_id in subs
    ]


def _locked_window(session: Session, ticket: Ticket, recipient: Recipient) -> NotificationWindow:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(NotificationWindow)  # type: ignore[operator]
        .values(
            id=new_id(),
            workspace_id=ticket.workspace_id,
            ticket_id=ticket.id,
            recipient_type=recipient.type,
            recipient_id=recipient.id,
            pending_count=0,
        )
        .on_conflict_do_nothing()
    )
    window: NotificationWindow | None = session.scalar(
        select(NotificationWindow)
        .where(
            NotificationWindow.workspace_id == ticket.workspace_id,
            NotificationWindow.ticket_id == ticket.id,
            NotificationWindow.recipient_type == recipient.type,
            NotificationWindow.recipient_id == recipient.id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if window is None:  # pragma: no cover - inserted just above
        raise RuntimeError("notification window vanished")
    return window


def _lock(session: Session, window_id: str) -> NotificationWindow | None:
    return session.scalar(
        select(NotificationWindow)
        .where(NotificationWindow.id == window_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
