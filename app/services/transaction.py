"""The one way services write: a short transaction, committed before anything is published."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.errors import Unavailable
from app.events import publish
from app.extensions import db, sqlite_begin

_DEPTH_KEY = "parley.tx_depth"


def in_transaction() -> bool:
    """Whether the caller runs inside a ``write_transaction`` block."""
    return bool(db.session().info.get(_DEPTH_KEY, 0))


@contextmanager
def write_transaction() -> Iterator[Session]:
    """Run the block in one transaction and commit it; roll back on any error.

    On SQLite the transaction takes the write lock first (BEGIN IMMEDIATE), after ending
    any read snapshot the session held, so concurrent writers queue instead of failing.
    Nested blocks join the outer transaction. On SQLite nothing inside may wait on other
    network I/O, since the write lock is held until commit.
    Events queued with ``events.publish`` go out after the commit, and are dropped on
    rollback.
    """
    session: Session = db.session()
    if session.info.get(_DEPTH_KEY, 0) > 0:
        # Nested use joins the outer transaction, which commits once at its end.
        session.info[_DEPTH_KEY] += 1
        try:
            yield session
        finally:
            session.info[_DEPTH_KEY] -= 1
        return
    try:
        if db.engine.dialect.name == "sqlite":
            session.rollback()
            sqlite_begin.immediate = True
            try:
                session.connection()
            finally:
                sqlite_begin.immediate = False
        session.info[_DEPTH_KEY] = 1
        try:
            yield session
        finally:
            session.info[_DEPTH_KEY] = 0
        session.commit()
    except (OperationalError, DBAPIError) as exc:
        publish.discard(session)
        session.rollback()
        if _is_connection_problem(exc):
            raise Unavailable("The database is unavailable; retry shortly.") from exc
        raise
    except BaseException:
        publish.discard(session)
        session.rollback()
        raise
    publish.release(session)


def _is_connection_problem(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    text = str(exc.orig).lower() if exc.orig is not None else ""
    markers = (
        "could not connect",
        "connection refused",
        "server closed",
        "terminating",
        "database is locked",
        "connection already closed",
        "ssl syscall",
    )
    return any(m in text for m in markers)
