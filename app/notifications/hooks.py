"""The calls the message and ticket services make inside their write transaction.

Each only queues a job for after the commit (nothing happens on rollback); the job decides
who hears about it: pushes, webhooks and e-mail.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.events import names
from app.events.publish import enqueue_after_commit
from app.lib.ids import new_id
from app.models import Message, Ticket


def notify_message_created(session: Session, message: Message, *, created: bool = False) -> None:
    """A message was stored (``created``: its ticket too)."""
    enqueue_after_commit(session, "notify_message", message.id, created)


def notify_ticket_handed_off(session: Session, ticket: Ticket) -> None:
    """A visitor left the bot for a person: the human queue must hear of it."""
    enqueue_after_commit(session, "notify_handoff", ticket.id, new_id())


def notify_ticket_updated(
    session: Session, ticket: Ticket, event: str = names.TICKET_UPDATED
) -> None:
    """A ticket's status, assignee, participants or rating changed (``ticket.updated``);
    ``event`` is the Socket.IO event being announced (only updates count)."""
    if event == names.TICKET_UPDATED:
        enqueue_after_commit(session, "notify_ticket_updated", ticket.id, new_id())
