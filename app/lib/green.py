"""Make psycopg2 cooperative under gevent (eventlet's monkey_patch does this itself)."""

from __future__ import annotations

from typing import Any


def patch_psycopg_for_gevent() -> None:
    """Install a wait callback so psycopg2 yields to gevent while waiting on the server."""
    import psycopg2
    from gevent.socket import wait_read, wait_write
    from psycopg2 import extensions

    def _wait(conn: Any, timeout: float | None = None) -> None:
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                return
            if state == extensions.POLL_READ:
                wait_read(conn.fileno(), timeout=timeout)
            elif state == extensions.POLL_WRITE:
                wait_write(conn.fileno(), timeout=timeout)
            else:
                raise psycopg2.OperationalError(f"Bad result from poll: {state!r}")

    extensions.set_wait_callback(_wait)
