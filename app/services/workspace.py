"""The workspace itself: its name and its routing settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from app.auth.permissions import require_agent, require_manager
from app.auth.principal import Principal
from app.errors import NotFound
from app.extensions import db
from app.limits import DEFAULT_ROUTING_CAPACITY
from app.models import Workspace
from app.services import audit
from app.services.transaction import write_transaction

ROUTING_MODES = ("auto", "manual")


@dataclass(frozen=True)
class Routing:
    """How new tickets find an agent: ``auto`` round-robin up to ``capacity``, or ``manual``."""

    mode: str = "auto"
    capacity: int = DEFAULT_ROUTING_CAPACITY

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "capacity": self.capacity}


def routing_of(workspace: Workspace) -> Routing:
    """The workspace's routing settings, defaults filled in."""
    stored = (workspace.settings or {}).get("routing") or {}
    mode = str(stored["mode"]) if stored.get("mode") in ROUTING_MODES else _default_mode()
    capacity = stored.get("capacity")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        capacity = DEFAULT_ROUTING_CAPACITY
    return Routing(mode=mode, capacity=capacity)


def _default_mode() -> str:
    """``ROUTING_DEFAULT_MODE`` (auto unless configured otherwise)."""
    mode = current_app.config.get("ROUTING_DEFAULT_MODE") if has_app_context() else None
    return mode if mode in ROUTING_MODES else "auto"


def get_workspace(principal: Principal) -> Workspace:
    """The principal's workspace (any agent)."""
    require_agent(principal)
    workspace = db.session.get(Workspace, principal.workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found.")
    return workspace


def update_workspace(principal: Principal, changes: dict[str, Any]) -> Workspace:
    """Rename the workspace and/or change its routing (owners and admins).

    Switching routing to ``auto`` or raising the capacity hands waiting tickets out at once.
    """
    require_manager(principal)
    with write_transaction() as session:
        workspace = session.get(Workspace, principal.workspace_id, with_for_update=True)
        if workspace is None:
            raise NotFound("Workspace not found.")
        if "name" in changes:
            workspace.name = changes["name"]
        if "routing" in changes:
            merged = {**routing_of(workspace).as_dict(), **changes["routing"]}
            workspace.settings = {**(workspace.settings or {}), "routing": merged}
            from app.services import routing

            routing.route_now(session, workspace.id)
        details = {"changed": sorted(changes), "routing": routing_of(workspace).as_dict()}
        audit.record(session, principal, "settings.updated", "workspace", workspace.id, details)
    return workspace


def workspace_json(workspace: Workspace) -> dict[str, Any]:
    return {"id": workspace.id, "name": workspace.name, "routing": routing_of(workspace).as_dict()}
