"""Ticket search: visitor name or e-mail (substring), ticket id, or message words,
case-insensitively.

Message bodies are encrypted at rest, so their text is searched through the blind index
(``messages.search_terms``, app/lib/crypto.py): a message matches when it holds every word of
the search, whole (``refund`` finds "Refund?", ``ref`` does not).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Text, and_, exists, func, or_, select, type_coerce

from app.auth.principal import Principal
from app.lib import crypto
from app.lib.ids import looks_like_id
from app.models import Message, Ticket, Visitor

_LIKE_ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE, lower-cased, with LIKE's wildcards taken literally."""
    escaped = (
        text.lower()
        .replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def _contains(column: Any, pattern: str) -> ColumnElement[bool]:
    return func.lower(column).like(pattern, escape=_LIKE_ESCAPE)


def ticket_matches(principal: Principal, text: str) -> ColumnElement[bool]:
    """A condition on ``Ticket`` for a search; visitors' searches never look into notes."""
    pattern = like_pattern(text.strip())
    visitors = select(Visitor.id).where(
        Visitor.workspace_id == principal.workspace_id,
        or_(_contains(Visitor.name, pattern), _contains(Visitor.email, pattern)),
    )
    kinds = ("text",) if principal.is_visitor else ("text", "note")
    # Rows from before encryption (no index until `parley rotate-keys`) are still plaintext.
    legacy = and_(
        Message.search_terms.is_(None), _contains(type_coerce(Message.body, Text), pattern)
    )
    words = _words_in_one_message(text)
    in_messages = exists().where(
        Message.ticket_id == Ticket.id,
        Message.workspace_id == principal.workspace_id,
        Message.kind.in_(kinds),
        legacy if words is None else or_(words, legacy),
    )
    conditions = [Ticket.visitor_id.in_(visitors), in_messages]
    candidate = text.strip().lower()
    if looks_like_id(candidate):
        conditions.append(Ticket.id == candidate)
    return or_(*conditions)


def _words_in_one_message(text: str) -> ColumnElement[bool] | None:
    """A condition on ``Message``: it holds every word of ``text`` (under any key of the
    ring, so a search works while keys rotate); None when ``text`` has no word."""
    per_key = crypto.keyring().query_terms(text)
    if not per_key:
        return None
    return or_(
        *[and_(*[Message.search_terms.like(f"% {term} %") for term in terms]) for terms in per_key]
    )
