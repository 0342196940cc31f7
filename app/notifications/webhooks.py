"""Outgoing webhooks: events queued per matching webhook, signed, sent, logged.

A delivery's body is ``{id, type, created_at, data}``; it carries
``X-Parley-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook's secret>``,
``X-Parley-Event`` and ``X-Parley-Delivery`` (the same on every retry: receivers dedupe by it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.lib.timeutil import isoformat_ms
from app.limits import OUTGOING_TIMEOUT_S
from app.models import Delivery, Message, Ticket, Webhook
from app.notifications.outbox import NewDelivery, queue_deliveries
from app.notifications.outcome import Outcome, from_status
from app.notifications.outgoing import BlockedDestination, guarded_session

USER_AGENT = "Parley-Webhooks/1"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=<hex HMAC-SHA256(secret, body)>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def queue_event(
    session: Session, ticket: Ticket, event: str, object_id: str, event_key: str
) -> int:
    """Queue ``event`` for each active webhook of the ticket's site that subscribed to it."""
    hooks = session.scalars(
        select(Webhook).where(
            Webhook.workspace_id == ticket.workspace_id,
            Webhook.site_id == ticket.site_id,
            Webhook.is_active.is_(True),
        )
    ).all()
    items = [
        NewDelivery(
            channel="webhook",
            key=f"webhook:{hook.id}:{event}:{event_key}",
            event=event,
            object_id=object_id,
            ticket_id=ticket.id,
            webhook_id=hook.id,
        )
        for hook in hooks
        if event in (hook.events or [])
    ]
    return len(queue_deliveries(session, ticket.workspace_id, items))


def body_of(delivery: Delivery) -> dict[str, Any] | None:
    """The JSON a delivery sends, built now from ids; None when its object is gone."""
    from app.schemas.tickets import MESSAGE_OUT, TICKET_OUT
    from app.services.ticket_state import TEAM_VIEWER_ID
    from app.services.views import audience_views

    data: dict[str, Any]
    if delivery.event == "message.created":
        message = db.session.get(Message, delivery.object_id)
        if message is None or message.workspace_id != delivery.workspace_id:
            return None
        data = {"message": MESSAGE_OUT.dump(message)}
    else:
        ticket = db.session.get(Ticket, delivery.object_id)
        if ticket is None or ticket.workspace_id != delivery.workspace_id:
            return None
        team, _ = audience_views(ticket, TEAM_VIEWER_ID)
        data = {"ticket": TICKET_OUT.dump(team)}
    return {
        "id": delivery.id,
        "type": delivery.event,
        "created_at": isoformat_ms(delivery.occurred_at),
        "data": data,
    }


def send_webhook(delivery: Delivery) -> Outcome:
    """POST one signed delivery; classify the receiver's answer."""
    hook = db.session.get(Webhook, delivery.webhook_id)
    if hook is None or not hook.is_active:
        return Outcome("failed", None, "webhook removed or inactive")
    payload = body_of(delivery)
    if payload is None:
        return Outcome("failed", None, "the event's object was deleted")
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Parley-Event": delivery.event,
        "X-Parley-Delivery": delivery.id,
        "X-Parley-Signature": sign(hook.secret, body),
    }
    allow = bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))
    session = guarded_session(allow_private=allow)
    try:
        response = session.post(
            hook.url, data=body, headers=headers, timeout=OUTGOING_TIMEOUT_S, allow_redirects=False
        )
    except BlockedDestination:
        return Outcome("failed", None, "the URL points to a non-public address")
    except requests.TooManyRedirects as exc:
        status = exc.response.status_code if exc.response is not None else None
        return Outcome("failed", status, "redirects are not followed")
    except (requests.ConnectionError, requests.Timeout) as exc:
        return Outcome("retry", None, type(exc).__name__)
    finally:
        session.close()
    if 300 <= response.status_code < 400:
        return Outcome("failed", response.status_code, "redirects are not followed")
    return from_status(response.status_code, response.headers.get("Retry-After"), gone_on_404=False)
