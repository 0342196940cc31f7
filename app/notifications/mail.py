"""E-mail to visitors who left an address: "an agent replied" (collapsed like pushes, over a
longer window) and the transcript once a ticket is resolved. Plain text over SMTP
(``SMTP_HOST``; without it no mail is queued)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.lib.timeutil import isoformat_ms
from app.limits import MAX_TRANSCRIPT_MESSAGES
from app.models import Delivery, Message, Site, Ticket, Visitor
from app.notifications.outbox import NewDelivery, queue_deliveries
from app.notifications.outcome import Outcome
from app.notifications.payloads import visitor_url

SMTP_TIMEOUT_S = 15


def mail_enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def queue_transcript(session: Session, ticket: Ticket) -> None:
    """The transcript of a resolved ticket to its visitor's address (once per resolve)."""
    address = session.scalar(
        select(Visitor.email).where(
            Visitor.workspace_id == ticket.workspace_id, Visitor.id == ticket.visitor_id
        )
    )
    if not address or ticket.resolved_at is None:
        return
    queue_deliveries(
        session,
        ticket.workspace_id,
        [
            NewDelivery(
                channel="email",
                key=f"email:transcript:{ticket.id}:{isoformat_ms(ticket.resolved_at)}",
                event="transcript",
                object_id=ticket.id,
                ticket_id=ticket.id,
                address=address,
            )
        ],
    )


def build(delivery: Delivery) -> EmailMessage | None:
    """The e-mail a delivery sends, built now from ids; None when its ticket is gone."""
    ticket = db.session.get(Ticket, delivery.ticket_id) if delivery.ticket_id else None
    if ticket is None or ticket.workspace_id != delivery.workspace_id or not delivery.address:
        return None
    site = db.session.get(Site, ticket.site_id)
    site_name = _one_line(site.name if site is not None else "Support")
    mail = EmailMessage()
    mail["From"] = str(current_app.config.get("MAIL_FROM") or "parley@localhost")
    mail["To"] = formataddr(("", delivery.address))
    mail["Message-ID"] = make_msgid(idstring=delivery.id, domain="parley.invalid")
    mail["X-Parley-Ticket"] = ticket.id
    if delivery.event == "transcript":
        mail["Subject"] = f"Your conversation with {site_name}"
        lines = [f"Here is your conversation with {site_name}.", ""]
        lines += _transcript_lines(ticket, MAX_TRANSCRIPT_MESSAGES)
    else:
        replies = _transcript_lines(ticket, max(delivery.count, 1), agents_only=True)
        mail["Subject"] = f"New reply from {site_name}"
        lines = [f"You have {len(replies)} new message(s) from {site_name}:", "", *replies]
        lines += ["", f"Continue the conversation: {visitor_url(ticket)}"]
    mail.set_content("\n".join(lines) + "\n")
    return mail


def send_mail(delivery: Delivery) -> Outcome:
    """Send one e-mail over SMTP; temporary failures (4xx, network) are retried."""
    mail = build(delivery)
    if mail is None:
        return Outcome("failed", None, "ticket deleted or no address")
    config = current_app.config
    try:
        with smtplib.SMTP(
            str(config["SMTP_HOST"]), int(config.get("SMTP_PORT") or 25), timeout=SMTP_TIMEOUT_S
        ) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USERNAME"):
                smtp.login(str(config["SMTP_USERNAME"]), str(config.get("SMTP_PASSWORD") or ""))
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        temporary = all(400 <= c < 500 for c in codes)
        return Outcome("retry" if temporary else "failed", codes[0] if codes else None, "refused")
    except smtplib.SMTPResponseException as exc:
        kind = "retry" if 400 <= exc.smtp_code < 500 else "failed"
        return Outcome(kind, exc.smtp_code, f"SMTP {exc.smtp_code}")
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome("retry", None, type(exc).__name__)
    return Outcome("delivered", 250)


def _transcript_lines(ticket: Ticket, limit: int, *, agents_only: bool = False) -> list[str]:
    query = select(Message).where(
        Message.workspace_id == ticket.workspace_id,
        Message.ticket_id == ticket.id,
        Message.kind == "text",  # never notes, and no system lines
    )
    if agents_only:
        query = query.where(Message.sender_type == "agent")
    rows = list(db.session.scalars(query.order_by(Message.seq.desc()).limit(limit)))
    rows.reverse()
    return [
        f"[{isoformat_ms(m.created_at)[:16].replace('T', ' ')} UTC] "
        f"{_one_line(m.sender_name or 'Visitor')}: {m.body}"
        for m in rows
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
