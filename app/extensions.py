"""Extension singletons, created once and bound to an app by ``init_app``."""

from __future__ import annotations

import threading
from typing import Any

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
socketio = SocketIO()

#: How long a SQLite writer waits for another process's write lock, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: WAL, foreign keys, a busy timeout, and transactions SQLAlchemy controls."""
    if type(dbapi_connection).__module__.split(".")[0] not in ("sqlite3", "pysqlite2"):
        return
    # Let SQLAlchemy emit BEGIN itself (see _begin_sqlite) instead of pysqlite's lazy BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Set (per thread or greenlet) while a write transaction begins; see services.transaction.
sqlite_begin = threading.local()


@event.listens_for(Engine, "begin")
def _begin_sqlite(conn: Any) -> None:
    """Emit SQLite's BEGIN ourselves: IMMEDIATE for write transactions, deferred otherwise."""
    if conn.dialect.name == "sqlite":
        immediate = getattr(sqlite_begin, "immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
