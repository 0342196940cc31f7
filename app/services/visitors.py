"""The console's visitor panel, and noting a site's first widget visitor ("installed")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from app.auth.permissions import require_agent
from app.auth.principal import Principal
from app.errors import NotFound
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import utcnow
from app.limits import VISITOR_PANEL_TICKETS
from app.models import Site, Ticket, Visitor
from app.services import presence_store
from app.services.transaction import write_transaction
from app.services.views import TicketView, ticket_views


@dataclass
class VisitorPanel:
    visitor: Visitor
    status: str
    tickets: list[TicketView]

    @property
    def first_seen_at(self) -> datetime:
        return self.visitor.created_at


def visitor_panel(principal: Principal, visitor_id: str) -> VisitorPanel:
    """A visitor of the agent's workspace, with its tickets, newest activity first."""
    require_agent(principal)
    visitor = db.session.get(Visitor, visitor_id) if looks_like_id(visitor_id) else None
    if visitor is None or visitor.workspace_id != principal.workspace_id:
        raise NotFound("Visitor not found.")
    tickets = list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.workspace_id == principal.workspace_id, Ticket.visitor_id == visitor.id)
            .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
            .limit(VISITOR_PANEL_TICKETS)
        )
    )
    status = presence_store.statuses("visitor", [visitor.id]).get(visitor.id, "offline")
    return VisitorPanel(visitor=visitor, status=status, tickets=ticket_views(principal, tickets))


def note_first_visit(site: Site) -> None:
    """The site's first widget session marks the widget installed (once, race-free)."""
    if site.first_visitor_at is not None:
        return
    with write_transaction() as session:
        session.execute(
            update(Site)
            .where(Site.id == site.id, Site.first_visitor_at.is_(None))
            .values(first_visitor_at=utcnow())
        )
    db.session.refresh(site)
