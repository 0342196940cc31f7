"""Ticket search: visitor name or e-mail, ticket id, or message text, case-insensitively."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select

from app.auth.principal import Principal
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
    in_messages = exists().where(
        Message.ticket_id == Ticket.id,
        Message.workspace_id == principal.workspace_id,
        Message.kind.in_(kinds),
        _contains(Message.body, pattern),
    )
    conditions = [Ticket.visitor_id.in_(visitors), in_messages]
    candidate = text.strip().lower()
    if looks_like_id(candidate):
        conditions.append(Ticket.id == candidate)
    return or_(*conditions)
