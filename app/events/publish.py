"""The publisher: emits and jobs queued inside a transaction go out after its commit.

Nothing else calls ``socketio.emit``. ``services.transaction.write_transaction`` releases the
queue after a successful commit and discards it on rollback. A payload is a dict already
dumped by a schema (the Redis message queue silently drops anything that is not JSON), or a
function that builds one after the commit, so slow view-building never holds row locks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.extensions import db, socketio

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


@dataclass
class _Coalesced:
    key: str
    send: Callable[[], None]


#: Updates under one key go out at most once per window: the first at once, later ones folded
#: into a single trailing send built when the window ends (so it carries the latest state).
COALESCE_WINDOW_S = 1.0
_PRUNE_ABOVE = 50_000


class _Coalescer:
    def __init__(self, window: float) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._scheduled: set[str] = set()

    def submit(self, key: str, send: Callable[[], None]) -> None:
        now = time.monotonic()
        with self._lock:
            if key in self._scheduled:
                return
            last = self._last.get(key)
            if last is None or now - last >= self.window:
                self._last[key] = now
                delay = None
            else:
                self._scheduled.add(key)
                delay = self.window - (now - last)
            if len(self._last) > _PRUNE_ABOVE:
                self._last = {k: t for k, t in self._last.items() if now - t < self.window}
        if delay is None:
            _run(send)
        else:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            socketio.start_background_task(self._trailing, app, key, send, delay)

    def _trailing(self, app: Any, key: str, send: Callable[[], None], delay: float) -> None:
        socketio.sleep(delay)
        with self._lock:
            self._scheduled.discard(key)
            self._last[key] = time.monotonic()
        with app.app_context():
            try:
                _run(send)
            finally:
                db.session.remove()


def _run(send: Callable[[], None]) -> None:
    try:
        send()
    except Exception:
        log.exception("a coalesced publish failed")


_coalescer = _Coalescer(COALESCE_WINDOW_S)


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


def coalesce_after_commit(session: Session, key: str, send: Callable[[], None]) -> None:
    """Queue ``send`` (it builds payloads and calls ``emit_now``) for after the commit, at
    most once per ``COALESCE_WINDOW_S`` per ``key`` in this process."""
    session.info.setdefault(_PENDING_KEY, []).append(_Coalesced(key, send))


def enqueue_after_commit(session: Session, job_name: str, *args: Any) -> None:
    """Queue a background job to be enqueued when ``session`` commits."""
    session.info.setdefault(_PENDING_KEY, []).append(_Job(job_name, args))


def release(session: Session) -> None:
    """Send what the committed transaction queued, in order (called after commit)."""
    pending = session.info.pop(_PENDING_KEY, None)
    for item in pending or ():
        if isinstance(item, _Coalesced):
            _coalescer.submit(item.key, item.send)
        elif isinstance(item, _Emit):
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
