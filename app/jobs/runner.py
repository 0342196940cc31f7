"""Where jobs run: RQ with ``REDIS_URL``, else a background task of this process.

``init_jobs`` installs the runner for the publisher (jobs queued in a transaction go out
after its commit) and ``enqueue`` is how jobs schedule follow-ups (a retry, the end of a
collapse window). Tests install a recorder with ``set_backend``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from flask import Flask

from app.events import publish
from app.extensions import db, socketio
from app.jobs import (
    JOB_QUEUES,
    JOB_RETRIES,
    JOB_RETRY_INTERVALS_S,
    JOB_TIMEOUT_S,
    QUEUES,
    SWEEP_INTERVAL_S,
)

log = logging.getLogger(__name__)

#: Embedded mode: jobs running at once in the web process, and jobs waiting at most.
IN_PROCESS_WORKERS = 2
IN_PROCESS_QUEUE_MAX = 10_000


class Backend(Protocol):
    def enqueue(self, name: str, args: tuple[Any, ...], delay: float) -> None: ...


def job_function(name: str) -> Callable[..., Any]:
    """The function that runs job ``name``."""
    from app.jobs import tasks  # noqa: PLC0415 - imports the app lazily

    if name not in JOB_QUEUES:
        raise KeyError(f"unknown job {name!r}")
    fn: Callable[..., Any] = getattr(tasks, name)
    return fn


class RQBackend:
    """Enqueue on RQ with the JSON serializer; delayed jobs go to RQ's scheduler."""

    def __init__(self, url: str) -> None:
        from redis import Redis
        from rq import Queue
        from rq.serializers import JSONSerializer

        self.connection = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.queues = {
            name: Queue(name, connection=self.connection, serializer=JSONSerializer)
            for name in QUEUES
        }

    def enqueue(self, name: str, args: tuple[Any, ...], delay: float) -> None:
        from rq import Retry

        job_function(name)  # refuse unknown names here, not in the worker
        queue = self.queues[JOB_QUEUES[name]]
        options: dict[str, Any] = {
            "job_timeout": JOB_TIMEOUT_S,
            "retry": Retry(max=JOB_RETRIES, interval=JOB_RETRY_INTERVALS_S),
            "result_ttl": 600,
            # Not started within a day (no worker running): dropped from Redis; the sweep
            # of a worker re-queues the due deliveries it finds in the database.
            "ttl": 24 * 3600,
            "failure_ttl": 7 * 24 * 3600,
        }
        func = f"app.jobs.tasks.{name}"
        if delay > 0:
            queue.enqueue_in(timedelta(seconds=delay), func, *args, **options)
        else:
            queue.enqueue(func, *args, **options)


class InProcessBackend:
    """Embedded mode: jobs run in this process, at most ``IN_PROCESS_WORKERS`` at a time, so
    a burst of jobs never takes the connections that requests need. A delayed job waits
    without a connection, then joins the queue; past ``IN_PROCESS_QUEUE_MAX`` waiting jobs,
    new ones are dropped with a warning (a sweep finds the deliveries they would have made)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._workers = 0

    def enqueue(self, name: str, args: tuple[Any, ...], delay: float) -> None:
        fn = job_function(name)
        if delay > 0:
            socketio.start_background_task(self._later, fn, args, delay)
        else:
            self._put(fn, args)

    def _later(self, fn: Callable[..., Any], args: tuple[Any, ...], delay: float) -> None:
        socketio.sleep(delay)
        self._put(fn, args)

    def _put(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        with self._lock:
            if len(self._queue) >= IN_PROCESS_QUEUE_MAX:
                log.warning("in-process job queue full: job %s dropped", fn.__name__)
                return
            self._queue.append((fn, args))
            if self._workers >= IN_PROCESS_WORKERS:
                return
            self._workers += 1
        publish.start_background(self._work)

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._workers -= 1
                    return
                fn, args = self._queue.popleft()
            with self.app.app_context():
                try:
                    fn(*args)
                except Exception:
                    log.exception("job %s failed", fn.__name__)
                finally:
                    db.session.remove()


class InlineBackend:
    """Jobs run one after another in the calling thread (``worker.py`` without Redis)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._due: list[tuple[float, str, tuple[Any, ...]]] = []

    def enqueue(self, name: str, args: tuple[Any, ...], delay: float) -> None:
        job_function(name)
        self._due.append((time.monotonic() + max(delay, 0.0), name, args))

    def drain(self) -> int:
        """Run every job that is due (and those they queue that are due); returns how many."""
        ran = 0
        while True:
            now = time.monotonic()
            due = [item for item in self._due if item[0] <= now]
            if not due:
                return ran
            self._due = [item for item in self._due if item[0] > now]
            for _, name, args in due:
                with self.app.app_context():
                    try:
                        job_function(name)(*args)
                    except Exception:
                        log.exception("job %s failed", name)
                    finally:
                        db.session.remove()
                ran += 1


_backend: Backend | None = None


def set_backend(backend: Backend | None) -> None:
    """Install where jobs go (also used by tests to record or run them)."""
    global _backend
    _backend = backend


def enqueue(name: str, *args: Any, delay: float = 0) -> None:
    """Run job ``name`` with JSON-serialisable ``args`` in the background (after ``delay`` s)."""
    if _backend is None:
        log.warning("no job backend installed; job %s dropped", name)
        return
    _backend.enqueue(name, args, delay)


def _from_publisher(name: str, args: tuple[Any, ...]) -> None:
    enqueue(name, *args)


def init_jobs(app: Flask) -> None:
    """Install the job backend for this process: RQ with ``REDIS_URL``, else in-process."""
    url = app.config.get("REDIS_URL")
    set_backend(RQBackend(url) if url else InProcessBackend(app))
    publish.set_job_runner(_from_publisher)


def start_embedded_sweeper(app: Flask) -> None:
    """Embedded mode: re-queue due deliveries now and then (their jobs die with a restart)."""
    if app.config.get("REDIS_URL"):
        return

    def loop() -> None:
        while True:
            socketio.sleep(SWEEP_INTERVAL_S)
            enqueue("sweep")

    enqueue("sweep")
    socketio.start_background_task(loop)
