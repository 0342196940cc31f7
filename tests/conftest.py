"""Fixtures: a real PostgreSQL database the suite creates and drops, and a SQLite one.

Set ``PARLEY_TEST_PG`` to the server URL (default: the local trust-auth server) and
``PARLEY_TEST_BACKENDS`` to ``postgresql``, ``sqlite`` or both (the default).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.events import publish
from app.extensions import db

PG_SERVER = os.environ.get("PARLEY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# The suite makes many workspaces, visitors and sockets from 127.0.0.1 within seconds, so rate
# limits are off in every app and server it starts, unless a test turns them on with small
# values of its own (tests/test_rate_limits.py, tests/realtime/test_event_limits.py).
os.environ.setdefault("RATE_LIMITS", "0")
BACKENDS = [b for b in os.environ.get("PARLEY_TEST_BACKENDS", "postgresql,sqlite").split(",") if b]


def _pg_admin() -> Any:
    conn = psycopg2.connect(PG_SERVER)
    conn.autocommit = True
    return conn


def migrate_to_head(url: str) -> None:
    """Build the schema the way production does: Alembic migrations."""
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head; dropped after."""
    name = f"parley_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _pg_admin()
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        migrate_to_head(url)
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_url() -> Iterator[str]:
    """A fresh SQLite file for this test session, migrated to head."""
    with tempfile.TemporaryDirectory(prefix="parley-test-") as folder:
        url = f"sqlite:///{folder}/parley.db"
        migrate_to_head(url)
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that uses the app runs once per backend."""
    fixture = "pg_url" if request.param == "postgresql" else "sqlite_url"
    return str(request.getfixturevalue(fixture))


def clear_database() -> None:
    publish.quiesce()  # a ticket:updated being built would hold table locks; drop the rest
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name != "postgresql":
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.commit()
        return
    # A live server of a session-scoped fixture may still be working on the same database
    # (presence sweeps, routing passes): TRUNCATE can lose a deadlock to it; try again.
    for attempt in range(3):
        try:
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
            if attempt == 2:
                raise
            time.sleep(0.2)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            "PUBLIC_URL": "http://parley.test",
        }
    )
    # No app context stays pushed during the test: each request gets its own, as in production.
    with app.app_context():
        clear_database()
    yield app
    with app.app_context():
        clear_database()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
