"""Background worker: ``python worker.py`` runs RQ on ``REDIS_URL`` for Parley's queues.

Without ``REDIS_URL`` (embedded mode) there is nothing to run here: the web process runs the
same jobs in the background itself.
"""

from __future__ import annotations

import sys

from app import create_app
from app.jobs import QUEUES


def main() -> int:
    app = create_app()
    url = app.config.get("REDIS_URL")
    if not url:
        print("REDIS_URL is not set: in embedded mode the web process runs jobs itself.")
        return 0
    from redis import Redis
    from rq import Queue, Worker
    from rq.serializers import JSONSerializer

    connection = Redis.from_url(url)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer) for name in QUEUES]
    with app.app_context():
        worker = Worker(queues, connection=connection, serializer=JSONSerializer)
        worker.work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
