"""The Socket.IO transport: authenticate on connect, load a schema, call one service, ack."""

from __future__ import annotations

from flask import Flask


def init_realtime(app: Flask) -> None:
    """Set up presence for this process and register the event handlers (once)."""
    from app.config import MAX_REQUEST_BYTES
    from app.realtime import handlers
    from app.realtime.packets import PollingGuard, quiet_malformed_packets
    from app.realtime.runtime import init_presence

    handlers.register()
    quiet_malformed_packets()
    app.wsgi_app = PollingGuard(app.wsgi_app, MAX_REQUEST_BYTES)  # type: ignore[method-assign]
    init_presence(app)
