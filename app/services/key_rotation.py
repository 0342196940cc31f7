"""Key rotation: move every message body, and its blind index, to the current key.

Works through the messages in id order, one committed batch at a time, and touches only rows
not yet under the current key (plaintext rows from before encryption included), so an
interrupted run loses at most its open batch and a rerun continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Text, bindparam, func, or_, select, type_coerce, update

from app.extensions import db
from app.lib import crypto
from app.models import Message
from app.services.transaction import write_transaction


def _stored_body() -> Any:
    """The body as stored (sealed or legacy plaintext), bypassing the column's opening."""
    return type_coerce(Message.__table__.c.body, Text)


def _behind(ring: crypto.KeyRing) -> ColumnElement[bool]:
    """Rows whose body or blind index is not under the current key."""
    table = Message.__table__
    sealed = f"{crypto.PREFIX}:{ring.current_kid}:"
    indexed = f"{ring.current_kid}:"
    # substr, not LIKE: SQLite's LIKE ignores case, and key ids are case-sensitive.
    return or_(
        func.substr(_stored_body(), 1, len(sealed)) != sealed,
        table.c.search_terms.is_(None),
        func.substr(table.c.search_terms, 1, len(indexed)) != indexed,
    )


def count_behind() -> int:
    """How many messages ``rotate_keys`` still has to move."""
    ring = crypto.keyring()
    return int(db.session.scalar(select(func.count()).where(_behind(ring))) or 0)


def rotate_keys(*, batch_size: int, on_batch: Callable[[int], None] | None = None) -> int:
    """Re-seal and re-index every message not under the current key, ``batch_size`` rows per
    committed transaction; ``on_batch(n)`` after each commit. Returns the rows moved.

    Raises ``crypto.DecryptionError`` (naming the message and key) on a row that no
    configured key opens; the batches before it stay committed.
    """
    ring = crypto.keyring()
    table = Message.__table__
    write = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(body=bindparam("new_body"), search_terms=bindparam("new_terms"))
    )
    moved, last_id = 0, ""
    while True:
        rows = db.session.execute(
            select(table.c.id, table.c.ticket_id, _stored_body())
            .where(table.c.id > last_id, _behind(ring))
            .order_by(table.c.id)
            .limit(batch_size)
        ).all()
        db.session.rollback()  # end the read snapshot before the write transaction
        if not rows:
            return moved
        changes = []
        for message_id, ticket_id, stored in rows:
            plain = ring.open(ticket_id, message_id, stored)
            current = ring.is_current(stored)
            body = crypto.Sealed(stored) if current else ring.seal(ticket_id, message_id, plain)
            changes.append({"row_id": message_id, "new_body": body, "new_terms": ring.terms(plain)})
        with write_transaction() as session:
            session.execute(write, changes)
        moved += len(rows)
        last_id = rows[-1][0]
        if on_batch is not None:
            on_batch(len(rows))
