"""Base schema, custom fields and the one ``load`` helper that maps errors to ``invalid``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app.errors import Invalid
from app.lib.ids import looks_like_id
from app.lib.timeutil import isoformat_ms
from app.limits import MAX_JSON_DEPTH

T = TypeVar("T")


class StrictSchema(Schema):
    """Unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = RAISE


def load(schema: Schema, data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate ``data`` with ``schema``; any problem raises ``invalid`` with per-field errors."""
    if not isinstance(data, Mapping):
        raise Invalid("The request body must be a JSON object.")
    if _nested_deeper_than(data, MAX_JSON_DEPTH):
        raise Invalid(f"The payload nests deeper than {MAX_JSON_DEPTH} levels.")
    unstorable = _unstorable_text(data)
    if unstorable:
        raise Invalid("Some fields are invalid.", fields=_json_safe(unstorable))
    try:
        result: dict[str, Any] = schema.load(data, partial=partial)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise Invalid("Some fields are invalid.", fields=_json_safe(messages)) from exc
    return result


def _nested_deeper_than(data: Any, limit: int) -> bool:
    """Whether objects and arrays nest deeper than ``limit`` (iterative: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


#: NUL and lone UTF-16 surrogates: valid in JSON strings, but no database can store them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_text(value: Any) -> Any:
    """Field errors for every string (or key) in ``value`` that cannot be stored, else None."""
    if isinstance(value, str):
        return ["Contains a character that is not allowed."] if _UNSTORABLE.search(value) else None
    if isinstance(value, Mapping):
        found = {}
        for key, item in value.items():
            if isinstance(key, str) and _UNSTORABLE.search(key):
                found["_schema"] = ["A field name contains a character that is not allowed."]
            elif error := _unstorable_text(item):
                found[key] = error
        return found or None
    if isinstance(value, list):
        errors = {i: error for i, item in enumerate(value) if (error := _unstorable_text(item))}
        return errors or None
    return None


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


class Timestamp(fields.Field):  # type: ignore[type-arg]
    """ISO 8601 UTC with milliseconds on dump."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else isoformat_ms(value)


class TrimmedString(fields.String):
    """A string with surrounding white space removed before validation."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip()


class Id(fields.String):
    """An object id: a 26-character opaque string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not looks_like_id(result):
            raise ValidationError("Not a valid id.")
        return result


class StrictInteger(fields.Integer):
    """An integer that refuses booleans and strings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return int(super()._deserialize(value, attr, data, **kwargs))


_HOST_RE = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in canonical form, or ``ValidationError``."""
    if not isinstance(value, str) or len(value) > 300:
        raise ValidationError("Not a valid origin.")
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not a valid origin.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{value!r} is not an origin: use scheme://host[:port].")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError(f"{value!r} is not an origin: no credentials, query or fragment.")
    if parts.path not in ("", "/"):
        raise ValidationError(f"{value!r} is not an origin: it has a path.")
    host = parts.hostname.lower()
    if not (_HOST_RE.match(host) or _IPV4_RE.match(host) or ":" in host):
        raise ValidationError(f"{value!r} has an invalid host name.")
    default_port = 443 if parts.scheme == "https" else 80
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != default_port:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}"


class Origin(fields.String):
    """A web origin, normalised."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return normalize_origin(super()._deserialize(value, attr, data, **kwargs))


class HttpUrl(fields.String):
    """An absolute http(s) URL of bounded length."""

    def __init__(self, max_length: int = 2048, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(max=max_length), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        result = super()._deserialize(value, attr, data, **kwargs).strip()
        parts = urlsplit(result)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError("Not a valid http(s) URL.")
        return result


def dump_datetime(value: datetime | None) -> str | None:
    return None if value is None else isoformat_ms(value)
