"""Whether a workspace can be notified at all, read through the cache.

The message path asks before it queues a notification job: in a workspace with no push
subscription, no webhook and no e-mail configured, the job would end after two queries, and
one job per message was most of the message path's cost under load. Adding a subscription or
a webhook forgets the answer after its commit; removing one leaves it stale for at most
``REACH_TTL_S`` (a job that then finds nothing to do).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import PushSubscription, Webhook
from app.services.cache import cache, forget_after_commit

REACH_TTL_S = 30.0


def reach_key(workspace_id: str) -> str:
    return f"reach:{workspace_id}"


def notifiable(workspace_id: str, site_id: str) -> bool:
    """Whether a message in this workspace and site may notify anyone."""
    if current_app.config.get("SMTP_HOST"):
        return True

    def load() -> dict[str, object]:
        push = db.session.scalar(
            select(exists().where(PushSubscription.workspace_id == workspace_id))
        )
        sites = db.session.scalars(
            select(Webhook.site_id)
            .where(Webhook.workspace_id == workspace_id, Webhook.is_active.is_(True))
            .distinct()
        )
        found = {"push": bool(push), "sites": sorted(set(sites))}
        db.session.rollback()
        return found

    known = cache().get(reach_key(workspace_id), REACH_TTL_S, load)
    return bool(known["push"]) or site_id in known["sites"]


def forget_reach(session: Session, workspace_id: str) -> None:
    """A subscription or webhook was added in this transaction: ask again after its commit."""
    forget_after_commit(session, reach_key(workspace_id))
