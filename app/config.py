"""Configuration: the only module that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

ASYNC_MODES = ("eventlet", "gevent", "threading")

#: Largest request body the app accepts (REST and Socket.IO polling/WebSocket frames).
MAX_REQUEST_BYTES = 256 * 1024


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str) -> bool:
    return (_env(name, "") or "").lower() in ("1", "true", "yes")


def async_mode_from_env() -> str:
    """The Socket.IO async mode chosen by ``ASYNC_MODE`` (eventlet by default)."""
    mode = (_env("ASYNC_MODE", "eventlet") or "eventlet").lower()
    if mode not in ASYNC_MODES:
        raise ValueError(f"ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, not {mode!r}")
    return mode


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the app configuration from the environment, then apply ``overrides``."""
    try:
        from dotenv import load_dotenv

        load_dotenv(override=False)
    except ImportError:  # pragma: no cover - python-dotenv is in requirements
        pass
    config: dict[str, Any] = {
        "SECRET_KEY": _env("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL"),
        "REDIS_URL": _env("REDIS_URL"),
        "PUBLIC_URL": _env("PUBLIC_URL"),
        #: The port ``python wsgi.py`` listens on; local URLs the CLI prints use it too.
        "PORT": _env("PORT", "5000"),
        #: The demo host page's port (app/web/demo_host.py): unset means PORT + 1 (off with
        #: PUBLIC_URL), 0 is off.
        "DEMO_PORT": _env("DEMO_PORT"),
        "PARLEY_ENCRYPTION_KEYS": _env("PARLEY_ENCRYPTION_KEYS"),
        "VAPID_PRIVATE_KEY": _env("VAPID_PRIVATE_KEY"),
        "VAPID_PUBLIC_KEY": _env("VAPID_PUBLIC_KEY"),
        "VAPID_SUBJECT": _env("VAPID_SUBJECT", "mailto:admin@localhost"),
        "ASYNC_MODE": async_mode_from_env(),
        # Tuning (seconds): presence window and sweep period; the Socket.IO queue channel.
        "PRESENCE_TTL_S": float(_env("PRESENCE_TTL_S", "30") or 30),
        "PRESENCE_SWEEP_S": float(_env("PRESENCE_SWEEP_S", "5") or 5),
        "SOCKET_REVALIDATE_S": float(_env("SOCKET_REVALIDATE_S", "30") or 30),
        "MAX_INFLIGHT_SENDS": int(_env("MAX_INFLIGHT_SENDS", "64") or 64),
        # Group commit of concurrent sends on PostgreSQL (app/services/message_writer.py);
        # GROUP_COMMIT=0 stores each message in its own transaction (for comparison).
        "GROUP_COMMIT": _env("GROUP_COMMIT", "1") not in ("0", "false", "no"),
        "SOCKETIO_CHANNEL": _env("SOCKETIO_CHANNEL", "flask-socketio"),
        # Read cache of sites and presence summaries (app/services/cache.py): Redis with
        # REDIS_URL, in-process otherwise; CACHE=0 reads everything from the database.
        "CACHE_ENABLED": _env("CACHE", "1") not in ("0", "false", "no"),
        # Notifications (app/jobs, app/notifications): outgoing requests to loopback or
        # private addresses are refused unless allowed (local development and tests).
        "WEBHOOK_ALLOW_PRIVATE": _flag("WEBHOOK_ALLOW_PRIVATE"),
        "PUSH_ALLOW_PRIVATE": _flag("PUSH_ALLOW_PRIVATE"),
        #: One push per ticket and recipient per this many seconds (later ones are counted).
        "NOTIFY_COLLAPSE_S": float(_env("NOTIFY_COLLAPSE_S", "30") or 30),
        #: First retry delay of a failed delivery; doubles per attempt.
        "DELIVERY_RETRY_BASE_S": float(_env("DELIVERY_RETRY_BASE_S", "5") or 5),
        #: "An agent replied" e-mails to a visitor: at most one per ticket per this many s.
        "EMAIL_COLLAPSE_S": float(_env("EMAIL_COLLAPSE_S", "300") or 300),
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": int(_env("SMTP_PORT", "25") or 25),
        "SMTP_USERNAME": _env("SMTP_USERNAME"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS"),
        "MAIL_FROM": _env("MAIL_FROM", "Parley <parley@localhost>"),
        # OpenID Connect single sign-on for agents (app/auth/oidc.py): on when all three set.
        "OIDC_ISSUER": _env("OIDC_ISSUER"),
        "OIDC_CLIENT_ID": _env("OIDC_CLIENT_ID"),
        "OIDC_CLIENT_SECRET": _env("OIDC_CLIENT_SECRET"),
        "OIDC_PROVIDER_NAME": _env("OIDC_PROVIDER_NAME", "Single sign-on"),
        #: Routing of a workspace that never chose (auto or manual; app/services/routing.py).
        "ROUTING_DEFAULT_MODE": _env("ROUTING_DEFAULT_MODE", "auto"),
        # Rate limits (app/limits.py): RATE_LIMITS=0 turns them off; each named limit may be
        # set by a variable of its own name (RATE_LIMIT_API="100 per minute", ...).
        "RATE_LIMITS_ENABLED": _env("RATE_LIMITS", "1") not in ("0", "false", "no"),
        #: Where rate-limit counters live in Redis (tests isolate themselves with their own).
        "RATE_LIMIT_KEY_PREFIX": _env("RATE_LIMIT_KEY_PREFIX", "parley:rl"),
        **_rate_limit_settings(),
        "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        #: Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (TLS
        #: ends there; app/web/cookies.py). 0: the headers are ignored.
        "TRUSTED_PROXIES": int(_env("TRUSTED_PROXIES", "0") or 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "parley_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "TESTING": False,
    }
    secure = _env("SESSION_COOKIE_SECURE")
    if secure is not None:
        config["SESSION_COOKIE_SECURE"] = secure.lower() in ("1", "true", "yes")
    elif (config["PUBLIC_URL"] or "").startswith("https://"):
        config["SESSION_COOKIE_SECURE"] = True
    if overrides:
        config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
        config.get("SQLALCHEMY_DATABASE_URI")
    )
    return config


def _rate_limit_settings() -> dict[str, Any]:
    """Each named rate limit: its default from app/limits.py, or the variable of its name."""
    from app import limits

    settings: dict[str, Any] = {}
    for name in limits.RATE_LIMIT_SETTINGS:
        default = getattr(limits, name)
        value = _env(name)
        settings[name] = default if value is None else type(default)(value)
    return settings


def normalize_database_url(url: str | None) -> str | None:
    """Pin PostgreSQL URLs to psycopg2, the driver eventlet and gevent can make cooperative.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3, which is not installed.
    """
    if not url:
        return url
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url
