"""The column type of message bodies: sealed at rest, plaintext to every reader.

Reading goes through the type: each SELECT of the column also fetches its row's ticket and
message ids (the associated data the value was sealed with) and opens the value. Writing
takes values sealed by ``app.lib.crypto`` only (the two message inserts and rotate-keys),
because sealing needs the row's ids, which a bound value does not know.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, TypeDecorator, literal, type_coerce
from sqlalchemy.engine import Dialect

from app.lib import crypto

#: Between the ids and the stored value in what a SELECT returns (ids never contain it).
_SEPARATOR = "|"


class SealedText(TypeDecorator[str]):
    """A message body: AES-GCM sealed in the database (see app/lib/crypto.py)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, crypto.Sealed):
            return None if value is None else str(value)
        raise TypeError(
            "messages.body takes sealed values only: seal with app.lib.crypto.keyring().seal"
        )

    def column_expression(self, colexpr: Any) -> Any:
        table = getattr(colexpr, "table", None)
        columns = getattr(table, "c", None)
        if columns is None or "ticket_id" not in columns or "id" not in columns:
            return colexpr  # opening fails clearly: the ids are missing
        sep = literal(_SEPARATOR, Text)
        return type_coerce(columns.ticket_id + sep + columns.id + sep + colexpr, self)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        parts = str(value).split(_SEPARATOR, 2)
        if len(parts) != 3:
            raise crypto.DecryptionError(
                "messages.body was read without its row's ticket_id and id (select it from"
                " the messages table or an alias of it, not through a subquery)."
            )
        return crypto.keyring().open(*parts)
