"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from app.api import EndpointDoc
from app.extensions import db
from app.schemas.ops import HealthOut, ReadyOut

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """The process is up."""
    return jsonify({"status": "ok"}), 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The process can serve: its database (and Redis, where configured) answer."""
    checks = {"database": _database_ok()}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _redis_ok(current_app.config["REDIS_URL"])
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {k: "ok" if v else "down" for k, v in checks.items()},
    }
    if not ready:
        body["error"] = {"code": "unavailable", "message": "A dependency is down."}
    return jsonify(body), 200 if ready else 503


healthz.openapi = EndpointDoc(  # type: ignore[attr-defined]
    "Liveness: the process is up", "ops", auth="none", response=HealthOut
)
readyz.openapi = EndpointDoc(  # type: ignore[attr-defined]
    "Readiness: the database (and Redis, where configured) answer",
    "ops",
    auth="none",
    response=ReadyOut,
    errors=(503,),
)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return True
    except Exception:
        db.session.rollback()
        log.warning("readiness: database unreachable")
        return False


def _redis_ok(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except Exception:
        log.warning("readiness: redis unreachable")
        return False
