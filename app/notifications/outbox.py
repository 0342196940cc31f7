"""Deliveries as outbox rows: queued once (idempotency key), claimed before each attempt,
retried with backoff, never delivered twice.

A claim is an atomic UPDATE from ``pending`` (due) to ``sending`` with a lease. A worker
killed mid-send leaves the row ``sending``; once the lease runs out, the retried job (RQ
requeues a dead worker's job) or the sweep claims it again. The request itself is made
outside any transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.events.publish import enqueue_after_commit
from app.extensions import db
from app.lib.ids import new_id
from app.lib.timeutil import utcnow
from app.limits import MAX_DELIVERY_ATTEMPTS
from app.models import Delivery
from app.notifications.outcome import Outcome, backoff_delay
from app.services.transaction import write_transaction

log = logging.getLogger(__name__)

#: How long a claim holds: longer than one attempt can take (the request timeout).
LEASE_S = 30
#: Due deliveries one sweep re-queues, at most.
SWEEP_BATCH = 200


@dataclass(frozen=True)
class NewDelivery:
    """What to queue: the row's fields besides its state."""

    channel: str
    key: str
    event: str
    object_id: str
    ticket_id: str | None = None
    count: int = 1
    webhook_id: str | None = None
    subscription_id: str | None = None
    address: str | None = None
    occurred_at: datetime | None = None


def queue_deliveries(session: Session, workspace_id: str, items: list[NewDelivery]) -> list[str]:
    """Insert deliveries whose key is new and queue their jobs for after the commit.

    Returns the ids inserted; a key seen before inserts nothing (a repeated job)."""
    if not items:
        return []
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    ids: list[str] = []
    for item in items:
        row: dict[str, Any] = {
            "id": new_id(),
            "workspace_id": workspace_id,
            "channel": item.channel,
            "idempotency_key": item.key,
            "event": item.event,
            "object_id": item.object_id,
            "ticket_id": item.ticket_id,
            "count": item.count,
            "webhook_id": item.webhook_id,
            "subscription_id": item.subscription_id,
            "address": item.address,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "occurred_at": item.occurred_at or now,
            "created_at": now,
            "updated_at": now,
        }
        stmt = (
            insert(Delivery)  # type: ignore[operator]
            .values(**row)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(Delivery.id)
        )
        inserted = session.execute(stmt).scalar()
        if inserted is not None:
            ids.append(str(inserted))
            enqueue_after_commit(session, "deliver", str(inserted))
    return ids


Sender = Callable[[Delivery], Outcome]


def deliver(delivery_id: str, send: Sender) -> str:
    """Claim one delivery, send it with ``send``, record the outcome. Returns its status."""
    from app.jobs.runner import enqueue

    claimed = _claim(delivery_id)
    if claimed is None:
        return _not_claimed(delivery_id, enqueue)
    try:
        outcome = send(claimed)
    except Exception as exc:  # a bug or an unexpected library error: retry, never lose it
        log.exception("delivery %s raised", delivery_id)
        outcome = Outcome("retry", None, type(exc).__name__)
    return _finish(claimed, outcome, enqueue)


def _claim(delivery_id: str) -> Delivery | None:
    now = utcnow()
    with write_transaction() as session:
        claimed = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                or_(
                    and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
                    and_(Delivery.status == "sending", Delivery.lease_until < now),
                ),
            )
            .values(
                status="sending",
                attempts=Delivery.attempts + 1,
                lease_until=now + timedelta(seconds=LEASE_S),
                updated_at=now,
            )
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if claimed is None:
            return None
        row = session.get(Delivery, delivery_id, populate_existing=True)
        if row is not None:
            session.expunge(row)
        return row


def _not_claimed(delivery_id: str, enqueue: Callable[..., None]) -> str:
    """Someone else holds it, it is not due yet, or it is done: look again when it may be due."""
    row = db.session.get(Delivery, delivery_id, populate_existing=True)
    if row is None:
        return "missing"
    now = utcnow()
    if row.status == "sending" and row.lease_until is not None:
        enqueue("deliver", delivery_id, delay=(row.lease_until - now).total_seconds() + 1)
    elif row.status == "pending" and row.next_attempt_at > now:
        enqueue("deliver", delivery_id, delay=(row.next_attempt_at - now).total_seconds())
    return row.status


def _finish(row: Delivery, outcome: Outcome, enqueue: Callable[..., None]) -> str:
    now = utcnow()
    values: dict[str, Any] = {
        "last_status_code": outcome.status_code,
        "last_error": (outcome.error or None) and (outcome.error or "")[:200],
        "lease_until": None,
        "updated_at": now,
    }
    delay = 0.0
    if outcome.kind == "delivered":
        values.update(status="delivered", delivered_at=now, last_error=None)
    elif outcome.kind == "retry" and row.attempts < MAX_DELIVERY_ATTEMPTS:
        base = float(current_app.config.get("DELIVERY_RETRY_BASE_S", 5))
        delay = outcome.retry_after if outcome.retry_after is not None else 0.0
        delay = delay or backoff_delay(row.attempts, base)
        values.update(status="pending", next_attempt_at=now + timedelta(seconds=delay))
    elif outcome.kind == "gone":
        values.update(status="gone")
    else:
        values.update(status="failed")
    with write_transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == row.id, Delivery.status == "sending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if outcome.kind == "gone" and row.subscription_id:
            from app.notifications.subscriptions import forget_subscription

            forget_subscription(session, row.subscription_id)
    if values["status"] == "pending":
        enqueue("deliver", row.id, delay=delay)
    log.info(
        "delivery %s (%s %s) attempt %d: %s%s",
        row.id,
        row.channel,
        row.event,
        row.attempts,
        values["status"],
        f" ({outcome.error})" if outcome.error else "",
    )
    return str(values["status"])


def sweep(*, due_now: bool = False) -> int:
    """Re-queue deliveries (and collapse windows) that are due but whose job was lost;
    with ``due_now``, everything due at all. Returns how many deliveries."""
    from app.jobs.runner import enqueue
    from app.models import NotificationWindow

    now = utcnow()
    stale = now if due_now else now - timedelta(seconds=LEASE_S)
    windows = db.session.scalars(
        select(NotificationWindow.id)
        .where(NotificationWindow.pending_count > 0, NotificationWindow.pending_due_at <= stale)
        .order_by(NotificationWindow.pending_due_at)
        .limit(SWEEP_BATCH)
    ).all()
    ids = db.session.scalars(
        select(Delivery.id)
        .where(
            or_(
                and_(Delivery.status == "pending", Delivery.next_attempt_at <= stale),
                and_(Delivery.status == "sending", Delivery.lease_until < now),
            )
        )
        .order_by(Delivery.next_attempt_at)
        .limit(SWEEP_BATCH)
    ).all()
    db.session.rollback()
    for window_id in windows:
        enqueue("flush_window", window_id)
    for delivery_id in ids:
        enqueue("deliver", delivery_id)
    return len(ids)
