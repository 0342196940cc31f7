"""Business hours: is a site open at a moment, and when does it open next?

Pure functions of the site's ``business_hours`` setting and a moment; nothing here reads the
clock or the database, so tests pass fixed datetimes.

The setting (validated by ``app.schemas.sites.BusinessHours``) is
``{"timezone": "Europe/Paris", "days": {"mon": [{"open": "09:00", "close": "17:00"}], ...}}``:
wall-clock spans in the site's time zone, ``open`` inclusive and ``close`` exclusive. A day
that is missing or has no spans is closed. ``None`` (no business hours) means always open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead the next opening is looked for: a whole week and the same day after it.
LOOKAHEAD_DAYS = 8


@dataclass(frozen=True)
class Opening:
    """Whether the site is open at the moment asked, and when it opens next if it is not."""

    open: bool
    #: The next opening (UTC) when closed; ``None`` when open or when it never opens.
    next_open_at: datetime | None


def opening(business_hours: dict[str, Any] | None, now: datetime) -> Opening:
    """The site's state at ``now`` (an aware datetime) under ``business_hours``."""
    if not business_hours:
        return Opening(open=True, next_open_at=None)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(str(business_hours["timezone"]))
    days: dict[str, list[dict[str, str]]] = business_hours.get("days") or {}
    now = now.astimezone(UTC)  # compare instants, never wall-clock times of one zone
    today = now.astimezone(zone).date()
    # A span of yesterday cannot reach into today (close is before midnight), so today's
    # spans decide whether it is open now.
    for start, end in _spans(days, today, zone):
        if start <= now < end:
            return Opening(open=True, next_open_at=None)
    for offset in range(LOOKAHEAD_DAYS):
        for start, _end in _spans(days, today + timedelta(days=offset), zone):
            if start > now:
                return Opening(open=False, next_open_at=start)
    return Opening(open=False, next_open_at=None)


def _spans(
    days: dict[str, list[dict[str, str]]], day: date, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The day's opening spans as UTC datetimes, earliest first.

    A wall-clock time that does not exist on that day (skipped when clocks go forward)
    resolves the way ``zoneinfo`` does: shifted forward by the gap (02:30 becomes 03:30);
    one that happens twice (clocks go back) means its first occurrence.
    """
    spans = []
    for span in days.get(WEEKDAYS[day.weekday()]) or []:
        start = _at(day, span["open"], zone)
        end = _at(day, span["close"], zone)
        if end > start:
            spans.append((start, end))
    return sorted(spans)


def _at(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)
