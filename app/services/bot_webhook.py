"""Bring-your-own bot: a site's own bot receives visitor messages as signed webhooks and
answers through the REST API (``POST /sites/{id}/bot/replies``) with the site's bot secret.

A delivery's body is ``{id, type: "bot.message", created_at, data: {site_id, ticket_id,
message, visitor}}``, signed like every Parley webhook
(``X-Parley-Signature: sha256=<hex HMAC-SHA256 of the body with the bot secret>``). When the
bot cannot be reached after ``BOT_WEBHOOK_ATTEMPTS`` tries, the ticket goes to people.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import requests
from flask import current_app
from sqlalchemy import select

from app.auth.permissions import bot_secret_matches, require_manager
from app.auth.principal import Principal
from app.errors import Conflict, Invalid, NotFound, ParleyError
from app.extensions import db
from app.lib.ids import looks_like_id, new_id
from app.lib.timeutil import isoformat_ms, utcnow
from app.limits import BOT_WEBHOOK_ATTEMPTS, OUTGOING_TIMEOUT_S
from app.models import BotSettings, Message, Site, Ticket, Visitor
from app.notifications.outgoing import BlockedDestination, check_url, guarded_session
from app.notifications.webhooks import sign
from app.schemas.tickets import MESSAGE_OUT
from app.services import audit, bot
from app.services.sites import get_site
from app.services.transaction import write_transaction

log = logging.getLogger(__name__)

EVENT = "bot.message"
USER_AGENT = "Parley-Bot-Webhooks/1"


@dataclass(frozen=True)
class BotWebhookView:
    url: str
    secret: str


def get_bot_webhook(principal: Principal, site_id: str) -> BotWebhookView:
    """The site's bot webhook and secret (owners and admins)."""
    require_manager(principal)
    row = bot.settings_row(get_site(principal, site_id))
    if row is None or not row.webhook_url or not row.webhook_secret:
        raise NotFound("The site has no bot webhook.")
    return BotWebhookView(row.webhook_url, row.webhook_secret)


def set_bot_webhook(principal: Principal, site_id: str, url: str) -> BotWebhookView:
    """Send the site's visitor messages to its own bot instead of the FAQ bot."""
    require_manager(principal)
    problem = check_url(url, allow_private=_allow_private())
    if problem:
        raise Invalid(problem, fields={"url": [problem]})
    with write_transaction() as session:
        site = get_site(principal, site_id)
        details = {"op": "bot_webhook_set", "site_id": site.id}
        audit.record(session, principal, "webhook.changed", "site", site.id, details)
        row = bot.settings_row(site, create=True) or BotSettings()
        row.webhook_url = url
        row.webhook_secret = row.webhook_secret or secrets.token_hex(32)
        row.updated_at = utcnow()
        view = BotWebhookView(url, row.webhook_secret)
    return view


def remove_bot_webhook(principal: Principal, site_id: str) -> None:
    """Back to the FAQ bot (the secret is dropped: a new webhook gets a new one)."""
    require_manager(principal)
    with write_transaction() as session:
        row = bot.settings_row(get_site(principal, site_id))
        if row is None or not row.webhook_url:
            raise NotFound("The site has no bot webhook.")
        details = {"op": "bot_webhook_removed", "site_id": row.site_id}
        audit.record(session, principal, "webhook.changed", "site", row.site_id, details)
        row.webhook_url = None
        row.webhook_secret = None


def webhook_of(site: Site) -> BotSettings | None:
    """The site's settings row when its bot is a webhook, else None."""
    row = bot.settings_row(site)
    return row if row is not None and row.webhook_url and row.webhook_secret else None


def deliver(hook: BotSettings, ticket: Ticket, message: Message) -> bool:
    """POST the visitor's message to the site's bot; whether it took it (2xx)."""
    visitor = db.session.get(Visitor, ticket.visitor_id)
    payload = {
        "id": new_id(),
        "type": EVENT,
        "created_at": isoformat_ms(utcnow()),
        "data": {
            "site_id": ticket.site_id,
            "ticket_id": ticket.id,
            "message": MESSAGE_OUT.dump(message),
            "visitor": {
                "id": ticket.visitor_id,
                "name": visitor.name if visitor else None,
                "email": visitor.email if visitor else None,
            },
        },
    }
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Parley-Event": EVENT,
        "X-Parley-Delivery": str(payload["id"]),
        "X-Parley-Signature": sign(str(hook.webhook_secret), body),
    }
    db.session.rollback()  # hold no database connection while waiting on the network
    session = guarded_session(allow_private=_allow_private())
    try:
        for _attempt in range(BOT_WEBHOOK_ATTEMPTS):
            try:
                response = session.post(
                    str(hook.webhook_url),
                    data=body,
                    headers=headers,
                    timeout=OUTGOING_TIMEOUT_S,
                    allow_redirects=False,
                )
            except BlockedDestination:
                return False
            except requests.RequestException as exc:
                log.warning("bot webhook of site %s: %s", ticket.site_id, type(exc).__name__)
                continue
            if 200 <= response.status_code < 300:
                return True
            if response.status_code < 500 and response.status_code != 429:
                return False
        return False
    finally:
        session.close()


def post_bot_reply(
    site_id: str, secret: str | None, data: dict[str, Any]
) -> tuple[Message | None, Ticket]:
    """The site's own bot answers in a ``bot`` ticket (and may hand it to people)."""
    from app.services import bot_chat

    site = db.session.get(Site, site_id) if looks_like_id(site_id) else None
    hook = webhook_of(site) if site is not None else None
    if site is None or hook is None or not bot_secret_matches(hook.webhook_secret, secret):
        raise ParleyError("Send the site's bot secret as a bearer token.", code="unauthorized")
    ticket = db.session.scalar(
        select(Ticket).where(
            Ticket.id == data["ticket_id"],
            Ticket.workspace_id == site.workspace_id,
            Ticket.site_id == site.id,
        )
    )
    if ticket is None:
        raise NotFound("Ticket not found.")
    if ticket.status != "bot":
        raise Conflict("The ticket is with people now; the bot may not answer.")
    message = None
    if data.get("body"):
        client_id = data["client_id"]
        meta = {"actions": list(data.get("actions") or [])}
        bot_chat.post_reply(ticket, client_id, data["body"], "external", meta)
        message = db.session.scalar(
            select(Message).where(
                Message.ticket_id == ticket.id,
                Message.sender_type == "bot",
                Message.client_id == client_id,
            )
        )
    if data.get("handoff"):
        ticket = bot_chat.hand_over_now(ticket, "external")
    db.session.refresh(ticket)
    return message, ticket


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))
