"""Background worker: ``python worker.py`` runs Parley's jobs (web push, webhooks, e-mail).

With ``REDIS_URL`` it is an RQ worker on the queues of ``app.jobs.QUEUES`` (JSON
serializer, scheduler on for retries and collapse windows). It runs jobs in its own process
(no fork per job), keeps a dead worker's jobs "started" only briefly (a short heartbeat
grace and frequent registry cleaning), so a job whose worker was killed with -9 is
retried within two minutes; the outbox's claims make sure nothing is delivered twice.

Without ``REDIS_URL`` (embedded mode) the web process runs jobs itself; this command then
works through the database's due deliveries every few seconds, the same jobs in process,
for a second process next to the web one (or after a restart). ``--once`` does one pass.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from typing import Any

from app import create_app
from app.jobs import (
    HEARTBEAT_GRACE_S,
    JOB_TIMEOUT_S,
    MAINTENANCE_INTERVAL_S,
    QUEUES,
    SWEEP_INTERVAL_S,
)

log = logging.getLogger("parley.worker")

#: Embedded mode: seconds between two passes over due deliveries.
EMBEDDED_POLL_S = 5
#: Embedded ``--once``: sweeps of one pass at most.
ONCE_MAX_SWEEPS = 100


def _rq_worker_class() -> Any:
    from rq import SimpleWorker
    from rq.job import Job

    class ParleyWorker(SimpleWorker):  # type: ignore[misc]
        """RQ's in-process worker with a short grace for dead workers' jobs."""

        def get_heartbeat_ttl(self, job: Job) -> int:
            timeout = job.timeout if job.timeout and job.timeout > 0 else JOB_TIMEOUT_S
            remaining = max(timeout - self.current_job_working_time, 1)
            return int(min(remaining, self.job_monitoring_interval)) + HEARTBEAT_GRACE_S

    return ParleyWorker


def run_rq(app: Any, url: str, burst: bool) -> int:
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    connection = Redis.from_url(url)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer) for name in QUEUES]
    worker = _rq_worker_class()(
        queues,
        connection=connection,
        serializer=JSONSerializer,
        job_monitoring_interval=5,
        maintenance_interval=MAINTENANCE_INTERVAL_S,
        # The idle wait for a job is worker_ttl - 15 s: short, so cleaning runs on time.
        worker_ttl=25,
    )
    _start_sweeps(app)
    with app.app_context():
        worker.work(with_scheduler=True, burst=burst, logging_level="INFO")
    return 0


def _start_sweeps(app: Any) -> None:
    """Now and then, re-queue due deliveries whose job was lost (Redis flushed, a crash)."""
    from app.jobs.runner import enqueue

    def loop() -> None:
        while True:
            with app.app_context():
                try:
                    enqueue("sweep")
                except Exception:
                    log.exception("queueing the sweep failed")
            time.sleep(SWEEP_INTERVAL_S)

    threading.Thread(target=loop, name="parley-sweeps", daemon=True).start()


def run_embedded(app: Any, once: bool) -> int:
    """Without Redis: deliver what is due from the database, in this process. ``once``: one
    pass over everything due (sweeps of ``SWEEP_BATCH`` until one comes back short)."""
    from app.jobs.runner import InlineBackend, set_backend
    from app.notifications.outbox import SWEEP_BATCH, sweep

    backend = InlineBackend(app)
    set_backend(backend)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("REDIS_URL is not set: delivering due notifications from the database in process.")
    sweeps = 0
    while not stop.is_set():
        with app.app_context():
            found = sweep(due_now=True)
        backend.drain()
        sweeps += 1
        if once:
            # A full batch may leave more due: go on (deliveries done or failed again are
            # no longer due, so this ends; bounded all the same).
            if found < SWEEP_BATCH or sweeps >= ONCE_MAX_SWEEPS:
                break
            continue
        stop.wait(EMBEDDED_POLL_S)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="RQ: stop when the queues are empty")
    parser.add_argument("--once", action="store_true", help="embedded: one pass, then exit")
    args = parser.parse_args(argv)
    app = create_app()
    url = app.config.get("REDIS_URL")
    if not url:
        return run_embedded(app, args.once)
    return run_rq(app, url, args.burst)


if __name__ == "__main__":
    sys.exit(main())
