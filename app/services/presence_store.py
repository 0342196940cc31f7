"""Who is online: the read side used when building views (filled in by the realtime layer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class PresenceReader(Protocol):
    def statuses(self, subject_type: str, ids: Iterable[str]) -> dict[str, str]: ...


class _NobodyOnline:
    def statuses(self, subject_type: str, ids: Iterable[str]) -> dict[str, str]:
        return {i: "offline" for i in ids}


_reader: PresenceReader = _NobodyOnline()


def set_presence_reader(reader: PresenceReader) -> None:
    """Install the presence backend (Redis or in-process)."""
    global _reader
    _reader = reader


def statuses(subject_type: str, ids: Iterable[str]) -> dict[str, str]:
    """``{id: "online"|"away"|"offline"}`` for the given subjects."""
    ids = list(ids)
    if not ids:
        return {}
    return _reader.statuses(subject_type, ids)
