"""Background jobs: they take ids, load what they need, and are idempotent.

With ``REDIS_URL`` they are enqueued on RQ (JSON serializer, never pickle) and run by
``worker.py``; in embedded mode the web process runs them in a background task. Jobs are
named (``enqueue("deliver", delivery_id)``); ``app.jobs.tasks`` holds their functions.
"""

from __future__ import annotations

#: RQ queues, in priority order.
QUEUES = ("parley-notify", "parley-default")

#: A job may run this long before RQ stops it; a killed worker's job is retried after it.
JOB_TIMEOUT_S = 30
#: How often a job is retried by RQ when it raised or its worker died (deliveries schedule
#: their own retries with backoff on top of this).
JOB_RETRIES = 3
JOB_RETRY_INTERVALS_S = [5, 15, 45]
#: Seconds a dead worker's job stays "started" after its last heartbeat.
HEARTBEAT_GRACE_S = 10
#: How often a worker cleans registries (moves abandoned jobs back to their queue).
MAINTENANCE_INTERVAL_S = 10
#: How often due deliveries whose job was lost (a restart in embedded mode) are re-queued.
SWEEP_INTERVAL_S = 30

#: Job name -> queue.
JOB_QUEUES = {
    "notify_message": "parley-notify",
    "notify_handoff": "parley-notify",
    "notify_ticket_updated": "parley-notify",
    "flush_window": "parley-notify",
    "deliver": "parley-notify",
    "sweep": "parley-default",
}
