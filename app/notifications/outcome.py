"""What one attempt to deliver gave: delivered, retry later, gone, or failed for good."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

from app.limits import MAX_RETRY_DELAY_S


@dataclass(frozen=True)
class Outcome:
    """``kind`` is ``delivered``, ``retry``, ``gone`` (the target no longer exists) or
    ``failed`` (retrying cannot help)."""

    kind: str
    status_code: int | None = None
    error: str | None = None
    #: Seconds the target asked us to wait (Retry-After), if it did.
    retry_after: float | None = None


def from_status(status: int, retry_after_header: str | None, *, gone_on_404: bool) -> Outcome:
    """Classify an HTTP answer: 2xx delivered; 429 and 5xx retried (honouring
    Retry-After); 404/410 gone for push subscriptions; other 4xx failed."""
    if 200 <= status < 300:
        return Outcome("delivered", status)
    if status == 429 or status >= 500:
        return Outcome("retry", status, f"HTTP {status}", parse_retry_after(retry_after_header))
    if status in (404, 410) and gone_on_404:
        return Outcome("gone", status, f"HTTP {status}")
    return Outcome("failed", status, f"HTTP {status}")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), MAX_RETRY_DELAY_S))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return float(min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_DELAY_S))


def backoff_delay(attempts: int, base: float) -> float:
    """Exponential backoff: ``base``, 2x, 4x ... after the 1st, 2nd, 3rd failed attempt."""
    return float(min(base * (2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY_S))
