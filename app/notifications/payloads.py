"""What a push says, built from ids when it is sent (bodies are never stored for later)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.extensions import db
from app.limits import NOTIFICATION_PREVIEW_CHARS
from app.models import Delivery, Message, PushSubscription, Site, Ticket, Visitor


def preview(body: str) -> str:
    """The start of a message, on one line, cut at ``NOTIFICATION_PREVIEW_CHARS``."""
    text = " ".join(body.split())
    if len(text) <= NOTIFICATION_PREVIEW_CHARS:
        return text
    return text[: NOTIFICATION_PREVIEW_CHARS - 1].rstrip() + "…"


def console_ticket_url(ticket_id: str) -> str:
    """Where an agent's notification leads: the ticket in the console."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return f"{base}/console/#/inbox/{ticket_id}"


def visitor_url(ticket: Ticket) -> str:
    """Where a visitor's notification leads: the page the widget was last open on."""
    visitor = db.session.get(Visitor, ticket.visitor_id)
    if visitor is not None and visitor.current_url:
        return visitor.current_url
    site = db.session.get(Site, ticket.site_id)
    origins = list(site.allowed_origins or []) if site is not None else []
    return (origins[0] + "/") if origins else "/"


def push_payload(delivery: Delivery) -> dict[str, Any] | None:
    """``{type, title, body, ticket_id, url, count, id}`` for one push; None if the ticket
    or message is gone."""
    sub = db.session.get(PushSubscription, delivery.subscription_id)
    ticket = db.session.get(Ticket, delivery.ticket_id) if delivery.ticket_id else None
    if sub is None or ticket is None or ticket.workspace_id != delivery.workspace_id:
        return None
    message = db.session.get(Message, delivery.object_id) if delivery.event == "message" else None
    latest = _latest_public_message(ticket) if message is None else message
    if message is not None:
        title = message.sender_name or "New message"
        if delivery.count > 1:
            title = f"{delivery.count} new messages"
    else:
        title = "New conversation" if delivery.event == "ticket.created" else "Needs a person"
    body = preview(latest.body) if latest is not None else ""
    url = console_ticket_url(ticket.id) if sub.subject_type == "agent" else visitor_url(ticket)
    return {
        "type": "message" if delivery.event == "message" else "ticket",
        "title": title,
        "body": body,
        "ticket_id": ticket.id,
        "url": url,
        "count": delivery.count,
        "id": delivery.idempotency_key,
    }


def _latest_public_message(ticket: Ticket) -> Message | None:
    return (
        db.session.query(Message)
        .filter(
            Message.ticket_id == ticket.id,
            Message.workspace_id == ticket.workspace_id,
            Message.kind == "text",
        )
        .order_by(Message.seq.desc())
        .first()
    )
