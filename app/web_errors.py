"""The one mapping of errors to the contract's JSON error bodies."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.errors import ParleyError, Unavailable
from app.extensions import db

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "invalid",
    409: "conflict",
    413: "too_large",
    415: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(error: ParleyError) -> tuple[Response, int]:
    return jsonify(error.to_dict()), error.status


def register(app: Flask) -> None:
    @app.errorhandler(ParleyError)
    def _parley(error: ParleyError) -> tuple[Response, int]:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        code = _HTTP_CODES.get(status, "invalid")
        message = {
            404: "Not found.",
            405: "Method not allowed.",
            413: "The request body is too large.",
        }.get(status, error.description or "")
        response = jsonify({"error": {"code": code, "message": message}})
        # Keep what the exception says beyond its HTML body, e.g. a 405's Allow header.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(OperationalError)
    def _db_down(error: OperationalError) -> tuple[Response, int]:
        db.session.rollback()
        log.warning("database unavailable: %s", type(error.orig).__name__)
        return error_response(Unavailable("The database is unavailable; retry shortly."))

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(error: PoolTimeout) -> tuple[Response, int]:
        log.warning("database pool exhausted")
        return error_response(Unavailable("The service is busy; retry shortly."))

    @app.errorhandler(DBAPIError)
    def _db_error(error: DBAPIError) -> tuple[Response, int]:
        db.session.rollback()
        if error.connection_invalidated:
            return error_response(Unavailable("The database is unavailable; retry shortly."))
        log.exception("database error")
        return jsonify({"error": {"code": "internal", "message": "Internal error."}}), 500

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return jsonify({"error": {"code": "internal", "message": "Internal error."}}), 500
