"""A small read-through cache for data read far more often than written.

One interface, three backends: Redis when ``REDIS_URL`` is set (shared by every process),
a bounded in-process dictionary otherwise (embedded mode: one process), and none at all
with ``CACHE=0`` (every read goes to the loader, for comparison).

Values are plain JSON data (dumped dicts, never ORM objects; never pickled). Each key has a
version: a cached value is valid only while the version it was loaded under is still the
current one. Writers bump the version after their commit (``forget_after_commit``), so a
reader that loaded the old row just before the commit can never store it as current, and
every process sees the change at its next read. A TTL bounds everything else (a lost bump
while Redis was down). A broken Redis never fails a request: reads fall back to the loader.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.limits import CACHE_MAX_ENTRIES

log = logging.getLogger(__name__)

Loader = Callable[[], Any]

#: How long Redis is left alone after an error before it is tried again.
REDIS_RETRY_S = 5.0
#: Redis answers within this or the read goes to the database.
REDIS_TIMEOUT_S = 0.5
REDIS_PREFIX = "parley:cache"


class Cache(Protocol):
    """Read-through: ``get(key, ttl, load)`` returns the cached value or ``load()``'s."""

    enabled: bool

    def get(self, key: str, ttl: float, load: Loader) -> Any: ...
    def forget(self, *keys: str) -> None: ...


class NoCache:
    """``CACHE=0``: every read is the loader's."""

    enabled = False

    def get(self, key: str, ttl: float, load: Loader) -> Any:
        return load()

    def forget(self, *keys: str) -> None:
        return None


class MemoryCache:
    """This process only: at most ``max_entries`` values, least recently used dropped first."""

    enabled = True

    def __init__(self, max_entries: int = CACHE_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        # key -> (expires at (monotonic), version loaded under, JSON text)
        self._values: OrderedDict[str, tuple[float, int, str]] = OrderedDict()
        self._versions: OrderedDict[str, int] = OrderedDict()
        self._clock = 0

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: str, ttl: float, load: Loader) -> Any:
        now = time.monotonic()
        with self._lock:
            version = self._versions.get(key, 0)
            entry = self._values.get(key)
            if entry is not None and entry[0] > now and entry[1] == version:
                self._values.move_to_end(key)
                return json.loads(entry[2])
        value = load()
        if value is None:
            return None  # unknown things are not cached: creating them needs no bump
        text = json.dumps(value)
        with self._lock:
            if self._versions.get(key, 0) == version:  # no writer bumped it meanwhile
                self._values[key] = (time.monotonic() + ttl, version, text)
                self._values.move_to_end(key)
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
        return json.loads(text)  # the caller gets its own copy, as on a hit

    def forget(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._clock += 1
                self._versions[key] = self._clock
                self._versions.move_to_end(key)
                self._values.pop(key, None)
            while len(self._versions) > self.max_entries:
                # A dropped version reads as 0 again: drop its value too, so no value
                # loaded under an older version can become valid again.
                old, _ = self._versions.popitem(last=False)
                self._values.pop(old, None)


class RedisCache:
    """Shared by all processes: ``<prefix>:val:<key>`` holds ``{"v": version, "d": data}``,
    ``<prefix>:ver:<key>`` the key's version (bumped by writers)."""

    enabled = True

    def __init__(self, client: Any, prefix: str = REDIS_PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self._down_until = 0.0
        self._unsent: set[str] = set()  # bumps that failed, sent again once Redis answers
        self._lock = threading.Lock()

    def get(self, key: str, ttl: float, load: Loader) -> Any:
        if not self._usable():
            return load()
        try:
            raw, version = self.client.mget(self._val(key), self._ver(key))
        except Exception as exc:
            self._failed("read", exc)
            return load()
        current = int(version or 0)
        if raw is not None:
            stored = json.loads(raw)
            if stored.get("v") == current:
                return stored["d"]
        value = load()
        if value is None:
            return None
        try:
            text = json.dumps({"v": current, "d": value})
            self.client.set(self._val(key), text, ex=max(1, int(ttl)))
        except Exception as exc:
            self._failed("write", exc)
        return value

    def forget(self, *keys: str) -> None:
        with self._lock:
            pending = set(keys) | self._unsent
            self._unsent = set()
        if not pending:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key in sorted(pending):
                pipe.incr(self._ver(key))
                pipe.expire(self._ver(key), VERSION_TTL_S)
                pipe.delete(self._val(key))
            pipe.execute()
        except Exception as exc:
            with self._lock:
                self._unsent |= pending
            self._failed("invalidate", exc)

    def _val(self, key: str) -> str:
        return f"{self.prefix}:val:{key}"

    def _ver(self, key: str) -> str:
        return f"{self.prefix}:ver:{key}"

    def _usable(self) -> bool:
        if time.monotonic() < self._down_until:
            return False
        if self._unsent:
            self.forget()  # Redis may be back: deliver the bumps it missed first
            return time.monotonic() >= self._down_until
        return True

    def _failed(self, what: str, exc: Exception) -> None:
        self._down_until = time.monotonic() + REDIS_RETRY_S
        log.warning("cache %s failed, using the database for %.0fs: %s", what, REDIS_RETRY_S, exc)


#: A version outlives every value loaded under it (values live at most a few minutes).
VERSION_TTL_S = 7 * 24 * 3600

_cache: Cache = NoCache()


def init_cache(app: Flask) -> None:
    """Install this process's cache from the configuration (``CACHE_ENABLED``, ``REDIS_URL``)."""
    global _cache
    if not app.config.get("CACHE_ENABLED", True):
        _cache = NoCache()
    elif app.config.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(
            app.config["REDIS_URL"],
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
        )
        _cache = RedisCache(client)
    else:
        _cache = MemoryCache(int(app.config.get("CACHE_MAX_ENTRIES", CACHE_MAX_ENTRIES)))


def set_cache(cache: Cache) -> None:
    """Install a cache (tests: a Redis one without a Redis message queue)."""
    global _cache
    _cache = cache


def cache() -> Cache:
    return _cache


def forget_after_commit(session: Session, *keys: str) -> None:
    """Invalidate ``keys`` once the session's transaction has committed (and, to be safe,
    at once too: a reader between now and the commit re-caches the old row only until the
    bump after the commit)."""
    cache().forget(*keys)

    def bump(_session: Session) -> None:
        cache().forget(*keys)

    event.listen(session, "after_commit", bump, once=True)
