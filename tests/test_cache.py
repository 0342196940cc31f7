"""The read cache of the widget's hot path: changes show at once, nothing leaks across sites,
Redis trouble falls back to the database, and ``CACHE=0`` works the same."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from app import create_app
from app.config import load_config
from app.extensions import db
from app.limits import CACHE_MAX_ENTRIES
from app.services import cache as cache_module
from app.services import site_cache
from app.services.cache import MemoryCache, NoCache, RedisCache, set_cache
from app.services.site_cache import site_cache_key
from tests import factories as f
from tests.conftest import clear_database
from tests.live import free_port
from tests.test_widget_routes import dist  # noqa: F401  the frame's files, built for the test

REDIS = "redis://127.0.0.1:6379/0"


def _session(client: FlaskClient, site: dict[str, Any], token: str | None = None) -> Any:
    body: dict[str, Any] = {"site_key": site["site_key"]}
    if token:
        body["visitor_token"] = token
    r = client.post("/api/v1/widget/session", json=body)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _warm(client: FlaskClient, site: dict[str, Any]) -> Any:
    """Two sessions: the first marks the site installed (and so reloads it), the second
    leaves it cached."""
    _session(client, site)
    return _session(client, site)


def _patch_site(client: FlaskClient, owner: f.Owner, site: dict[str, Any], **changes: Any) -> None:
    r = client.patch(f"/api/v1/sites/{site['id']}", headers=owner.headers, json=changes)
    assert r.status_code == 200, r.get_json()


@pytest.fixture
def uncached_app(database_url: str) -> Iterator[Flask]:
    """The app as ``CACHE=0`` runs it."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            "CACHE_ENABLED": False,
        }
    )
    with app.app_context():
        clear_database()
    yield app
    with app.app_context():
        clear_database()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def redis_cache(app: Flask) -> Iterator[RedisCache]:
    """The app reads through a real Redis (a key prefix of this test only)."""
    client = redis.Redis.from_url(REDIS)
    prefix = f"parley-test-cache:{uuid.uuid4().hex[:8]}"
    cache = RedisCache(client, prefix)
    set_cache(cache)
    yield cache
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


class QueryCounter:
    """Counts the SQL statements this thread sends to the database (round trips), by text:
    background jobs of earlier requests (notifications) may run meanwhile, and do not count."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.thread = threading.get_ident()

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == self.thread:
            self.statements.append(statement)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.statements if f"FROM {table}" in s or f"UPDATE {table}" in s]

    def presence_summaries(self) -> list[str]:
        """The "is an agent online?" query of the widget session."""
        return [s for s in self.statements if "agents.availability" in s and "FROM agents" in s]


def _count_session(app: Flask, client: FlaskClient, site: dict[str, Any], token: str) -> Any:
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        _session(client, site, token)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter


# -- behaviour through the API (memory cache, the embedded default) -------------------------


def test_the_default_cache_is_in_process(app: Flask) -> None:
    assert isinstance(cache_module.cache(), MemoryCache)


def test_settings_change_shows_at_the_next_session(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, color="#111111", title="Old title")
    assert _warm(client, site)["site"]["settings"]["color"] == "#111111"
    _patch_site(client, owner, site, name="Renamed", settings={"color": "#222222"})
    body = _session(client, site)
    assert body["site"]["settings"]["color"] == "#222222"
    assert body["site"]["name"] == "Renamed"
    _patch_site(client, owner, site, settings={"title": "New title"})
    assert _session(client, site)["site"]["settings"]["title"] == "New title"


@pytest.mark.usefixtures("dist")
def test_frame_follows_allowed_origins_and_title_at_once(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, origins=["https://old.example"], title="Before")
    _warm(client, site)
    frame = client.get(f"/widget/frame?site_key={site['site_key']}")
    assert "frame-ancestors https://old.example" in frame.headers["Content-Security-Policy"]
    _patch_site(
        client, owner, site, allowed_origins=["https://new.example"], settings={"title": "After"}
    )
    frame = client.get(f"/widget/frame?site_key={site['site_key']}")
    assert frame.status_code == 200
    assert "frame-ancestors https://new.example" in frame.headers["Content-Security-Policy"]
    assert "<title>After</title>" in frame.get_data(as_text=True)
    assert _session(client, site)["site"]["settings"]["title"] == "After"


def test_cache_never_mixes_sites_or_workspaces(client: FlaskClient) -> None:
    one = f.signup(client, workspace="One")
    two = f.signup(client, workspace="Two")
    a = f.create_site(client, one, name="A", color="#aaaaaa")
    b = f.create_site(client, one, name="B", color="#bbbbbb")
    c = f.create_site(client, two, name="C", color="#cccccc")
    for _ in range(2):  # cold, then warm
        bodies = {s["name"]: _session(client, s) for s in (a, b, c)}
        assert {n: body["site"]["settings"]["color"] for n, body in bodies.items()} == {
            "A": "#aaaaaa",
            "B": "#bbbbbb",
            "C": "#cccccc",
        }
        assert {n: body["visitor"]["site_id"] for n, body in bodies.items()} == {
            "A": a["id"],
            "B": b["id"],
            "C": c["id"],
        }
    _patch_site(client, one, a, settings={"color": "#000000"})
    assert _session(client, a)["site"]["settings"]["color"] == "#000000"
    assert _session(client, b)["site"]["settings"]["color"] == "#bbbbbb"
    assert _session(client, c)["site"]["settings"]["color"] == "#cccccc"


def test_token_of_another_site_is_not_honoured_through_the_cache(client: FlaskClient) -> None:
    owner = f.signup(client)
    a = f.create_site(client, owner, name="A")
    b = f.create_site(client, owner, name="B")
    on_a = f.widget_session(client, a)
    f.start_ticket(client, on_a)
    on_b = _session(client, b, on_a.token)
    assert on_b["visitor"]["id"] != on_a.visitor["id"]
    assert on_b["tickets"] == []


def test_identity_check_still_uses_the_secret(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _warm(client, site)  # cached without its secret
    good = {"external_id": "u-1", "user_hash": f.user_hash(site, "u-1")}
    r = client.post("/api/v1/widget/session", json={"site_key": site["site_key"], "identity": good})
    assert r.status_code == 200
    bad = {"external_id": "u-1", "user_hash": "0" * 64}
    r = client.post("/api/v1/widget/session", json={"site_key": site["site_key"], "identity": bad})
    f.assert_error(r, 403, "forbidden")


def test_unknown_key_stays_unknown_and_a_new_site_works_at_once(client: FlaskClient) -> None:
    f.assert_error(
        client.post("/api/v1/widget/session", json={"site_key": "not-yet"}), 404, "not_found"
    )
    owner = f.signup(client)
    site = f.create_site(client, owner)
    assert _session(client, site)["site"]["name"] == "Shop"


def test_installed_flag_is_set_once_and_then_cached(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    assert (
        client.get(f"/api/v1/sites/{site['id']}", headers=owner.headers).get_json()["site"][
            "installed"
        ]
        is False
    )
    visitor = f.widget_session(client, site)
    got = client.get(f"/api/v1/sites/{site['id']}", headers=owner.headers).get_json()["site"]
    assert got["installed"] is True
    _session(client, site, visitor.token)  # reloads the site once, now installed
    counter = _count_session(app, client, site, visitor.token)
    assert counter.touching("sites") == []  # no more "first visitor?" checks or updates


def test_warm_session_does_fewer_round_trips_than_without_cache(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site_cache, "PRESENCE_TTL_S", 600.0)  # a slow machine keeps it warm
    owner = f.signup(client)
    f.add_agent(client, owner)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    f.start_ticket(client, visitor)
    _session(client, site, visitor.token)  # warms the cache
    cached = _count_session(app, client, site, visitor.token)
    assert cached.touching("sites") == [] and cached.presence_summaries() == []
    set_cache(NoCache())  # what CACHE=0 installs
    uncached = _count_session(app, client, site, visitor.token)
    assert uncached.touching("sites") and uncached.presence_summaries()
    assert len(cached.statements) < len(uncached.statements)


def test_a_reader_during_a_write_cannot_keep_the_old_row(app: Flask) -> None:
    """The bump after the commit: what a reader cached between the writer's first
    invalidation and its commit is not served afterwards."""
    from app.services.cache import cache, forget_after_commit
    from app.services.transaction import write_transaction

    with app.app_context():
        cache().get("site:racing", 60, lambda: {"color": "old"})
        with write_transaction() as session:
            forget_after_commit(session, "site:racing")
            # another request reads the still-committed old row now and caches it
            assert cache().get("site:racing", 60, lambda: {"color": "old"}) == {"color": "old"}
        assert cache().get("site:racing", 60, lambda: {"color": "new"}) == {"color": "new"}


# -- CACHE=0 -----------------------------------------------------------------------------------


def test_cache_off_works_the_same(uncached_app: Flask) -> None:
    assert isinstance(cache_module.cache(), NoCache)
    client = uncached_app.test_client()
    owner = f.signup(client)
    site = f.create_site(client, owner, color="#111111")
    visitor = f.widget_session(client, site)
    f.start_ticket(client, visitor)
    assert _session(client, site)["site"]["settings"]["color"] == "#111111"
    _patch_site(client, owner, site, settings={"color": "#222222"})
    body = _session(client, site, visitor.token)
    assert body["site"]["settings"]["color"] == "#222222"
    assert len(body["tickets"]) == 1
    assert client.get(f"/widget/frame?site_key={site['site_key']}").status_code in (200, 503)


def test_cache_env_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE", "0")
    assert load_config()["CACHE_ENABLED"] is False
    monkeypatch.setenv("CACHE", "1")
    assert load_config()["CACHE_ENABLED"] is True
    monkeypatch.delenv("CACHE")
    assert load_config()["CACHE_ENABLED"] is True


# -- Redis ---------------------------------------------------------------------------------------


def test_redis_cache_holds_json_without_secrets(
    client: FlaskClient, redis_cache: RedisCache
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, color="#123456")
    _warm(client, site)
    raw = redis_cache.client.get(f"{redis_cache.prefix}:val:{site_cache_key(site['site_key'])}")
    stored = json.loads(raw)
    assert stored["d"]["settings"]["color"] == "#123456"
    assert stored["d"]["id"] == site["id"]
    assert site["site_secret"] not in raw.decode()
    _patch_site(client, owner, site, settings={"color": "#654321"})
    assert _session(client, site)["site"]["settings"]["color"] == "#654321"


def test_redis_outage_falls_back_to_the_database(client: FlaskClient) -> None:
    dead = redis.Redis(port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2)
    set_cache(RedisCache(dead, "parley-test-cache:dead"))
    owner = f.signup(client)
    site = f.create_site(client, owner, color="#111111")  # its bump fails: no 500
    assert _session(client, site)["site"]["settings"]["color"] == "#111111"
    _patch_site(client, owner, site, settings={"color": "#222222"})
    assert _session(client, site)["site"]["settings"]["color"] == "#222222"
    assert client.get(f"/widget/frame?site_key={site['site_key']}").status_code in (200, 503)


# -- the backends on their own -----------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryCache()
        return
    client = redis.Redis.from_url(REDIS)
    prefix = f"parley-test-cache:{uuid.uuid4().hex[:8]}"
    yield RedisCache(client, prefix)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_a_value_loaded_while_a_writer_commits_is_not_kept(backend: Any) -> None:
    loads: list[int] = []

    def racing_load() -> dict[str, int]:
        loads.append(1)
        backend.forget("k")  # a writer commits while this reader is loading the old row
        return {"n": 1}

    assert backend.get("k", 60, racing_load) == {"n": 1}
    assert backend.get("k", 60, lambda: {"n": 2}) == {"n": 2}  # the old one was not kept
    assert backend.get("k", 60, lambda: {"n": 3}) == {"n": 2}  # this one is
    backend.forget("k")
    assert backend.get("k", 60, lambda: {"n": 4}) == {"n": 4}


def test_unknown_values_are_not_cached(backend: Any) -> None:
    assert backend.get("missing", 60, lambda: None) is None
    assert backend.get("missing", 60, lambda: {"now": "there"}) == {"now": "there"}


def test_memory_cache_is_bounded_and_expires() -> None:
    assert CACHE_MAX_ENTRIES == MemoryCache().max_entries
    cache = MemoryCache(max_entries=3)
    for i in range(5):
        cache.get(f"k{i}", 60, lambda: {"i": int(len(cache))})
    assert len(cache) == 3
    assert cache.get("k0", 60, lambda: {"i": "reloaded"}) == {"i": "reloaded"}  # evicted
    assert cache.get("k4", 60, lambda: {"i": "reloaded"}) == {"i": 3}  # kept
    cache.get("short", 0, lambda: {"v": 1})
    assert cache.get("short", 0, lambda: {"v": 2}) == {"v": 2}  # a TTL of 0 never hits


def test_memory_cache_hands_out_copies() -> None:
    cache = MemoryCache()
    first = cache.get("k", 60, lambda: {"list": [1]})
    first["list"].append(2)
    assert cache.get("k", 60, lambda: {"list": []}) == {"list": [1]}
