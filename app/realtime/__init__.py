"""The Socket.IO transport: authenticate on connect, load a schema, call one service, ack."""

from __future__ import annotations

from flask import Flask


def init_realtime(app: Flask) -> None:
    """Set up presence for this process and register the event handlers (once)."""
    from app.realtime import handlers
    from app.realtime.runtime import init_presence

    handlers.register()
    init_presence(app)
