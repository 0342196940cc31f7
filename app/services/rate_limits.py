"""Rate limits that are not per REST route: log-in failures, Socket.IO events and connections.

Counters live in Redis when ``REDIS_URL`` is set (so every process sees the same ones) and in
this process otherwise. A Redis outage opens the limits rather than failing the request: a
limit protects the service, it must not take it down. The values are app config keys named
in app/limits.py; ``RATE_LIMITS_ENABLED`` false turns every check into a yes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flask import current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.errors import RateLimited

log = logging.getLogger(__name__)

#: A Redis failure is logged at most this often (seconds), not on every event.
_LOG_EVERY_S = 60.0
#: In-process buckets kept before the refilled ones are forgotten.
_SWEEP_ABOVE = 10_000


class Throttled(RateLimited):
    """``rate_limited`` with the seconds after which a retry may succeed (Retry-After)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


class _Warner:
    """Logs a failing backend once per ``_LOG_EVERY_S``, so a Redis outage does not flood."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, what: str) -> None:
        now = time.monotonic()
        if now - self._last >= _LOG_EVERY_S:
            self._last = now
            log.warning("rate limit store unavailable (%s); letting requests through", what)


_warn = _Warner()
#: Where create_app keeps the app's RateLimits (app/api/rate_limits.py: init_rate_limits).
EXTENSION = "parley_rate_limits"


def rate_limits() -> RateLimits:
    """The current app's limits (log-in failures, Socket.IO events and connections)."""
    limits: RateLimits = current_app.extensions[EXTENSION]
    return limits


# -- token buckets ---------------------------------------------------------------------------


class Buckets(Protocol):
    def take(self, key: str, rate: float, burst: int) -> float:
        """Take one token from ``key``'s bucket: 0 if there was one, else seconds to wait."""

    def drop(self, key: str) -> None:
        """Forget ``key``'s bucket."""


class MemoryBuckets:
    """Token buckets in this process."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate: float, burst: int) -> float:
        if len(self._buckets) > _SWEEP_ABOVE:
            self.sweep(rate, burst)
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - at) * rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / rate

    def drop(self, key: str) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    def sweep(self, rate: float, burst: int) -> None:
        """Forget buckets that have refilled (they hold nothing a new one would not)."""
        now = time.monotonic()
        with self._lock:
            full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * rate >= burst]
            for key in full:
                del self._buckets[key]


# One atomic step of a token bucket kept as a hash {t: tokens, ts: microseconds}; Redis's
# own clock, so processes with skewed clocks share one bucket correctly.
_TAKE_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisBuckets:
    """Token buckets in Redis, shared by every process."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_TAKE_LUA)

    def take(self, key: str, rate: float, burst: int) -> float:
        try:
            wait = self._script(keys=[f"{self._prefix}:bucket:{key}"], args=[rate, burst])
        except Exception:
            _warn("socket events")
            return 0.0
        return float(wait)

    def drop(self, key: str) -> None:
        try:
            self._client.delete(f"{self._prefix}:bucket:{key}")
        except Exception:
            _warn("socket events")


# -- connections per address -----------------------------------------------------------------


class ConnectionCap:
    """Open Socket.IO connections per client address in this process, at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._by_sid: dict[str, str] = {}
        self._count: Counter[str] = Counter()
        self._lock = threading.Lock()

    def try_open(self, sid: str, address: str) -> bool:
        """Reserve a place for ``sid``; False when ``address`` already holds ``limit``."""
        with self._lock:
            if sid in self._by_sid:
                return True
            if self._count[address] >= self.limit:
                return False
            self._by_sid[sid] = address
            self._count[address] += 1
            return True

    def close(self, sid: str) -> None:
        with self._lock:
            address = self._by_sid.pop(sid, None)
            if address is None:
                return
            self._count[address] -= 1
            if self._count[address] <= 0:
                del self._count[address]

    def open_from(self, address: str) -> int:
        return self._count.get(address, 0)


# -- the whole set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _EventLimits:
    rate: float
    burst: int
    visitor_rate: float
    visitor_burst: int


class RateLimits:
    """This app's limits beyond REST routes (those are flask-limiter's: app/api/rate_limits)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.enabled = bool(config.get("RATE_LIMITS_ENABLED", True))
        self.prefix = str(config.get("RATE_LIMIT_KEY_PREFIX") or "parley:rl")
        redis_url = config.get("REDIS_URL")
        self.storage_uri = str(redis_url) if redis_url else "memory://"
        self._events = _EventLimits(
            float(config["SOCKET_EVENT_RATE"]),
            int(config["SOCKET_EVENT_BURST"]),
            float(config["SOCKET_VISITOR_EVENT_RATE"]),
            int(config["SOCKET_VISITOR_EVENT_BURST"]),
        )
        self.connections = ConnectionCap(int(config["SOCKET_CONNECTIONS_PER_IP"]))
        self._per_connection = MemoryBuckets()  # a connection lives in one process
        self._per_visitor: MemoryBuckets | RedisBuckets
        if redis_url:
            import redis

            client = redis.Redis.from_url(
                str(redis_url), socket_timeout=2, socket_connect_timeout=2
            )
            self._per_visitor = RedisBuckets(client, self.prefix)
        else:
            self._per_visitor = MemoryBuckets()
        self._email_limit: RateLimitItem = parse(str(config["LOGIN_FAILURES_PER_EMAIL"]))
        self._ip_limit: RateLimitItem = parse(str(config["LOGIN_FAILURES_PER_IP"]))
        self._logins = MovingWindowRateLimiter(storage_from_string(self.storage_uri))

    # -- Socket.IO ---------------------------------------------------------------------------

    def check_event(self, sid: str, visitor_id: str | None) -> None:
        """One event of connection ``sid`` (of visitor ``visitor_id``, if a visitor).

        Raises ``Throttled`` when the connection's or the visitor's bucket is empty.
        """
        if not self.enabled:
            return
        ev = self._events
        wait = self._per_connection.take(f"sid:{sid}", ev.rate, ev.burst)
        if not wait and visitor_id is not None:
            wait = self._per_visitor.take(
                f"visitor:{visitor_id}", ev.visitor_rate, ev.visitor_burst
            )
        if wait:
            raise Throttled("Too many events; slow down and retry shortly.", wait)

    def open_connection(self, sid: str, address: str) -> None:
        """Count a new connection from ``address``; ``Throttled`` when it holds too many."""
        if self.enabled and not self.connections.try_open(sid, address):
            raise Throttled("Too many connections from this address.", 1.0)

    def close_connection(self, sid: str) -> None:
        self.connections.close(sid)
        self._per_connection.drop(f"sid:{sid}")

    # -- log-in ------------------------------------------------------------------------------

    def check_login(self, email: str, address: str) -> None:
        """Refuse a log-in attempt for an e-mail or address with too many recent failures."""
        if not self.enabled:
            return
        for limit, key in self._login_keys(email, address):
            try:
                if self._logins.test(limit, *key):
                    continue
                reset_at, _ = self._logins.get_window_stats(limit, *key)
            except Exception:
                _warn("log-in failures")
                continue
            raise Throttled("Too many failed log-ins; try again later.", reset_at - time.time())

    def login_failed(self, email: str, address: str) -> None:
        if not self.enabled:
            return
        for limit, key in self._login_keys(email, address):
            try:
                self._logins.hit(limit, *key)
            except Exception:
                _warn("log-in failures")

    def login_succeeded(self, email: str) -> None:
        """A right password clears the e-mail's failures (not the address's)."""
        if not self.enabled:
            return
        limit, key = self._login_keys(email, "")[0]
        try:
            self._logins.clear(limit, *key)
        except Exception:
            _warn("log-in failures")

    def _login_keys(self, email: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [
            (self._email_limit, (self.prefix, "login-email", email.strip().lower())),
            (self._ip_limit, (self.prefix, "login-ip", address)),
        ]
