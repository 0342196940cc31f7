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


@dataclass
class _Disconnect:
    room: str


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
        self._generation = 0
        #: Trailing sends running now (not those still waiting for their window).
        self.active = 0

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
            generation = self._generation
        if delay is None:
            _run(send)
        else:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            socketio.start_background_task(self._trailing, app, key, send, delay, generation)

    def clear(self) -> None:
        """Forget what waits for its window (tests: the next one starts from nothing)."""
        with self._lock:
            self._generation += 1
            self._scheduled.clear()
            self._last.clear()

    def _trailing(
        self, app: Any, key: str, send: Callable[[], None], delay: float, generation: int
    ) -> None:
        socketio.sleep(delay)
        with self._lock:
            if generation != self._generation:
                return
            self._scheduled.discard(key)
            self._last[key] = time.monotonic()
            self.active += 1
        with app.app_context():
            try:
                _run(send)
            finally:
                db.session.remove()
                with self._lock:
                    self.active -= 1


def _run(send: Callable[[], None]) -> None:
    try:
        send()
    except Exception:
        log.exception("a coalesced publish failed")


_coalescer = _Coalescer(COALESCE_WINDOW_S)

#: How often a ``Batcher`` hands what is due to its flush function: the inbox may lag this
#: much, and under load one flush builds the updates of every ticket that changed meanwhile.
BATCH_TICK_S = 0.2


class Batcher:
    """Coalesce updates per key, and hand every due key to ``flush`` in one call.

    Like ``coalesce_after_commit`` (a key goes out at the next tick, then at most once per
    ``window``), but the flush sees all due items at once, so it can build many payloads in a
    fixed number of queries: under load one flush per tick instead of one per update. The
    loop runs only while something is pending, and ``flush`` runs in an app context.
    """

    def __init__(
        self,
        flush: Callable[[list[Any]], None],
        window: float = COALESCE_WINDOW_S,
        tick: float = BATCH_TICK_S,
    ) -> None:
        self.window, self.tick, self._flush = window, tick, flush
        self._lock = threading.Lock()
        self._due: dict[str, tuple[Any, float]] = {}
        self._last: dict[str, float] = {}
        self._running = False
        self._flushing = False
        _batchers.append(self)

    @property
    def flushing(self) -> bool:
        return self._flushing

    @property
    def running(self) -> bool:
        return self._running

    def clear(self) -> None:
        """Forget what is pending (tests: the next one starts from nothing)."""
        with self._lock:
            self._due.clear()
            self._last.clear()

    def submit(self, key: str, item: Any) -> None:
        """Schedule ``item`` under ``key`` (call after the commit, in an app context)."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            due = now if last is None or now - last >= self.window else last + self.window
            if key in self._due:
                due = min(due, self._due[key][1])
            self._due[key] = (item, due)
            if self._running:
                return
            self._running = True
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        socketio.start_background_task(self._loop, app)

    def _loop(self, app: Any) -> None:
        while True:
            socketio.sleep(self.tick)
            with self._lock:
                if not self._due:
                    self._running = False
                    return
                now = time.monotonic()
                ready = [key for key, (_, due) in self._due.items() if due <= now]
                items = [self._due.pop(key)[0] for key in ready]
                for key in ready:
                    self._last[key] = now
                if len(self._last) > _PRUNE_ABOVE:
                    self._last = {k: t for k, t in self._last.items() if now - t < self.window}
                self._flushing = bool(items)
            if not items:
                continue
            with app.app_context():
                try:
                    self._flush(items)
                except Exception:
                    log.exception("a batched publish failed")
                finally:
                    db.session.remove()
                    self._flushing = False


JobRunner = Callable[[str, tuple[Any, ...]], None]
_job_runner: JobRunner | None = None


def set_job_runner(runner: JobRunner | None) -> None:
    """Install what runs queued jobs (RQ enqueue, or in-process in embedded mode)."""
    global _job_runner
    _job_runner = runner


def enqueue_now(job_name: str, *args: Any) -> None:
    """Hand a job to the runner at once, for work that is already committed."""
    if _job_runner is None:
        return
    try:
        _job_runner(job_name, args)
    except Exception:
        log.exception("enqueue of job %s failed", job_name)


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


def disconnect_after_commit(session: Session, room: str) -> None:
    """Queue closing the connections in ``room`` for when ``session`` commits (a visitor
    whose data was erased): this process's are disconnected, and the room is closed on
    every process, so connections elsewhere hear nothing more from it."""
    session.info.setdefault(_PENDING_KEY, []).append(_Disconnect(room))


def disconnect_now(room: str) -> None:
    """Disconnect this process's connections in ``room`` and close it everywhere."""
    try:
        server = socketio.server
        if server is None:
            return
        sids = [sid for sid, _ in server.manager.get_participants("/", room)]
        for sid in sids:
            server.disconnect(sid, namespace="/")
        socketio.close_room(room)
    except Exception:  # best effort: the tokens are refused from now on anyway
        log.exception("closing room %s failed", room)


def coalesce_after_commit(session: Session, key: str, send: Callable[[], None]) -> None:
    """Queue ``send`` (it builds payloads and calls ``emit_now``) for after the commit, at
    most once per ``COALESCE_WINDOW_S`` per ``key`` in this process."""
    session.info.setdefault(_PENDING_KEY, []).append(_Coalesced(key, send))


def enqueue_after_commit(session: Session, job_name: str, *args: Any) -> None:
    """Queue a background job to be enqueued when ``session`` commits."""
    session.info.setdefault(_PENDING_KEY, []).append(_Job(job_name, args))


_batchers: list[Batcher] = []
_background = [0]
_background_lock = threading.Lock()


def start_background(fn: Callable[..., Any], *args: Any) -> None:
    """``socketio.start_background_task``, counted, so ``quiesce`` can wait for it."""

    def run() -> None:
        try:
            fn(*args)
        finally:
            with _background_lock:
                _background[0] -= 1

    with _background_lock:
        _background[0] += 1
    socketio.start_background_task(run)


def wait_idle(timeout: float = 5.0) -> bool:
    """Wait until every batched publish went out (tests that need its effect)."""
    deadline = time.monotonic() + timeout
    while any(b.running for b in _batchers) or _background[0] > 0:
        if time.monotonic() > deadline:
            return False
        socketio.sleep(0.02)
    return True


def quiesce(timeout: float = 5.0) -> bool:
    """Drop every publish still waiting for its window and wait for those running now and
    for counted background work (tests, before they clear the database)."""
    _coalescer.clear()
    for batcher in _batchers:
        batcher.clear()
    deadline = time.monotonic() + timeout
    while _coalescer.active or _background[0] > 0 or any(b.flushing for b in _batchers):
        if time.monotonic() > deadline:
            return False
        socketio.sleep(0.02)
    return True


@dataclass
class _Batched:
    batcher: Batcher
    key: str
    item: Any


def batch_after_commit(session: Session, batcher: Batcher, key: str, item: Any) -> None:
    """Queue ``batcher.submit(key, item)`` for after the commit."""
    session.info.setdefault(_PENDING_KEY, []).append(_Batched(batcher, key, item))


def release(session: Session) -> None:
    """Send what the committed transaction queued, in order (called after commit)."""
    pending = session.info.pop(_PENDING_KEY, None)
    for item in pending or ():
        if isinstance(item, _Coalesced):
            _coalescer.submit(item.key, item.send)
        elif isinstance(item, _Batched):
            item.batcher.submit(item.key, item.item)
        elif isinstance(item, _Disconnect):
            disconnect_now(item.room)

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
