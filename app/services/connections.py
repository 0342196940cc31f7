"""What services may ask of this process's live connections (installed by app/realtime)."""

from __future__ import annotations

from collections.abc import Callable

_closer: Callable[[str], int] | None = None


def set_token_closer(closer: Callable[[str], int] | None) -> None:
    """Install what closes the connections opened with a given token id."""
    global _closer
    _closer = closer


def close_connections_of_token(token_id: str) -> int:
    """Close this process's sockets opened with ``token_id``; others follow within their
    revalidation period. Returns how many were closed here."""
    return _closer(token_id) if _closer is not None else 0
