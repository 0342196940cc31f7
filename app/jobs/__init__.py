"""Background jobs: they take ids, load what they need, and are idempotent.

With ``REDIS_URL`` they are enqueued on RQ (JSON serializer, never pickle) and run by
``worker.py``; in embedded mode the web process runs them in a background task.
"""

from __future__ import annotations

#: RQ queues, in priority order.
QUEUES = ("parley-notify", "parley-default")
