"""Business hours as a pure function: open now? next opening? Fixed moments, several zones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.services.business_hours import Opening, opening

NINE_TO_FIVE = [{"open": "09:00", "close": "17:00"}]
WEEKDAYS_ONLY = {day: NINE_TO_FIVE for day in ("mon", "tue", "wed", "thu", "fri")}


def hours(zone: str, days: dict[str, Any]) -> dict[str, Any]:
    return {"timezone": zone, "days": days}


def at(zone: str, *parts: int) -> datetime:
    """A wall-clock moment in ``zone`` (2026-01-05 is a Monday)."""
    return datetime(*parts, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


PARIS = "Europe/Paris"


def test_no_business_hours_means_always_open() -> None:
    assert opening(None, utc(2026, 1, 5, 3, 0)) == Opening(open=True, next_open_at=None)
    assert opening({}, utc(2026, 1, 5, 3, 0)) == Opening(open=True, next_open_at=None)


def test_inside_a_span_is_open() -> None:
    result = opening(hours(PARIS, WEEKDAYS_ONLY), at(PARIS, 2026, 1, 5, 10, 30))
    assert result == Opening(open=True, next_open_at=None)


def test_opening_minute_is_open_and_closing_minute_is_closed() -> None:
    settings = hours(PARIS, WEEKDAYS_ONLY)
    assert opening(settings, at(PARIS, 2026, 1, 5, 9, 0)).open
    closed = opening(settings, at(PARIS, 2026, 1, 5, 17, 0))
    assert not closed.open
    assert closed.next_open_at == at(PARIS, 2026, 1, 6, 9, 0)


def test_before_opening_the_next_opening_is_today() -> None:
    result = opening(hours(PARIS, WEEKDAYS_ONLY), at(PARIS, 2026, 1, 5, 7, 45))
    # Paris is UTC+1 in January: 09:00 there is 08:00 UTC, returned in UTC.
    assert result == Opening(open=False, next_open_at=utc(2026, 1, 5, 8, 0))
    assert result.next_open_at is not None and result.next_open_at.tzinfo == UTC


def test_friday_evening_and_the_weekend_wait_for_monday() -> None:
    settings = hours(PARIS, WEEKDAYS_ONLY)
    monday = at(PARIS, 2026, 1, 12, 9, 0)
    assert opening(settings, at(PARIS, 2026, 1, 9, 18, 0)).next_open_at == monday  # Friday
    assert opening(settings, at(PARIS, 2026, 1, 10, 12, 0)).next_open_at == monday  # Saturday
    assert opening(settings, at(PARIS, 2026, 1, 11, 23, 59)).next_open_at == monday  # Sunday


def test_a_lunch_break_between_two_spans() -> None:
    split = [{"open": "13:00", "close": "17:00"}, {"open": "09:00", "close": "12:00"}]
    settings = hours(PARIS, {"mon": split})
    assert opening(settings, at(PARIS, 2026, 1, 5, 11, 59)).open
    lunch = opening(settings, at(PARIS, 2026, 1, 5, 12, 30))
    assert lunch == Opening(open=False, next_open_at=at(PARIS, 2026, 1, 5, 13, 0))
    assert opening(settings, at(PARIS, 2026, 1, 5, 16, 0)).open


def test_the_sites_day_counts_not_the_utc_day() -> None:
    # Friday 20:00 in New York is already Saturday 01:00 UTC: still Friday's late shift.
    late = hours("America/New_York", {"fri": [{"open": "12:00", "close": "21:00"}]})
    assert opening(late, utc(2026, 1, 10, 1, 0)).open
    # Sunday 23:30 UTC is Monday 08:30 in Tokyo: closed until 09:00 JST (00:00 UTC).
    tokyo = hours("Asia/Tokyo", WEEKDAYS_ONLY)
    result = opening(tokyo, utc(2026, 1, 11, 23, 30))
    assert result == Opening(open=False, next_open_at=utc(2026, 1, 12, 0, 0))


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    moment = utc(2026, 1, 5, 15, 0)  # Monday: 16:00 in Paris, 10:00 in New York, 00:00 Tokyo
    assert opening(hours(PARIS, WEEKDAYS_ONLY), moment).open
    assert opening(hours("America/New_York", WEEKDAYS_ONLY), moment).open
    tokyo = opening(hours("Asia/Tokyo", WEEKDAYS_ONLY), moment)
    assert tokyo == Opening(open=False, next_open_at=utc(2026, 1, 6, 0, 0))


def test_a_half_hour_zone() -> None:
    india = hours("Asia/Kolkata", WEEKDAYS_ONLY)  # UTC+05:30
    assert opening(india, utc(2026, 1, 5, 3, 30)).open  # 09:00 IST
    assert not opening(india, utc(2026, 1, 5, 3, 29)).open


def test_one_day_a_week_just_after_closing_opens_a_week_later() -> None:
    settings = hours(PARIS, {"wed": NINE_TO_FIVE})
    result = opening(settings, at(PARIS, 2026, 1, 7, 17, 0))  # Wednesday, closing time
    assert result.next_open_at == at(PARIS, 2026, 1, 14, 9, 0)


def test_no_opening_days_is_always_closed_with_no_next_opening() -> None:
    assert opening(hours(PARIS, {}), utc(2026, 1, 5, 12, 0)) == Opening(False, None)
    assert opening(hours(PARIS, {"mon": []}), utc(2026, 1, 5, 12, 0)) == Opening(False, None)


def test_next_opening_across_the_spring_daylight_saving_change() -> None:
    # Paris moves to UTC+2 on Sunday 2026-03-29: Monday's 09:00 is 07:00 UTC, Friday's 08:00.
    settings = hours(PARIS, WEEKDAYS_ONLY)
    friday = opening(settings, at(PARIS, 2026, 3, 27, 8, 0))
    assert friday.next_open_at == utc(2026, 3, 27, 8, 0)
    weekend = opening(settings, at(PARIS, 2026, 3, 27, 18, 0))
    assert weekend.next_open_at == utc(2026, 3, 30, 7, 0)


def test_an_opening_time_inside_the_skipped_hour_moves_forward() -> None:
    # 02:30 does not exist in Paris on 2026-03-29; it resolves to 03:30 CEST (01:30 UTC).
    settings = hours(PARIS, {"sun": [{"open": "02:30", "close": "06:00"}]})
    result = opening(settings, at(PARIS, 2026, 3, 29, 1, 0))
    assert result.next_open_at == utc(2026, 3, 29, 1, 30)
    assert opening(settings, utc(2026, 3, 29, 2, 0)).open  # 04:00 CEST


def test_autumn_change_keeps_the_wall_clock_opening() -> None:
    # Clocks go back on Sunday 2026-10-25: Monday's 09:00 is 08:00 UTC again.
    settings = hours(PARIS, WEEKDAYS_ONLY)
    result = opening(settings, at(PARIS, 2026, 10, 23, 20, 0))
    assert result.next_open_at == utc(2026, 10, 26, 8, 0)


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_every_moment_of_a_week_is_either_open_or_before_a_later_opening(zone: str) -> None:
    settings = hours(zone, WEEKDAYS_ONLY)
    start = utc(2026, 1, 5, 0, 0).timestamp()
    for step in range(0, 7 * 24 * 60, 17):  # every 17 minutes of a week
        moment = datetime.fromtimestamp(start + step * 60, UTC)
        result = opening(settings, moment)
        local = moment.astimezone(ZoneInfo(zone))
        expected_open = local.weekday() < 5 and 9 <= local.hour < 17
        assert result.open == expected_open, moment
        if not result.open:
            assert result.next_open_at is not None and result.next_open_at > moment
            opens = result.next_open_at.astimezone(ZoneInfo(zone))
            assert (opens.hour, opens.minute) == (9, 0) and opens.weekday() < 5


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        opening(hours(PARIS, WEEKDAYS_ONLY), datetime(2026, 1, 5, 10, 0))
