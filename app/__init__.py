"""Parley: the application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from app.config import load_config
from app.extensions import db, login_manager, migrate, socketio


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration, extensions, transports, CLI.

    ``config`` overrides what the environment says (tests pass their database URL here).
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(config))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    os.makedirs(app.instance_path, exist_ok=True)
    _defaults(app)
    logging.basicConfig(
        level=app.config.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from app.lib import crypto

    crypto.init_app(app)  # message bodies at rest: refuses malformed keys at start

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    _init_socketio(app)

    from app import web_errors
    from app.api import bp as api_bp
    from app.api import openapi  # noqa: F401  registers /openapi.json
    from app.cli import register_cli
    from app.realtime import init_realtime
    from app.web import cookies as web_cookies
    from app.web import headers as web_headers
    from app.web.console import bp as console_bp
    from app.web.ops import bp as ops_bp
    from app.web.widget import bp as widget_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(console_bp)
    web_errors.register(app)
    from app.api.rate_limits import init_rate_limits

    init_rate_limits(app)  # REST, log-in and Socket.IO rate limits (app/limits.py)
    web_headers.register(app)
    web_cookies.register(app)
    register_cli(app)
    init_realtime(app)
    from app.jobs.runner import init_jobs

    init_jobs(app)
    from app.services.cache import init_cache

    init_cache(app)
    return app


def _defaults(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "parley.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql"):
        app.config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS",
            {
                "pool_pre_ping": True,
                "pool_size": 10,
                "max_overflow": 20,
                "pool_timeout": 1,  # refuse with `unavailable` within ~1 s rather than queue
                "connect_args": {"connect_timeout": 5},
                "hide_parameters": True,  # errors and logs never show the values of a query
            },
        )
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"hide_parameters": True})


def _instance_secret(instance_path: str) -> str:
    """A random secret kept in the instance folder, so `make run` needs no configuration."""
    import secrets

    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    with open(path) as handle:
        return handle.read().strip()


def _allowed_socket_origin(app: Flask) -> Any:
    """Socket.IO accepts browsers of our own origin only (the widget runs in our iframe).

    Same origin means the Origin header matches the request's scheme and host (or
    PUBLIC_URL when a proxy rewrites the host). ``X-Forwarded-*`` headers count only through
    ``TRUSTED_PROXIES`` (ProxyFix, app/web/cookies.py, has then rewritten the environ): any
    client could send them. Never ``*``: that would let any site ride the console cookie.
    """
    from app.schemas.base import normalize_origin

    public = app.config.get("PUBLIC_URL")
    public_origin = normalize_origin(public) if public else None

    def allowed(origin: str, environ: dict[str, Any]) -> bool:
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST", "")
        try:
            return normalize_origin(origin) in {
                normalize_origin(f"{scheme}://{host}"),
                public_origin,
            }
        except Exception:
            return False

    return allowed


def _init_socketio(app: Flask) -> None:
    from app.config import MAX_REQUEST_BYTES
    from app.realtime.packets import CheckedPacket

    # The extension keeps its options between init_app calls: an app without a queue after
    # one with a queue must not inherit its Redis client manager (several apps in one process).
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config.get("REDIS_URL"),
        channel=app.config.get("SOCKETIO_CHANNEL") or "flask-socketio",
        cors_allowed_origins=_allowed_socket_origin(app),
        max_http_buffer_size=MAX_REQUEST_BYTES,
        serializer=CheckedPacket,  # an event without a string name is dropped while decoding
        ping_interval=25,
        ping_timeout=20,
    )
