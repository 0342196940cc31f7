"""The Alembic migrations build exactly the schema the models describe, and undo it.

The upgrade, downgrade and drift tests each start from an empty database of their own, on
PostgreSQL and on SQLite, the way a fresh install runs the migrations; the schema facts are
read from one migrated PostgreSQL database this module creates and drops.
"""

from __future__ import annotations

import os
import pprint
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.config import normalize_database_url
from app.extensions import db
from app.lib.ids import new_id
from app.lib.timeutil import utcnow
from tests.conftest import BACKENDS, PG_SERVER

#: Tables without customer data, so without a ``workspace_id``.
UNSCOPED_TABLES = {"workspaces", "alembic_version"}

needs_postgresql = pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="PostgreSQL is not among PARLEY_TEST_BACKENDS"
)


def _app(url: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
        }
    )


@contextmanager
def _empty_postgresql() -> Iterator[str]:
    name = f"parley_migrations_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg2.connect(PG_SERVER)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def _empty_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="parley-migrations-") as folder:
        yield f"sqlite:///{folder}/parley.db"


@pytest.fixture(params=BACKENDS)
def empty_app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app bound to a brand-new, empty database, with its app context pushed."""
    make = _empty_postgresql if request.param == "postgresql" else _empty_sqlite
    with make() as url:
        app = _app(url)
        with app.app_context():
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="module")
def migrated_pg() -> Iterator[Engine]:
    """A PostgreSQL database of this module's own, upgraded to head."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among PARLEY_TEST_BACKENDS")
    with _empty_postgresql() as url:
        app = _app(url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        engine = create_engine(normalize_database_url(url) or url)
        try:
            yield engine
        finally:
            engine.dispose()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _model_tables() -> set[str]:
    return {table.name for table in db.metadata.sorted_tables}


# -- upgrade and downgrade ------------------------------------------------------------------


def test_upgrade_on_empty_database_creates_every_model_table(empty_app: Flask) -> None:
    assert _tables() == set()
    upgrade()
    assert _tables() == _model_tables() | {"alembic_version"}


def test_downgrade_to_base_leaves_only_the_version_table(empty_app: Flask) -> None:
    upgrade()
    downgrade(revision="base")
    assert _tables() == {"alembic_version"}


def test_upgrade_after_downgrade_rebuilds_the_schema(empty_app: Flask) -> None:
    upgrade()
    downgrade(revision="base")
    upgrade()
    assert _tables() == _model_tables() | {"alembic_version"}
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys())


# -- drift: a model change without a migration fails here -----------------------------------


def _drift(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, db.metadata))


def test_migrated_schema_matches_the_models_on_each_backend(empty_app: Flask) -> None:
    upgrade()
    differences = _drift(db.engine)
    assert not differences, (
        "the models differ from the migrated schema; add a migration with "
        "`flask --app wsgi db migrate -m ...`:\n" + pprint.pformat(differences)
    )


# -- schema facts the product relies on -----------------------------------------------------


def _unique_column_sets(engine: Engine, table: str) -> set[tuple[str, ...]]:
    inspector = inspect(engine)
    found = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
    found |= {
        tuple(str(c) for c in i["column_names"])
        for i in inspector.get_indexes(table)
        if i["unique"] and not i.get("dialect_options", {}).get("postgresql_where")
    }
    return found


@needs_postgresql
def test_messages_are_unique_per_ticket_seq_and_per_sender_client_id(
    migrated_pg: Engine,
) -> None:
    uniques = _unique_column_sets(migrated_pg, "messages")
    assert ("ticket_id", "seq") in uniques
    assert ("ticket_id", "sender_type", "sender_id", "client_id") in uniques


@needs_postgresql
def test_every_customer_table_leads_an_index_with_workspace_id(migrated_pg: Engine) -> None:
    inspector = inspect(migrated_pg)
    tables = set(inspector.get_table_names()) - UNSCOPED_TABLES
    assert tables == _model_tables() - UNSCOPED_TABLES
    for table in sorted(tables):
        columns = [c["name"] for c in inspector.get_columns(table)]
        assert "workspace_id" in columns, f"{table} has no workspace_id"
        leading = {
            i["column_names"][0] for i in inspector.get_indexes(table) if i["column_names"]
        } | {u["column_names"][0] for u in inspector.get_unique_constraints(table)}
        assert "workspace_id" in leading, f"no index of {table} starts with workspace_id"


@needs_postgresql
def test_partial_unique_index_allows_one_unresolved_ticket_per_visitor(
    migrated_pg: Engine,
) -> None:
    index = next(
        i
        for i in inspect(migrated_pg).get_indexes("tickets")
        if i["name"] == "uq_tickets_visitor_active"
    )
    assert index["unique"] is True
    assert index["column_names"] == ["visitor_id"]
    assert "resolved" in index["dialect_options"]["postgresql_where"]

    tables = db.metadata.tables
    now = utcnow()
    workspace_id, site_id, visitor_id = new_id(), new_id(), new_id()

    def ticket(status: str) -> dict[str, Any]:
        return {
            "id": new_id(),
            "workspace_id": workspace_id,
            "site_id": site_id,
            "visitor_id": visitor_id,
            "status": status,
            "last_seq": 0,
            "last_public_seq": 0,
            "last_activity_at": now,
            "created_at": now,
            "updated_at": now,
        }

    with migrated_pg.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(
                tables["workspaces"].insert(),
                {"id": workspace_id, "name": "W", "settings": {}, "created_at": now},
            )
            connection.execute(
                tables["sites"].insert(),
                {
                    "id": site_id,
                    "workspace_id": workspace_id,
                    "name": "S",
                    "site_key": new_id(),
                    "site_secret": "s",
                    "allowed_origins": [],
                    "settings": {},
                    "created_at": now,
                    "updated_at": now,
                },
            )
            connection.execute(
                tables["visitors"].insert(),
                {
                    "id": visitor_id,
                    "workspace_id": workspace_id,
                    "site_id": site_id,
                    "verified": False,
                    "created_at": now,
                },
            )
            # Any number of resolved tickets, and one that is not.
            connection.execute(tables["tickets"].insert(), [ticket("resolved"), ticket("resolved")])
            connection.execute(tables["tickets"].insert(), ticket("open"))
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(tables["tickets"].insert(), ticket("bot"))
        finally:
            transaction.rollback()
