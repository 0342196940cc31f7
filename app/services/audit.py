"""The audit log: ``record`` adds one entry inside the acting service's transaction (so an
action and its entry commit or roll back together); ``list_audit`` pages through them.

Entries name who acted (an agent, or null for the system and visitors), the action, its
target and a small dict of what changed. Never put secrets or message bodies in ``details``:
``record`` drops keys that name one, as a last guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.permissions import require_manager
from app.auth.principal import Principal
from app.errors import Invalid
from app.extensions import db
from app.lib.ids import looks_like_id
from app.limits import AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX
from app.models import Agent, AuditEntry

#: Every action the log records (the ``action`` filter accepts these).
ACTIONS = (
    "ticket.assigned",
    "ticket.unassigned",
    "ticket.resolved",
    "ticket.reopened",
    "ticket.status_changed",
    "ticket.participant_added",
    "ticket.participant_removed",
    "agent.invited",
    "agent.updated",
    "agent.role_changed",
    "agent.deactivated",
    "agent.reactivated",
    "agent.login",
    "site.created",
    "site.updated",
    "settings.updated",
    "faq.changed",
    "canned.changed",
    "webhook.changed",
    "visitor.exported",
    "visitor.deleted",
)

#: ``details`` keys that are never stored, whatever a caller passes.
_FORBIDDEN_KEYS = frozenset(
    {"secret", "site_secret", "webhook_secret", "password", "token", "body", "answer", "auth"}
)
#: ``actor`` filter value for entries without an agent (the system or a visitor).
SYSTEM_ACTOR = "system"


def record(
    session: Session,
    actor: Principal,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to ``actor``'s workspace log in the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEntry(
            workspace_id=actor.workspace_id,
            actor_id=actor.id if actor.is_agent else None,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details={k: v for k, v in (details or {}).items() if k not in _FORBIDDEN_KEYS},
        )
    )


@dataclass
class AuditPage:
    #: ``{id, action, actor: {id, name} | None, target: {type, id}, details, created_at}``
    entries: list[dict[str, Any]]
    next_before: str | None

    @property
    def has_more(self) -> bool:
        return self.next_before is not None


def list_audit(
    principal: Principal,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_id: str | None = None,
    before: str | None = None,
    limit: int | None = None,
) -> AuditPage:
    """One page of the workspace's log, newest first (owners and admins).

    ``before`` is the id of the last entry of the previous page; ``actor`` an agent id or
    ``system``; ``action`` one of ``ACTIONS`` or a prefix ending in a dot (``ticket.``).
    """
    require_manager(principal)
    size = min(limit or AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX)
    query = select(AuditEntry).where(AuditEntry.workspace_id == principal.workspace_id)
    if action:
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if actor == SYSTEM_ACTOR:
        query = query.where(AuditEntry.actor_id.is_(None))
    elif actor:
        query = query.where(AuditEntry.actor_id == _id(actor, "actor"))
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    if before:
        query = query.where(AuditEntry.id < _id(before, "before"))
    rows = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(size + 1)))
    page = rows[:size]
    actor_ids = {e.actor_id for e in page if e.actor_id}
    names: dict[str, str] = {}
    if actor_ids:
        named = db.session.execute(
            select(Agent.id, Agent.name).where(
                Agent.workspace_id == principal.workspace_id, Agent.id.in_(actor_ids)
            )
        )
        names = {agent_id: name for agent_id, name in named}
    entries = [_entry_view(e, names) for e in page]
    return AuditPage(entries, page[-1].id if len(rows) > size else None)


def _entry_view(entry: AuditEntry, names: dict[str, str]) -> dict[str, Any]:
    actor = None
    if entry.actor_id:
        actor = {"id": entry.actor_id, "name": names.get(entry.actor_id)}
    return {
        "id": entry.id,
        "action": entry.action,
        "actor": actor,
        "target": {"type": entry.target_type, "id": entry.target_id},
        "details": entry.details or {},
        "created_at": entry.created_at,
    }


def _id(value: str, field: str) -> str:
    if not looks_like_id(value):
        raise Invalid(f"{field} is not a valid id.", fields={field: ["Not a valid id."]})
    return value
