"""Presence by heartbeats: who is online, away or offline, across tabs and processes.

Each connection heartbeats every 15 s. A subject (an agent or a visitor) is online while any
of its connections heartbeated within ``ttl`` seconds (30 by default) with status online,
away while its live connections are all away (or, for agents, while they chose away), and
offline otherwise. A clean close of the last connection announces offline at once; a sweep
every few seconds announces subjects whose heartbeats stopped (a crashed tab or process).

Two stores share one interface: Redis (with ``REDIS_URL``; right across processes) and an
in-process one (embedded mode). Each change is announced once, guarded by an atomic
"last announced" value, so several processes never announce the same change twice.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from app.lib.timeutil import isoformat_ms, utcnow

DEFAULT_TTL_S = 30.0
DEFAULT_SWEEP_S = 5.0
STATUSES = ("online", "away")


@dataclass(frozen=True)
class Subject:
    """Whose presence: ``type`` agent or visitor, its id, and where to announce it."""

    type: str
    id: str
    workspace_id: str
    site_id: str | None = None

    @property
    def key(self) -> str:
        return f"{self.type}:{self.id}"

    def encode(self) -> str:
        return json.dumps([self.type, self.id, self.workspace_id, self.site_id])

    @staticmethod
    def decode(raw: str | bytes) -> Subject:
        kind, sid, ws, site = json.loads(raw)
        return Subject(kind, sid, ws, site)


class PresenceStore(Protocol):
    ttl: float

    def beat(self, subject: Subject, sid: str, status: str, now: float) -> None: ...
    def drop(self, subject: Subject, sid: str) -> None: ...
    def live(self, subject_type: str, subject_id: str, now: float) -> list[str]: ...
    def stale_subjects(self, now: float) -> list[Subject]: ...
    def forget(self, subject: Subject) -> bool: ...
    def swap_announced(self, subject: Subject, status: str) -> str | None: ...
    def last_seen(self, subject_type: str, subject_id: str) -> float | None: ...
    def set_chosen(self, subject_key: str, value: str) -> None: ...
    def chosen(self, subject_key: str) -> str | None: ...
    def epoch(self) -> str: ...


class MemoryStore:
    """Presence in this process only (embedded mode)."""

    def __init__(self, ttl: float = DEFAULT_TTL_S) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._conns: dict[str, dict[str, tuple[float, str]]] = {}
        self._subjects: dict[str, tuple[Subject, float]] = {}
        self._announced: dict[str, str] = {}
        self._seen: dict[str, float] = {}
        self._chosen: dict[str, str] = {}

    def beat(self, subject: Subject, sid: str, status: str, now: float) -> None:
        with self._lock:
            self._conns.setdefault(subject.key, {})[sid] = (now, status)
            self._subjects[subject.key] = (subject, now)
            self._seen[subject.key] = now

    def drop(self, subject: Subject, sid: str) -> None:
        with self._lock:
            self._conns.get(subject.key, {}).pop(sid, None)

    def live(self, subject_type: str, subject_id: str, now: float) -> list[str]:
        with self._lock:
            conns = self._conns.get(f"{subject_type}:{subject_id}", {})
            return [status for ts, status in conns.values() if ts > now - self.ttl]

    def stale_subjects(self, now: float) -> list[Subject]:
        with self._lock:
            result = []
            for key, (subject, _) in list(self._subjects.items()):
                conns = self._conns.get(key, {})
                for sid, (ts, _status) in list(conns.items()):
                    if ts <= now - self.ttl:
                        del conns[sid]
                if not conns:
                    result.append(subject)
            return result

    def forget(self, subject: Subject) -> bool:
        with self._lock:
            return self._subjects.pop(subject.key, None) is not None

    def swap_announced(self, subject: Subject, status: str) -> str | None:
        with self._lock:
            previous = self._announced.get(subject.key)
            self._announced[subject.key] = status
            return previous

    def last_seen(self, subject_type: str, subject_id: str) -> float | None:
        with self._lock:
            return self._seen.get(f"{subject_type}:{subject_id}")

    def set_chosen(self, subject_key: str, value: str) -> None:
        with self._lock:
            self._chosen[subject_key] = value

    def chosen(self, subject_key: str) -> str | None:
        with self._lock:
            return self._chosen.get(subject_key)

    def epoch(self) -> str:
        return "memory"  # lives as long as the process


class RedisStore:
    """Presence in Redis: one sorted set of connection heartbeats per subject."""

    PREFIX = "parley:presence"
    KEY_TTL_S = 24 * 3600

    def __init__(self, client: Any, ttl: float = DEFAULT_TTL_S) -> None:
        self.client = client
        self.ttl = ttl

    def _k(self, *parts: str) -> str:
        return ":".join((self.PREFIX, *parts))

    def beat(self, subject: Subject, sid: str, status: str, now: float) -> None:
        conns, statuses = self._k("conns", subject.key), self._k("status", subject.key)
        pipe = self.client.pipeline()
        pipe.zadd(conns, {sid: now})
        pipe.hset(statuses, sid, status)
        pipe.zadd(self._k("subjects"), {subject.encode(): now})
        pipe.set(self._k("seen", subject.key), now, ex=self.KEY_TTL_S * 30)
        pipe.expire(conns, self.KEY_TTL_S)
        pipe.expire(statuses, self.KEY_TTL_S)
        pipe.execute()

    def drop(self, subject: Subject, sid: str) -> None:
        pipe = self.client.pipeline()
        pipe.zrem(self._k("conns", subject.key), sid)
        pipe.hdel(self._k("status", subject.key), sid)
        pipe.execute()

    def live(self, subject_type: str, subject_id: str, now: float) -> list[str]:
        key = f"{subject_type}:{subject_id}"
        sids = self.client.zrangebyscore(self._k("conns", key), f"({now - self.ttl}", "+inf")
        if not sids:
            return []
        values = self.client.hmget(self._k("status", key), sids)
        return [(v.decode() if isinstance(v, bytes) else v) or "online" for v in values]

    def stale_subjects(self, now: float) -> list[Subject]:
        raw = self.client.zrangebyscore(self._k("subjects"), "-inf", now - self.ttl)
        result = []
        for item in raw:
            subject = Subject.decode(item)
            conns = self._k("conns", subject.key)
            self.client.zremrangebyscore(conns, "-inf", now - self.ttl)
            if self.client.zcard(conns) == 0:
                result.append(subject)
        return result

    def forget(self, subject: Subject) -> bool:
        return bool(self.client.zrem(self._k("subjects"), subject.encode()))

    def swap_announced(self, subject: Subject, status: str) -> str | None:
        previous = self.client.set(
            self._k("announced", subject.key), status, get=True, ex=self.KEY_TTL_S
        )
        return previous.decode() if isinstance(previous, bytes) else previous

    def last_seen(self, subject_type: str, subject_id: str) -> float | None:
        value = self.client.get(self._k("seen", f"{subject_type}:{subject_id}"))
        return float(value) if value is not None else None

    def set_chosen(self, subject_key: str, value: str) -> None:
        self.client.set(self._k("chosen", subject_key), value, ex=self.KEY_TTL_S)

    def chosen(self, subject_key: str) -> str | None:
        value = self.client.get(self._k("chosen", subject_key))
        return value.decode() if isinstance(value, bytes) else value

    def epoch(self) -> str:
        """The Redis server's run id: a new one after a restart or failover, which may have
        lost every key."""
        return str(self.client.info("server")["run_id"])


class Presence:
    """Computes statuses from a store and announces changes through ``announce``."""

    def __init__(self, store: PresenceStore, announce: Any) -> None:
        self.store = store
        self.announce = announce

    def heartbeat(self, subject: Subject, sid: str, status: str = "online") -> str:
        """Record a connection's heartbeat; announce if the subject's status changed."""
        self.store.beat(subject, sid, status if status in STATUSES else "online", time.time())
        return self._settle(subject)

    def disconnect(self, subject: Subject, sid: str) -> str:
        """A connection closed cleanly: announce offline at once if it was the last."""
        self.store.drop(subject, sid)
        return self._settle(subject)

    def choose(self, subject: Subject, availability: str) -> str:
        """An agent chose online or away (the console's toggle); announce the result."""
        self.store.set_chosen(subject.key, availability)
        return self._settle(subject)

    def remember_choice(self, subject: Subject, availability: str) -> None:
        """Seed the stored choice (from the database) without announcing anything."""
        self.store.set_chosen(subject.key, availability)

    def restore(self, beats: list[tuple[Subject, str, str, float]], chosen: dict[str, str]) -> int:
        """Put back connections' last heartbeats ``(subject, sid, status, at)`` and agents'
        choices into a store that lost them, silently; returns how many were still live."""
        now = time.time()
        live = [b for b in beats if b[3] > now - self.store.ttl]
        for key, value in chosen.items():
            self.store.set_chosen(key, value)
        for subject, sid, status, at in live:
            self.store.beat(subject, sid, status, at)
        for subject in {b[0] for b in live}:
            self.store.swap_announced(subject, self.status(subject.type, subject.id))
        return len(live)

    def sweep(self) -> int:
        """Announce offline for subjects whose heartbeats stopped; returns how many."""
        count = 0
        for subject in self.store.stale_subjects(time.time()):
            if self.store.forget(subject):
                if self.store.swap_announced(subject, "offline") != "offline":
                    self.announce(subject, "offline", self._last_seen(subject))
                    count += 1
        return count

    def status(self, subject_type: str, subject_id: str) -> str:
        live = self.store.live(subject_type, subject_id, time.time())
        chosen = self.store.chosen(f"{subject_type}:{subject_id}") if live else None
        return _combine(live, chosen)

    def statuses(self, subject_type: str, ids: Iterable[str]) -> dict[str, str]:
        return {i: self.status(subject_type, i) for i in ids}

    def _settle(self, subject: Subject) -> str:
        status = self.status(subject.type, subject.id)
        if self.store.swap_announced(subject, status) != status:
            self.announce(subject, status, self._last_seen(subject))
        return status

    def _last_seen(self, subject: Subject) -> str:
        ts = self.store.last_seen(subject.type, subject.id)
        from datetime import UTC, datetime

        return isoformat_ms(datetime.fromtimestamp(ts, UTC)) if ts else isoformat_ms(utcnow())


def _combine(live: list[str], chosen: str | None) -> str:
    if not live:
        return "offline"
    if chosen == "away" or all(s == "away" for s in live):
        return "away"
    return "online"
