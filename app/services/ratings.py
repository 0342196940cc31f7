"""Satisfaction ratings: the visitor scores its resolved ticket (1-5, an optional comment)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.principal import Principal
from app.errors import Conflict, Forbidden
from app.lib.timeutil import utcnow
from app.models import Rating
from app.services import ticket_state
from app.services.transaction import write_transaction


@dataclass
class RatingResult:
    rating: Rating
    #: False when this replaced the ticket's earlier rating.
    created: bool


def rate_ticket(
    principal: Principal, ticket_id: str, score: int, comment: str | None = None
) -> RatingResult:
    """Rate the visitor's own resolved ticket. One rating per ticket: rating it again
    replaces the score and the comment (the last word counts). Agents see the rating on the
    ticket, announced with ``ticket:updated``."""
    if not principal.is_visitor:
        raise Forbidden("Only the ticket's visitor may rate it.")
    try:
        return _rate(principal, ticket_id, score, comment or None)
    except IntegrityError:
        # Two ratings of one ticket at the same moment: the other one is stored, replace it.
        return _rate(principal, ticket_id, score, comment or None)


def _rate(principal: Principal, ticket_id: str, score: int, comment: str | None) -> RatingResult:
    with write_transaction() as session:
        ticket = ticket_state.load_ticket(principal, ticket_id)  # not_found unless its own
        if ticket.status != "resolved":
            raise Conflict("Only a resolved ticket can be rated.")
        now = utcnow()
        rating = session.scalar(select(Rating).where(Rating.ticket_id == ticket.id))
        created = rating is None
        if rating is None:
            rating = Rating(workspace_id=ticket.workspace_id, ticket_id=ticket.id, created_at=now)
            session.add(rating)
        rating.score = score
        rating.comment = comment
        rating.updated_at = now
        session.flush()
        ticket_state.announce_ticket(session, ticket)
    return RatingResult(rating=rating, created=created)
