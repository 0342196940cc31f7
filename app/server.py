"""Serve the app with the production server of the chosen async mode (``python wsgi.py``)."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from flask import Flask

from app.extensions import socketio

log = logging.getLogger(__name__)

#: Connections one process accepts at once (eventlet's own default is 1,024).
MAX_CONNECTIONS = 10_000


def _no_delay(sock: Any) -> None:
    """Small frames go out at once: Nagle's algorithm plus delayed ACKs adds ~40 ms when a
    reply follows another frame (an event, then the ack)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # pragma: no cover - not a TCP socket
        pass


class _NoDelayListener:
    """A listening socket whose accepted connections have TCP_NODELAY set."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def accept(self) -> tuple[Any, Any]:
        conn, addr = self._sock.accept()
        _no_delay(conn)
        return conn, addr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def serve(app: Flask, host: str, port: int, *, access_log: bool = False) -> None:
    """Block serving HTTP and Socket.IO on ``host:port`` (and the demo host page beside it)."""
    mode = app.config["ASYNC_MODE"]
    log.info("Parley serving on http://%s:%s (async mode %s)", host, port, mode)
    serve_demo_host(app, host, mode)
    from app.jobs.runner import start_embedded_sweeper

    start_embedded_sweeper(app)  # embedded mode: deliveries a restart left due go out again

    if mode == "eventlet":
        import eventlet
        import eventlet.wsgi

        listener = _NoDelayListener(eventlet.listen((host, port), backlog=2048))
        eventlet.wsgi.server(
            listener,
            app,
            log_output=access_log,
            max_size=MAX_CONNECTIONS,
            keepalive=True,
            socket_timeout=None,
        )
    elif mode == "gevent":
        from gevent import pywsgi

        server = pywsgi.WSGIServer(
            (host, port), app, log=None if not access_log else "default", backlog=2048
        )
        server.init_socket()
        _no_delay(server.socket)
        server.serve_forever()
    else:
        socketio.run(app, host=host, port=port, log_output=access_log, allow_unsafe_werkzeug=True)


def serve_demo_host(app: Flask, host: str, mode: str) -> None:
    """Start serving the demo host page (``app/web/demo_host.py``) in the background.

    Same process, its own listener: a green thread with eventlet, a started server with
    gevent, a daemon thread with threading. A busy port only logs a warning; the app runs on.
    """
    from app.services.demo import DEMO_SITE_KEY
    from app.web.demo_host import app_url, demo_host_app, demo_port

    try:
        port = demo_port(app.config)
    except ValueError as exc:
        log.warning("Demo host page not served: %s", exc)
        return
    if port is None:
        return
    page = demo_host_app(app_url(app.config), DEMO_SITE_KEY)
    try:
        if mode == "eventlet":
            import eventlet
            import eventlet.wsgi

            listener = eventlet.listen((host, port))
            eventlet.spawn_n(eventlet.wsgi.server, listener, page, log_output=False)
        elif mode == "gevent":
            from gevent import pywsgi

            pywsgi.WSGIServer((host, port), page, log=None).start()
        else:
            from wsgiref.simple_server import WSGIRequestHandler, make_server

            class Quiet(WSGIRequestHandler):
                def log_message(self, *args: Any) -> None:
                    pass

            server = make_server(host, port, page, handler_class=Quiet)
            threading.Thread(
                target=server.serve_forever, name="parley-demo-host", daemon=True
            ).start()
    except OSError as exc:
        log.warning("Demo host page not served on port %s: %s", port, exc)
        return
    log.info("Demo host page (a customer's site on another origin) on http://%s:%s/", host, port)
