"""The FAQ bot in a live chat: it answers a visitor's message in a ``bot`` ticket, offers
"That helped" / "Talk to a human", and hands the ticket to people when it should.

Imports ``messages`` and ``tickets`` lazily: the message path imports this module's hook.

Runs off the request: ``after_message`` (one call in the message path) queues, for after the
commit, a background task that decides and posts the reply through ``send_message``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.bot.decision import Decision
from app.errors import NotFound
from app.events import publish
from app.events.publish import coalesce_after_commit
from app.extensions import db
from app.lib.timeutil import utcnow
from app.limits import BOT_LOW_CONFIDENCE_TURNS, MAX_EMAIL_CHARS
from app.models import BotReply, Message, Site, Ticket, Visitor
from app.services import bot, bot_webhook, business_hours, ticket_state
from app.services.sites import site_settings
from app.services.transaction import write_transaction

log = logging.getLogger(__name__)

BOT_NAME = "Bot"
#: Buttons a client draws under a bot message (``meta.actions``).
ACTION_HELPFUL = "helpful"
ACTION_HANDOFF = "handoff"
LOW_CONFIDENCE = ("suggest", "unsure")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[a-z]{2,}", re.IGNORECASE)

HANDOFF_LINES = {
    "asked_for_person": "The bot handed the ticket to a person: the visitor asked for one",
    "asked_about_bot": "The bot handed the ticket to a person: the visitor asked about the bot",
    "no_knowledge": "The bot handed the ticket to a person: the site has no FAQ entries",
    "low_confidence": "The bot handed the ticket to a person: it could not answer twice",
    "feedback": "The bot handed the ticket to a person: its answer did not help",
    "offline": "The bot handed the ticket to a person: the visitor left a message outside hours",
    "external": "The site's bot handed the ticket to a person",
    "unreachable": "The site's bot could not be reached: the ticket went to a person",
}


def after_message(session: Session, principal: Principal, ticket_id: str, seq: int) -> None:
    """Hook of the message path: after a visitor's message commits, let the bot look at it."""
    if not principal.is_visitor:
        return
    # The ticket's row is locked by this transaction already: reading its status is cheap, and
    # it spares a background task for every message outside the bot's tickets.
    if session.scalar(select(Ticket.status).where(Ticket.id == ticket_id)) != "bot":
        return
    coalesce_after_commit(session, f"bot:{ticket_id}:{seq}", lambda: _start(ticket_id, seq))


def _start(ticket_id: str, seq: int) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    publish.start_background(_run, app, ticket_id, seq)


def _run(app: Any, ticket_id: str, seq: int) -> None:
    with app.app_context():
        try:
            reply_to_visitor(ticket_id, seq)
        except Exception:
            log.exception("the bot failed to reply in ticket %s", ticket_id)
            db.session.rollback()
        finally:
            db.session.remove()


def reply_to_visitor(ticket_id: str, seq: int) -> None:
    """The bot's turn after the visitor's message ``seq`` in a ``bot`` ticket (idempotent)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != "bot":
        return
    message = db.session.scalar(
        select(Message).where(Message.ticket_id == ticket_id, Message.seq == seq)
    )
    site = db.session.get(Site, ticket.site_id)
    if message is None or message.sender_type != "visitor" or message.kind != "text" or not site:
        return
    if not site_settings(site).get("bot_enabled"):
        return
    client_id = f"bot-{seq}"
    hook = bot_webhook.webhook_of(site)
    if hook is not None:
        if not bot_webhook.deliver(hook, ticket, message):
            ticket = db.session.get(Ticket, ticket_id) or ticket
            if ticket.status == "bot":
                _hand_over(ticket, site, client_id, None, "unreachable")
        return
    previous = _last_reply(ticket)
    if previous is not None and previous.outcome == "ask_email":
        _take_email(ticket, message.body, client_id)
        return
    decision = bot.decide_for_site(site, message.body)
    if decision.outcome == "answer" and decision.match is not None:
        entry = decision.match.entry
        meta = {"faq_id": entry.id, "actions": [ACTION_HELPFUL, ACTION_HANDOFF]}
        _post(ticket, client_id, entry.answer, "answer", decision, meta)
    elif decision.reason in ("asked_for_person", "asked_about_bot", "no_knowledge"):
        _hand_over(ticket, site, client_id, decision, str(decision.reason))
    elif previous is not None and previous.outcome in LOW_CONFIDENCE and _low_streak(ticket):
        _hand_over(ticket, site, client_id, decision, "low_confidence")
    elif decision.outcome == "suggest":
        suggestions = [
            {"faq_id": m.entry.id, "question": m.entry.question} for m in decision.suggestions
        ]
        lines = "\n".join(f"- {s['question']}" for s in suggestions)
        body = f"Did you mean one of these?\n{lines}\nOr talk to a human."
        _post(
            ticket,
            client_id,
            body,
            "suggest",
            decision,
            {"actions": [ACTION_HANDOFF], "suggestions": suggestions},
        )
    else:
        body = (
            "Sorry, I am not sure I understood. Could you put it another way, or talk to a human?"
        )
        _post(ticket, client_id, body, "unsure", decision, {"actions": [ACTION_HANDOFF]})


def give_feedback(principal: Principal, ticket_id: str, message_id: str, helpful: bool) -> Ticket:
    """The visitor pressed "That helped" or "Talk to a human" under a bot message; the latter
    hands the ticket to a person."""
    ticket = ticket_state.load_ticket(principal, ticket_id)
    if not principal.is_visitor:
        raise NotFound("Ticket not found.")
    with write_transaction():
        message = db.session.scalar(
            select(Message).where(Message.ticket_id == ticket.id, Message.id == message_id)
        )
        if message is None or message.sender_type != "bot":
            raise NotFound("Bot message not found.")
        row = db.session.scalar(
            select(BotReply).where(
                BotReply.workspace_id == ticket.workspace_id,
                BotReply.ticket_id == ticket.id,
                BotReply.client_id == message.client_id,
            )
        )
        if row is not None:
            row.helpful = helpful
    if not helpful:
        from app.services import tickets

        bot_principal = _bot_principal(ticket)
        ticket = tickets.hand_off(bot_principal, ticket.id, HANDOFF_LINES["feedback"])
    return ticket


def post_reply(
    ticket: Ticket, client_id: str, body: str, outcome: str, meta: dict[str, Any]
) -> None:
    """A bot message decided elsewhere (a bring-your-own bot), with its buttons."""
    _post(ticket, client_id, body, outcome, None, meta)


def hand_over_now(ticket: Ticket, why: str) -> Ticket:
    """Hand the ticket to people with the system line for ``why``."""
    from app.services import tickets

    return tickets.hand_off(_bot_principal(ticket), ticket.id, HANDOFF_LINES[why])


def message_meta(message: Message) -> dict[str, Any] | None:
    """The ``meta`` of a bot message (buttons, suggestions, the FAQ entry), else None."""
    if message.sender_type != "bot":
        return None
    row = db.session.scalar(
        select(BotReply.meta).where(
            BotReply.workspace_id == message.workspace_id,
            BotReply.ticket_id == message.ticket_id,
            BotReply.client_id == message.client_id,
        )
    )
    return dict(row) if row else None


# -- internals -------------------------------------------------------------------------------


def _bot_principal(ticket: Ticket) -> Principal:
    return Principal(kind="bot", workspace_id=ticket.workspace_id, id="bot", name=BOT_NAME)


def _last_reply(ticket: Ticket) -> BotReply | None:
    return db.session.scalar(
        select(BotReply)
        .where(BotReply.workspace_id == ticket.workspace_id, BotReply.ticket_id == ticket.id)
        .order_by(BotReply.created_at.desc(), BotReply.id.desc())
        .limit(1)
    )


def _low_streak(ticket: Ticket) -> bool:
    """Whether the last ``BOT_LOW_CONFIDENCE_TURNS - 1`` replies were all low-confidence."""
    recent = list(
        db.session.scalars(
            select(BotReply.outcome)
            .where(BotReply.workspace_id == ticket.workspace_id, BotReply.ticket_id == ticket.id)
            .order_by(BotReply.created_at.desc(), BotReply.id.desc())
            .limit(BOT_LOW_CONFIDENCE_TURNS - 1)
        )
    )
    return len(recent) == BOT_LOW_CONFIDENCE_TURNS - 1 and all(o in LOW_CONFIDENCE for o in recent)


def _post(
    ticket: Ticket,
    client_id: str,
    body: str,
    outcome: str,
    decision: Decision | None,
    meta: dict[str, Any],
) -> None:
    """One bot message with its meta, in one transaction (a resend of the same turn is a no-op)."""
    exists = db.session.scalar(
        select(BotReply.id).where(BotReply.ticket_id == ticket.id, BotReply.client_id == client_id)
    )
    if exists:
        return
    from app.services import messages

    with write_transaction() as session:
        session.add(
            BotReply(
                workspace_id=ticket.workspace_id,
                ticket_id=ticket.id,
                client_id=client_id,
                outcome=outcome,
                faq_id=meta.get("faq_id"),
                confidence=decision.confidence if decision else 0.0,
                meta=meta,
                created_at=utcnow(),
            )
        )
        session.flush()
        messages.send_message(
            _bot_principal(ticket), ticket_id=ticket.id, client_id=client_id, body=body
        )


def _hand_over(
    ticket: Ticket, site: Site, client_id: str, decision: Decision | None, why: str
) -> None:
    from app.services import tickets

    hours = site_settings(site).get("business_hours")
    state = business_hours.opening(hours, utcnow())
    if not state.open:
        back = (
            f"Our team is back on {state.next_open_at:%A at %H:%M} UTC."
            if state.next_open_at
            else "Our team is away for now."
        )
        body = f"{back} Leave your e-mail address and we will answer you there."
        _post(ticket, client_id, body, "ask_email", decision, {"actions": [], "reason": why})
        return
    body = "I am passing you to a person of our team; they will answer here."
    with write_transaction():  # the goodbye and the status change commit together
        _post(ticket, client_id, body, "handoff", decision, {"actions": [], "reason": why})
        tickets.hand_off(_bot_principal(ticket), ticket.id, HANDOFF_LINES[why])


def _take_email(ticket: Ticket, body: str, client_id: str) -> None:
    from app.services import tickets

    found = _EMAIL.search(body)
    if found and len(found.group(0)) <= MAX_EMAIL_CHARS:
        email = found.group(0).lower()
        with write_transaction():
            visitor = db.session.get(Visitor, ticket.visitor_id)
            if visitor is not None:
                visitor.email = email
        text = f"Thank you! We will answer you at {email} as soon as we are back."
    else:
        text = "Thank you! Our team will answer you here as soon as they are back."
    with write_transaction():
        _post(ticket, client_id, text, "handoff", None, {"actions": []})
        tickets.hand_off(_bot_principal(ticket), ticket.id, HANDOFF_LINES["offline"])


def after_committed(principal: Principal, ticket_id: str, seq: int, status: str) -> None:
    """Hook of the group-commit path (``message_writer``): the message is committed already."""
    if principal.is_visitor and status == "bot":
        _start(ticket_id, seq)
