"""Canned responses: saved replies an agent inserts by typing ``/shortcut``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.permissions import require_agent
from app.auth.principal import Principal
from app.errors import Conflict, NotFound
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import utcnow
from app.limits import MAX_CANNED_RESPONSES
from app.models import CannedResponse
from app.services import audit
from app.services.transaction import write_transaction

_TAKEN = {"shortcut": ["Already used by another canned response."]}


def list_canned(principal: Principal) -> list[CannedResponse]:
    """The workspace's canned responses, by shortcut."""
    require_agent(principal)
    return list(
        db.session.scalars(
            select(CannedResponse)
            .where(CannedResponse.workspace_id == principal.workspace_id)
            .order_by(CannedResponse.shortcut)
        )
    )


def create_canned(principal: Principal, data: dict[str, Any]) -> CannedResponse:
    """Add a canned response; its shortcut is unique in the workspace."""
    require_agent(principal)
    try:
        with write_transaction() as session:
            count = session.scalar(
                select(func.count()).where(CannedResponse.workspace_id == principal.workspace_id)
            )
            if (count or 0) >= MAX_CANNED_RESPONSES:
                raise Conflict(f"A workspace has at most {MAX_CANNED_RESPONSES} canned responses.")
            now = utcnow()
            row = CannedResponse(
                workspace_id=principal.workspace_id,
                shortcut=data["shortcut"],
                title=data.get("title") or "",
                body=data["body"],
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            _audit(session, principal, row, "created")
    except IntegrityError as exc:
        raise Conflict("This shortcut is taken.", fields=_TAKEN) from exc
    return row


def update_canned(principal: Principal, canned_id: str, changes: dict[str, Any]) -> CannedResponse:
    """Change a canned response's shortcut, title and/or body."""
    try:
        with write_transaction() as session:
            row = _canned(principal, canned_id)
            for key in ("shortcut", "title", "body"):
                if key in changes:
                    setattr(row, key, changes[key] or ("" if key == "title" else changes[key]))
            row.updated_at = utcnow()
            session.flush()
            _audit(session, principal, row, "updated")
    except IntegrityError as exc:
        raise Conflict("This shortcut is taken.", fields=_TAKEN) from exc
    return row


def delete_canned(principal: Principal, canned_id: str) -> None:
    with write_transaction() as session:
        row = _canned(principal, canned_id)
        _audit(session, principal, row, "deleted")
        session.delete(row)


def _audit(session: Session, principal: Principal, row: CannedResponse, op: str) -> None:
    details = {"op": op, "shortcut": row.shortcut}
    audit.record(session, principal, "canned.changed", "canned_response", row.id, details)


def _canned(principal: Principal, canned_id: str) -> CannedResponse:
    require_agent(principal)
    row = db.session.get(CannedResponse, canned_id) if looks_like_id(canned_id) else None
    if row is None or row.workspace_id != principal.workspace_id:
        raise NotFound("Canned response not found.")
    return row
