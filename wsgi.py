"""Entry point: patch for the chosen async mode first, then build the app.

``python wsgi.py`` serves with Socket.IO's own server for ``ASYNC_MODE`` (eventlet by
default); ``gunicorn -k gevent -w 1 wsgi:app`` with ``ASYNC_MODE=gevent`` also works.
"""

import os
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=DeprecationWarning)

_MODE = os.environ.get("ASYNC_MODE", "eventlet").lower() or "eventlet"
if _MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif _MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
    from app.lib.green import patch_psycopg_for_gevent

    patch_psycopg_for_gevent()

from app import create_app  # noqa: E402
from app.extensions import socketio  # noqa: E402

app = create_app()


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    socketio.run(
        app,
        host=host,
        port=port,
        log_output=os.environ.get("ACCESS_LOG") == "1",
        allow_unsafe_werkzeug=_MODE == "threading",
    )


if __name__ == "__main__":
    main()
