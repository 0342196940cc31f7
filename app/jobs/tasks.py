"""The job functions RQ (or the in-process runner) calls by name. Each takes ids (JSON),
runs inside an app context and leaves no session behind."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, has_app_context

from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

_app: Flask | None = None


def _worker_app() -> Flask:
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


def job(fn: F) -> F:
    """Run ``fn`` in an app context (the worker's, or one made for it) and clean up after."""

    @functools.wraps(fn)
    def run(*args: Any) -> Any:
        if has_app_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()
        with _worker_app().app_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()

    return run  # type: ignore[return-value]


@job
def notify_message(message_id: str, created: bool = False) -> None:
    """A message was stored: webhooks and pushes."""
    from app.notifications import dispatch

    dispatch.message_created(message_id, bool(created))


@job
def notify_handoff(ticket_id: str, event_key: str = "") -> None:
    """A ticket left the bot for the human queue: pushes to available agents."""
    from app.notifications import dispatch

    dispatch.handed_off(ticket_id)


@job
def notify_ticket_updated(ticket_id: str, event_key: str) -> None:
    """A ticket changed: ``ticket.updated`` webhooks."""
    from app.notifications import dispatch

    dispatch.ticket_updated(ticket_id, event_key)


@job
def flush_window(window_id: str) -> None:
    """A collapse window ended: send its trailing push with the count."""
    from app.notifications import dispatch

    dispatch.flush_window(window_id)


@job
def deliver(delivery_id: str) -> str:
    """Send one push, webhook call or e-mail (claimed first; never twice)."""
    from app.notifications import dispatch

    return dispatch.deliver_one(delivery_id)


@job
def sweep() -> int:
    """Re-queue due deliveries whose job was lost."""
    from app.notifications.outbox import sweep as sweep_deliveries

    return sweep_deliveries()
