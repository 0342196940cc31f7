"""Per-process cache of built indexes, one per site, keyed by the knowledge base's version.

The version is read from the database on every use (entry count and newest ``updated_at``),
so a change made through another process is seen at once: the stale index is rebuilt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from app.bot.index import KbEntry, KnowledgeIndex

_lock = threading.Lock()
_indexes: dict[str, tuple[Hashable, KnowledgeIndex]] = {}
#: Sites whose index stays cached in one process, at most (least recently built go first).
MAX_CACHED_SITES = 200


def index_for(
    site_id: str, version: Hashable, load_entries: Callable[[], list[KbEntry]]
) -> KnowledgeIndex:
    """The site's index for ``version``, built from ``load_entries()`` when not cached."""
    cached = _indexes.get(site_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    index = KnowledgeIndex(load_entries())
    with _lock:
        _indexes.pop(site_id, None)
        _indexes[site_id] = (version, index)
        while len(_indexes) > MAX_CACHED_SITES:
            _indexes.pop(next(iter(_indexes)))
    return index


def forget(site_id: str) -> None:
    """Drop a site's index (its entries changed in this process)."""
    with _lock:
        _indexes.pop(site_id, None)
