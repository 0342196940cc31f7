"""The process's presence service, as the other services see it (installed at start-up)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from app.services.presence import Subject


class PresenceService(Protocol):
    def statuses(self, subject_type: str, ids: Iterable[str]) -> dict[str, str]: ...
    def choose(self, subject: Subject, availability: str) -> str: ...


class _NobodyOnline:
    """Before start-up installs the real one (nothing is connected then anyway)."""

    def statuses(self, subject_type: str, ids: Iterable[str]) -> dict[str, str]:
        return {i: "offline" for i in ids}

    def choose(self, subject: Subject, availability: str) -> str:
        return "offline"


_service: PresenceService = _NobodyOnline()


def set_presence_reader(service: PresenceService) -> None:
    """Install the presence backend (Redis or in-process)."""
    global _service
    _service = service


def statuses(subject_type: str, ids: Iterable[str]) -> dict[str, str]:
    """``{id: "online"|"away"|"offline"}`` for the given subjects."""
    ids = list(ids)
    if not ids:
        return {}
    return _service.statuses(subject_type, ids)


def choose_availability(agent_id: str, workspace_id: str, availability: str) -> str:
    """An agent set online/away: store it for presence and announce the change."""
    return _service.choose(Subject("agent", agent_id, workspace_id), availability)
