"""Per-process real-time state: live connections, presence and typing expiry.

Connections are process-local (Socket.IO keeps each on the process that accepted it);
presence lives in Redis when configured so it is right across processes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from app.auth.principal import Principal
from app.events import names, rooms
from app.events.publish import emit_now
from app.extensions import db, socketio
from app.services import connections, presence_store, routing, site_cache
from app.services.presence import (
    DEFAULT_SWEEP_S,
    DEFAULT_TTL_S,
    MemoryStore,
    Presence,
    RedisStore,
    Subject,
)

log = logging.getLogger(__name__)

#: A typing indicator that is not refreshed stops after this many seconds.
TYPING_TTL_S = 6.0
#: How often each process checks that its agents' tokens are still valid.
DEFAULT_REVALIDATE_S = 30.0
#: Sends one process works on at once (about its database pool); more are refused.
DEFAULT_MAX_INFLIGHT_SENDS = 16


@dataclass
class Connection:
    principal: Principal
    subject: Subject
    joined: set[str] = field(default_factory=set)
    #: The last heartbeat (wall clock) and its status: what a restarted Redis gets back.
    beat_at: float = 0.0
    beat_status: str = "online"


class Admission:
    """At most ``limit`` sends in flight in this process; the rest are refused at once.

    Under overload a refusal within milliseconds beats a backlog that makes every message
    seconds late: the client retries later with the same client_id.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._inflight = 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        with self._lock:
            if self._inflight >= self.limit:
                return False
            self._inflight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._inflight -= 1

    @property
    def inflight(self) -> int:
        return self._inflight


@dataclass
class _Typing:
    expires: float
    to: list[str]
    stop: dict[str, Any]
    skip_sid: str | None


class Runtime:
    """What this process knows about its own connections, plus the shared presence."""

    def __init__(
        self,
        presence: Presence,
        sweep_s: float,
        app: Flask | None = None,
        revalidate_s: float = DEFAULT_REVALIDATE_S,
    ) -> None:
        self.app = app
        self.revalidate_s = revalidate_s
        self.sends = Admission(
            int(app.config.get("MAX_INFLIGHT_SENDS", DEFAULT_MAX_INFLIGHT_SENDS))
            if app is not None
            else DEFAULT_MAX_INFLIGHT_SENDS
        )
        self.presence = presence
        self.sweep_s = sweep_s
        self.connections: dict[str, Connection] = {}
        self._typing: dict[tuple[str, str, str], _Typing] = {}
        self._lock = threading.Lock()
        self._loops_started = False
        #: The presence store's identity when last seen (a new one lost our connections).
        self._store_epoch: str | None = None

    def add(self, sid: str, connection: Connection) -> None:
        with self._lock:
            self.connections[sid] = connection
        self._start_loops()

    def get(self, sid: str) -> Connection | None:
        return self.connections.get(sid)

    def remove(self, sid: str) -> Connection | None:
        with self._lock:
            return self.connections.pop(sid, None)

    def heartbeat(self, sid: str, status: str, conn: Connection | None = None) -> str:
        """Record a heartbeat of this process's connection ``sid``; returns the subject's status."""
        conn = conn or self.connections[sid]
        conn.beat_at, conn.beat_status = time.time(), status
        return self.presence.heartbeat(conn.subject, sid, status)

    def sids_of(self, subject_key: str) -> list[str]:
        return [s for s, c in list(self.connections.items()) if c.subject.key == subject_key]

    def typing(
        self,
        key: tuple[str, str, str],
        active: bool,
        to: list[str],
        payload: dict[str, Any],
        skip_sid: str | None,
    ) -> None:
        """Relay a typing change now; remember it so it can expire after ``TYPING_TTL_S``."""
        with self._lock:
            if active:
                stop = {**payload, "typing": False}
                self._typing[key] = _Typing(time.monotonic() + TYPING_TTL_S, to, stop, skip_sid)
            else:
                self._typing.pop(key, None)
        emit_now(names.TYPING, payload, to, skip_sid=skip_sid)

    def stop_typing_of(self, sender_type: str, sender_id: str) -> None:
        """A sender's last connection left: end its typing indicators now."""
        with self._lock:
            ended = [
                (k, v) for k, v in self._typing.items() if k[1] == sender_type and k[2] == sender_id
            ]
            for k, _ in ended:
                del self._typing[k]
        for _, entry in ended:
            emit_now(names.TYPING, entry.stop, entry.to, skip_sid=entry.skip_sid)

    def _expire_typing(self) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [(k, v) for k, v in self._typing.items() if v.expires <= now]
            for k, _ in expired:
                del self._typing[k]
        for _, entry in expired:
            emit_now(names.TYPING, entry.stop, entry.to, skip_sid=entry.skip_sid)

    def _start_loops(self) -> None:
        with self._lock:
            if self._loops_started:
                return
            self._loops_started = True
        socketio.start_background_task(self._typing_loop)
        socketio.start_background_task(self._presence_loop)
        socketio.start_background_task(self._revalidate_loop)

    def disconnect_token(self, token_id: str) -> int:
        """Close this process's connections opened with ``token_id`` (a logout)."""
        sids = [s for s, c in list(self.connections.items()) if c.principal.token_id == token_id]
        for sid in sids:
            socketio.server.disconnect(sid)
        return len(sids)

    def _revalidate_loop(self) -> None:
        """Agents' sockets live only as long as their token or console session: a logout,
        an expiry or a deactivation elsewhere closes them within ``revalidate_s``."""
        while True:
            socketio.sleep(self.revalidate_s)
            try:
                self._close_revoked()
            except Exception:
                log.exception("revalidating agent connections failed")

    def _close_revoked(self) -> None:
        held = {
            c.principal.token_id: s
            for s, c in list(self.connections.items())
            if c.principal.is_agent and c.principal.token_id
        }
        if not held or self.app is None:
            return
        from app.services.accounts import valid_token_ids

        with self.app.app_context():
            try:
                valid = valid_token_ids(set(held))
            finally:
                db.session.remove()
        for token_id in set(held) - valid:
            self.disconnect_token(token_id)

    def _typing_loop(self) -> None:
        while True:
            socketio.sleep(1.0)
            try:
                self._expire_typing()
            except Exception:
                log.exception("typing expiry failed")

    def _presence_loop(self) -> None:
        while True:
            try:
                self._restore_presence()
                self.presence.sweep()
            except Exception:
                log.warning("presence sweep failed", exc_info=True)
            socketio.sleep(self.sweep_s)

    def _restore_presence(self) -> None:
        """A restarted Redis lost the presence of this process's live connections: put
        them back from what the process remembers, without waiting for the clients' next
        heartbeat (up to 15 s away) and without announcing anything (nothing changed)."""
        epoch = self.presence.store.epoch()
        if self._store_epoch is not None and epoch != self._store_epoch:
            live = list(self.connections.items())
            beats = [(c.subject, sid, c.beat_status, c.beat_at) for sid, c in live]
            agents = {c.principal.id for _, c in live if c.principal.is_agent}
            restored = self.presence.restore(beats, self._chosen(agents))
            log.warning("the presence store restarted: %d connections restored", restored)
        self._store_epoch = epoch

    def _chosen(self, agent_ids: set[str]) -> dict[str, str]:
        """Agents' stored online/away choices, by subject key."""
        if not agent_ids or self.app is None:
            return {}
        from app.models import Agent

        with self.app.app_context():
            try:
                rows = db.session.execute(
                    db.select(Agent.id, Agent.availability).where(Agent.id.in_(agent_ids))
                ).all()
            finally:
                db.session.remove()
        return {f"agent:{agent_id}": choice or "online" for agent_id, choice in rows}


_runtime: Runtime | None = None


def runtime() -> Runtime:
    if _runtime is None:  # pragma: no cover - init_presence runs in create_app
        raise RuntimeError("real-time runtime not initialised")
    return _runtime


def announce_presence(subject: Subject, status: str, last_seen_at: str) -> None:
    """Tell who may know: agents of the workspace; for agents, also its visitors."""
    payload: dict[str, Any] = {
        "subject": {"type": subject.type, "id": subject.id},
        "status": status,
        "last_seen_at": last_seen_at,
    }
    to = [rooms.workspace_room(subject.workspace_id)]
    if subject.type == "agent":
        to.append(rooms.workspace_visitors_room(subject.workspace_id))
        site_cache.forget_presence(subject.workspace_id)
        try:  # whether anyone is still there for visitors without an assignee
            payload["team_online"] = site_cache.agents_online(subject.workspace_id)
        except Exception:  # the database or Redis is down: the event goes without it
            log.warning("team status unavailable for a presence event")

    emit_now(names.PRESENCE, payload, to)
    routing.agent_presence_changed(subject.workspace_id, subject.type, status)


def init_presence(app: Flask) -> None:
    """Create this process's presence store (Redis or memory) and runtime."""
    global _runtime
    ttl = float(app.config.get("PRESENCE_TTL_S", DEFAULT_TTL_S))
    sweep = float(app.config.get("PRESENCE_SWEEP_S", DEFAULT_SWEEP_S))
    url = app.config.get("REDIS_URL")
    store: MemoryStore | RedisStore
    if url:
        import redis

        client = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
        store = RedisStore(client, ttl)
    else:
        store = MemoryStore(ttl)
    presence = Presence(store, announce_presence)
    revalidate = float(app.config.get("SOCKET_REVALIDATE_S", DEFAULT_REVALIDATE_S))
    _runtime = Runtime(presence, sweep, app, revalidate)
    presence_store.set_presence_reader(presence)
    connections.set_token_closer(_runtime.disconnect_token)
