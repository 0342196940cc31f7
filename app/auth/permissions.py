"""The one permission module: who may see, post to and manage what.

Every service asks here; nothing else decides access. A ticket the caller may not see is
reported as ``not_found`` so ids of other tenants leak nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select

from app.auth.principal import Principal
from app.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from app.models import Site, Ticket

MANAGER_ROLES = ("owner", "admin")


def require_agent(principal: Principal) -> None:
    """Only agents (any role) pass."""
    if not principal.is_agent:
        raise Forbidden("Only agents may do this.")


def require_manager(principal: Principal) -> None:
    """Only owners and admins pass."""
    require_agent(principal)
    if principal.role not in MANAGER_ROLES:
        raise Forbidden("Only owners and admins may do this.")


def may_assign_role(principal: Principal, role: str) -> bool:
    """Owners grant any role; admins grant admin or agent."""
    if principal.role == "owner":
        return True
    return principal.role == "admin" and role in ("admin", "agent")


def can_view_ticket(principal: Principal, ticket: Ticket) -> bool:
    """Agents see their workspace's tickets; a visitor sees only its own."""
    if ticket.workspace_id != principal.workspace_id:
        return False
    if principal.kind in ("agent", "bot", "system"):
        return True
    return principal.is_visitor and ticket.visitor_id == principal.id


def can_post(principal: Principal, ticket: Ticket, kind: str) -> bool:
    """Visitors write text to their own ticket; agents write text or notes; events are system."""
    if not can_view_ticket(principal, ticket):
        return False
    if kind == "event":
        return principal.kind == "system"
    if kind == "note":
        return principal.is_agent
    return True


def can_manage_ticket(principal: Principal, ticket: Ticket) -> bool:
    """Status, assignment and participants: any agent of the workspace."""
    return principal.is_agent and ticket.workspace_id == principal.workspace_id


def can_see_site_secret(principal: Principal) -> bool:
    return principal.is_agent and principal.role in MANAGER_ROLES


def check_view_ticket(principal: Principal, ticket: Ticket | None) -> Ticket:
    """The ticket if the principal may see it; ``not_found`` otherwise."""
    if ticket is None or not can_view_ticket(principal, ticket):
        raise NotFound("Ticket not found.")
    return ticket


def check_site(principal: Principal, site: Site | None) -> Site:
    """The site if it belongs to the principal's workspace; ``not_found`` otherwise."""
    if site is None or not principal.is_agent or site.workspace_id != principal.workspace_id:
        raise NotFound("Site not found.")
    return site


def scope_tickets(principal: Principal, query: Select[Any]) -> Select[Any]:
    """Restrict a ticket query to what the principal may list."""
    from app.models import Ticket

    query = query.where(Ticket.workspace_id == principal.workspace_id)
    if principal.is_visitor:
        query = query.where(Ticket.visitor_id == principal.id)
    return query


def check_change_agent(principal: Principal, target_role: str, changes: dict[str, Any]) -> None:
    """Owners and admins manage agents; only an owner touches an owner or grants ``owner``."""
    require_manager(principal)
    if target_role == "owner" and principal.role != "owner":
        raise Forbidden("Only an owner may change an owner.")
    role = changes.get("role")
    if role is not None and not may_assign_role(principal, role):
        raise Forbidden(f"An {principal.role} may not grant the {role} role.")


def require_report_reader(principal: Principal) -> bool:
    """Any agent reads reports; returns whether the per-agent breakdown is visible too."""
    require_agent(principal)
    return principal.role in MANAGER_ROLES


def bot_secret_matches(stored: str | None, given: str | None) -> bool:
    """Whether a bring-your-own bot's credential is its site's bot secret (constant time)."""
    import hmac

    return bool(stored and given) and hmac.compare_digest(str(stored), str(given))
