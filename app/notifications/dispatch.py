"""What the notification jobs do, by event: pushes (through the collapse window) and
webhooks. Called by ``app.jobs.tasks``; every step is idempotent."""

from __future__ import annotations

from sqlalchemy import Select, exists, or_, select

from app.extensions import db
from app.jobs.runner import enqueue
from app.models import Delivery, Message, PushSubscription, Ticket, Webhook
from app.notifications import collapse, mail, recipients, webhooks
from app.notifications.mail import mail_enabled
from app.notifications.outbox import deliver
from app.notifications.outcome import Outcome
from app.notifications.recipients import Recipient
from app.services.transaction import write_transaction


def message_created(message_id: str, created: bool) -> None:
    """Webhooks ``message.created`` (and ``ticket.created``); pushes to who should hear."""
    where = select(Ticket.workspace_id, Ticket.site_id).join(
        Message, Message.ticket_id == Ticket.id
    )
    if not _anything_to_do(where.where(Message.id == message_id)):
        return
    message = db.session.get(Message, message_id)
    ticket = db.session.get(Ticket, message.ticket_id) if message is not None else None
    if message is None or ticket is None:
        return
    with write_transaction() as session:
        webhooks.queue_event(session, ticket, "message.created", message.id, message.id)
        if created:
            webhooks.queue_event(session, ticket, "ticket.created", ticket.id, ticket.id)
    targets = [(r, "message") for r in recipients.for_message(message, ticket)]
    if created and ticket.status == "open" and ticket.assignee_id is None:
        targets += [(r, "ticket.created") for r in recipients.available_agents(ticket)]
    _push(ticket, targets, message, message.sender_type, message.sender_id)


def handed_off(ticket_id: str) -> None:
    """Every available agent hears that a ticket waits for a person."""
    if not _anything_to_do(_ticket_scope(ticket_id)):
        return
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != "open" or ticket.assignee_id is not None:
        return
    _push(ticket, [(r, "ticket.handoff") for r in recipients.available_agents(ticket)], None)


def ticket_updated(ticket_id: str, event_key: str) -> None:
    """Webhooks ``ticket.updated``; the transcript mail once a ticket is resolved."""
    if not _anything_to_do(_ticket_scope(ticket_id)):
        return
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return
    with write_transaction() as session:
        webhooks.queue_event(session, ticket, "ticket.updated", ticket.id, event_key)
        if ticket.status == "resolved" and mail_enabled():
            mail.queue_transcript(session, ticket)


def _ticket_scope(ticket_id: str) -> Select[str, str]:
    return select(Ticket.workspace_id, Ticket.site_id).where(Ticket.id == ticket_id)


def _anything_to_do(scope: Select[str, str]) -> bool:
    """Whether the workspace has any way to be notified (e-mail on, a push subscription, a
    webhook of the site). One statement per transaction: most jobs end here, and they never
    hold one table's lock while waiting for another's."""
    row = db.session.execute(scope).first()
    db.session.rollback()
    if row is None:
        return False
    if mail_enabled():
        return True
    workspace_id, site_id = row
    found = db.session.scalar(
        select(
            or_(
                exists().where(PushSubscription.workspace_id == workspace_id),
                exists().where(
                    Webhook.workspace_id == workspace_id,
                    Webhook.site_id == site_id,
                    Webhook.is_active.is_(True),
                ),
            )
        )
    )
    db.session.rollback()
    return bool(found)


def flush_window(window_id: str) -> None:
    delay = collapse.flush(window_id)
    if delay is not None:
        enqueue("flush_window", window_id, delay=delay)


def deliver_one(delivery_id: str) -> str:
    """Send one delivery through its channel."""
    return deliver(delivery_id, _send)


def _send(delivery: Delivery) -> Outcome:
    if delivery.channel == "push":
        from app.notifications.webpush import send_push

        outcome: Outcome = send_push(delivery)
        return outcome
    if delivery.channel == "webhook":
        return webhooks.send_webhook(delivery)
    if delivery.channel == "email":
        return mail.send_mail(delivery)
    return Outcome("failed", None, f"unknown channel {delivery.channel}")


def _push(
    ticket: Ticket,
    targets: list[tuple[Recipient, str]],
    message: Message | None,
    sender_type: str | None = None,
    sender_id: str | None = None,
) -> None:
    events: dict[Recipient, str] = {}
    for recipient, event in targets:
        if (recipient.type, recipient.id) != (sender_type, sender_id):
            events.setdefault(recipient, event)
    reachable = list(recipients.reachable(ticket.workspace_id, events))
    if message is not None and mail_enabled():
        by_mail = recipients.email_recipient(message, ticket)
        if by_mail is not None:
            reachable.append(by_mail)
            events[by_mail] = "message"
    db.session.rollback()  # end the read snapshot before the writes below
    for recipient in reachable:
        event = events[recipient]
        message_id = message.id if message is not None and event == "message" else None
        trailing = collapse.notify(ticket, recipient, event, message_id)
        if trailing is not None:
            window_id, delay = trailing
            enqueue("flush_window", window_id, delay=delay)
