"""The publisher: emits and jobs queued inside a transaction go out after its commit.

Nothing else calls ``socketio.emit``. ``services.transaction.write_transaction`` releases the
queue after a successful commit and discards it on rollback. A payload is a dict already
dumped by a schema (the Redis message queue silently drops anything that is not JSON), or a
function that builds one after the commit, so slow view-building never holds row locks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.extensions import socketio

log = logging.getLogger(__name__)

_PENDING_KEY = "parley.pending"


Payload = dict[str, Any] | Callable[[], dict[str, Any]]


@dataclass
class _Emit:
    event: str
    payload: Payload
    to: list[str]
    skip_sid: str | None = None


@dataclass
class _Job:
    name: str
    args: tuple[Any, ...] = field(default_factory=tuple)


JobRunner = Callable[[str, tuple[Any, ...]], None]
_job_runner: JobRunner | None = None


def set_job_runner(runner: JobRunner | None) -> None:
    """Install what runs queued jobs (RQ enqueue, or in-process in embedded mode)."""
    global _job_runner
    _job_runner = runner


def emit_now(
    event_name: str, payload: dict[str, Any], to: str | list[str], skip_sid: str | None = None
) -> None:
    """Emit at once, for state that is not in the database (typing, presence)."""
    rooms = [to] if isinstance(to, str) else list(to)
    if not rooms:
        return
    try:
        socketio.emit(
            event_name, payload, to=rooms if len(rooms) > 1 else rooms[0], skip_sid=skip_sid
        )
    except Exception:  # an emit is a hint; clients heal with sync
        log.exception("emit of %s failed", event_name)


def emit_after_commit(
    session: Session,
    event_name: str,
    payload: Payload,
    to: str | list[str],
    skip_sid: str | None = None,
) -> None:
    """Queue an emit to go out when ``session`` commits."""

    rooms = [to] if isinstance(to, str) else list(to)
    session.info.setdefault(_PENDING_KEY, []).append(_Emit(event_name, payload, rooms, skip_sid))


def enqueue_after_commit(session: Session, job_name: str, *args: Any) -> None:
    """Queue a background job to be enqueued when ``session`` commits."""
    session.info.setdefault(_PENDING_KEY, []).append(_Job(job_name, args))


def release(session: Session) -> None:
    """Send what the committed transaction queued, in order (called after commit)."""
    pending = session.info.pop(_PENDING_KEY, None)
    for item in pending or ():
        if isinstance(item, _Emit):
            try:
                payload = item.payload() if callable(item.payload) else item.payload
            except Exception:
                log.exception("building the %s payload failed", item.event)
                continue
            if payload:
                emit_now(item.event, payload, item.to, item.skip_sid)
        elif _job_runner is not None:
            try:
                _job_runner(item.name, item.args)
            except Exception:
                log.exception("enqueue of job %s failed", item.name)


def discard(session: Session) -> None:
    """Drop what a rolled-back transaction queued."""
    session.info.pop(_PENDING_KEY, None)
