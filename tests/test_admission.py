"""The per-process admission limit on sends (overload is refused, not queued)."""

from __future__ import annotations

from app.realtime.runtime import Admission


def test_sends_beyond_the_limit_are_refused_until_one_finishes() -> None:
    gate = Admission(2)
    assert gate.try_enter() and gate.try_enter()
    assert gate.try_enter() is False
    gate.leave()
    assert gate.try_enter() is True
    assert gate.inflight == 2
