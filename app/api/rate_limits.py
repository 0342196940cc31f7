"""REST rate limits (flask-limiter), and the 429 every limit answers with.

Limits are keyed by the caller: the authenticated agent or visitor, or the client address
when there is none (``request.remote_addr``, which ``TRUSTED_PROXIES`` lets Werkzeug's
ProxyFix take from X-Forwarded-For; app/web/cookies.py). Counters are in Redis when
``REDIS_URL`` is set, in this process otherwise; a Redis outage lets requests through.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded, RequestLimit

from app.errors import ParleyError
from app.services.rate_limits import EXTENSION, RateLimits, Throttled

log = logging.getLogger(__name__)

_WRITES = ("POST", "PUT", "PATCH", "DELETE")


def client_address() -> str:
    return request.remote_addr or "unknown"


def init_rate_limits(app: Flask) -> None:
    """Create this app's limits; with ``RATE_LIMITS_ENABLED`` install the REST ones."""
    limits = RateLimits(app.config)
    app.extensions[EXTENSION] = limits
    app.register_error_handler(Throttled, _throttled)
    app.register_error_handler(RateLimitExceeded, _exceeded)
    if not limits.enabled:
        return
    config = app.config
    limiter = Limiter(
        key_func=_caller_key,
        application_limits=[
            ApplicationLimit(
                str(config["RATE_LIMIT_API"]), scope="api", exempt_when=lambda: not _is_api()
            ),
            ApplicationLimit(
                str(config["RATE_LIMIT_API_WRITES"]),
                scope="api-writes",
                exempt_when=lambda: not _is_api() or request.method not in _WRITES,
            ),
            ApplicationLimit(
                str(config["RATE_LIMIT_WIDGET_SESSION"]),
                key_function=_address_key,
                scope="widget-session",
                exempt_when=lambda: request.endpoint != "api.widget_session",
            ),
            ApplicationLimit(
                str(config["RATE_LIMIT_SIGNUP"]),
                key_function=_address_key,
                scope="signup",
                exempt_when=lambda: request.endpoint != "api.signup",
            ),
        ],
        storage_uri=limits.storage_uri,
        strategy="moving-window",  # exact: N in any window, never N+1
        key_prefix=limits.prefix,
        swallow_errors=True,  # Redis down: serve, do not fail every request
        on_breach=_breach_response,
        headers_enabled=False,
    )
    limiter.init_app(app)


def _is_api() -> bool:
    return request.blueprint == "api"


def _address_key() -> str:
    return f"ip:{client_address()}"


def _caller_key() -> str:
    """The authenticated agent or visitor; the client address when there is none."""
    from app.auth.web import current_principal

    try:
        principal = current_principal(visitors=True)
    except ParleyError:
        return _address_key()
    return f"{principal.kind}:{principal.id}"


def _body(message: str, retry_after: int) -> Response:
    response = jsonify(
        {"error": {"code": "rate_limited", "message": message, "retry_after": retry_after}}
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def _breach_response(limit: RequestLimit) -> Response:
    retry_after = max(1, math.ceil(limit.reset_at - time.time()))
    return _body(f"Too many requests ({limit.limit}); retry in {retry_after} s.", retry_after)


def _exceeded(error: RateLimitExceeded) -> Any:
    if error.response is not None:
        return error.response
    return _body("Too many requests.", 60)  # pragma: no cover - on_breach always answers


def _throttled(error: Throttled) -> Response:
    return _body(error.message, error.retry_after)
