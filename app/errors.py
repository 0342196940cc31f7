"""One error type with a code, mapped once to HTTP responses and Socket.IO acks."""

from __future__ import annotations

from typing import Any

#: Contract error code -> HTTP status.
HTTP_STATUS: dict[str, int] = {
    "invalid": 422,
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,
}


class ParleyError(Exception):
    """A failure a client can act on: a contract ``code``, a message, optional field errors."""

    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.fields = fields
        self._status = status

    @property
    def status(self) -> int:
        return self._status or HTTP_STATUS.get(self.code, 400)

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


class Invalid(ParleyError):
    code = "invalid"


class Unauthorized(ParleyError):
    code = "unauthorized"


class Forbidden(ParleyError):
    code = "forbidden"


class NotFound(ParleyError):
    code = "not_found"


class Conflict(ParleyError):
    code = "conflict"


class TooLarge(ParleyError):
    code = "too_large"


class RateLimited(ParleyError):
    code = "rate_limited"


class Unavailable(ParleyError):
    code = "unavailable"


def malformed_request(message: str) -> Invalid:
    """A syntactically broken request (bad JSON, wrong content type): ``invalid`` with HTTP 400."""
    return Invalid(message, status=400)
