"""UTC time helpers; every timestamp Parley stores and returns is UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, truncated to milliseconds."""
    now = datetime.now(UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime (as SQLite returns) as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def isoformat_ms(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``: ``2026-11-29T01:55:22.123Z``."""
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
