"""The use cases behind the push and webhook endpoints (one public function each)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth.permissions import check_site, require_manager
from app.auth.principal import Principal
from app.errors import Invalid, NotFound
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import utcnow
from app.limits import DELIVERY_PAGE_MAX, MAX_PUSH_SUBSCRIPTIONS, MAX_WEBHOOKS_PER_SITE
from app.models import Delivery, PushSubscription, Site, Webhook
from app.notifications.outgoing import check_url
from app.notifications.reach import forget_reach
from app.services import audit
from app.services.transaction import write_transaction

#: Webhook events a site may subscribe to.
WEBHOOK_EVENTS = ("message.created", "ticket.created", "ticket.updated")


def subscribe_push(principal: Principal, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Store the caller's browser subscription (an endpoint seen before moves to the caller)."""
    _check_endpoint(endpoint)
    with write_transaction() as session:
        sub = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
        if sub is None:
            sub = PushSubscription(endpoint=endpoint)
            session.add(sub)
        sub.workspace_id = principal.workspace_id
        sub.subject_type = principal.kind
        sub.subject_id = principal.id
        sub.p256dh = p256dh
        sub.auth = auth
        sub.created_at = utcnow()
        session.flush()
        _trim_subscriptions(session, principal)
        forget_reach(session, principal.workspace_id)
    return sub


def unsubscribe_push(principal: Principal, endpoint: str) -> None:
    """Forget the caller's subscription with this endpoint (nothing happens if it has none)."""
    with write_transaction() as session:
        session.execute(
            delete(PushSubscription).where(
                PushSubscription.workspace_id == principal.workspace_id,
                PushSubscription.subject_type == principal.kind,
                PushSubscription.subject_id == principal.id,
                PushSubscription.endpoint == endpoint,
            )
        )


def forget_subscription(session: Session, subscription_id: str) -> None:
    """The push service said the subscription is gone (404/410): delete it."""
    session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


def _check_endpoint(endpoint: str) -> None:
    allow = bool(current_app.config.get("PUSH_ALLOW_PRIVATE"))
    problem = check_url(endpoint, allow_private=allow)
    if problem:
        raise Invalid("The push endpoint is not usable.", fields={"endpoint": [problem]})


def _trim_subscriptions(session: Session, principal: Principal) -> None:
    ids = session.scalars(
        select(PushSubscription.id)
        .where(
            PushSubscription.workspace_id == principal.workspace_id,
            PushSubscription.subject_type == principal.kind,
            PushSubscription.subject_id == principal.id,
        )
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
        .offset(MAX_PUSH_SUBSCRIPTIONS)
    ).all()
    if ids:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids)))


def create_webhook(principal: Principal, site_id: str, url: str, events: list[str]) -> Webhook:
    """Add a webhook to a site (owners and admins); it gets its own signing secret."""
    require_manager(principal)
    problem = check_url(url, allow_private=bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")))
    if problem:
        raise Invalid("The webhook URL is not usable.", fields={"url": [problem]})
    with write_transaction() as session:
        site = _site(principal, site_id)
        count = session.scalar(
            select(func.count())
            .select_from(Webhook)
            .where(Webhook.workspace_id == principal.workspace_id, Webhook.site_id == site.id)
        )
        if (count or 0) >= MAX_WEBHOOKS_PER_SITE:
            raise Invalid(f"A site may have at most {MAX_WEBHOOKS_PER_SITE} webhooks.")
        webhook = Webhook(
            workspace_id=principal.workspace_id,
            site_id=site.id,
            url=url,
            events=sorted(set(events)),
            secret="whsec_" + secrets.token_urlsafe(32),
            is_active=True,
        )
        session.add(webhook)
        session.flush()
        details = {"op": "created", "site_id": site.id, "events": webhook.events}
        audit.record(session, principal, "webhook.changed", "webhook", webhook.id, details)
        forget_reach(session, principal.workspace_id)
    return webhook


def list_webhooks(principal: Principal, site_id: str) -> list[Webhook]:
    """A site's webhooks (owners and admins)."""
    require_manager(principal)
    site = _site(principal, site_id)
    return list(
        db.session.scalars(
            select(Webhook)
            .where(Webhook.workspace_id == principal.workspace_id, Webhook.site_id == site.id)
            .order_by(Webhook.created_at, Webhook.id)
        )
    )


def delete_webhook(principal: Principal, site_id: str, webhook_id: str) -> None:
    """Remove a webhook and its delivery log (owners and admins)."""
    require_manager(principal)
    with write_transaction() as session:
        webhook = _webhook(principal, site_id, webhook_id)
        details = {"op": "deleted", "site_id": webhook.site_id}
        audit.record(session, principal, "webhook.changed", "webhook", webhook.id, details)
        session.delete(webhook)


def list_deliveries(
    principal: Principal, site_id: str, webhook_id: str, limit: int = DELIVERY_PAGE_MAX
) -> list[Delivery]:
    """A webhook's newest deliveries first: event, state, attempts, last answer."""
    require_manager(principal)
    webhook = _webhook(principal, site_id, webhook_id)
    return list(
        db.session.scalars(
            select(Delivery)
            .where(
                Delivery.workspace_id == principal.workspace_id,
                Delivery.webhook_id == webhook.id,
            )
            .order_by(Delivery.created_at.desc(), Delivery.id.desc())
            .limit(min(max(limit, 1), DELIVERY_PAGE_MAX))
        )
    )


def webhook_view(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "site_id": webhook.site_id,
        "url": webhook.url,
        "events": list(webhook.events or []),
        "secret": webhook.secret,
        "active": webhook.is_active,
        "created_at": webhook.created_at,
    }


def _site(principal: Principal, site_id: str) -> Site:
    site = db.session.get(Site, site_id) if looks_like_id(site_id) else None
    return check_site(principal, site)


def _webhook(principal: Principal, site_id: str, webhook_id: str) -> Webhook:
    site = _site(principal, site_id)
    webhook = db.session.get(Webhook, webhook_id) if looks_like_id(webhook_id) else None
    if (
        webhook is None
        or webhook.workspace_id != principal.workspace_id
        or webhook.site_id != site.id
    ):
        raise NotFound("Webhook not found.")
    return webhook
