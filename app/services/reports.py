"""Reports: tickets per day, first response and resolution times, CSAT, per agent.

Counts and durations come from SQL over one workspace and date range; medians and p90 are
taken in Python over at most ``MAX_REPORT_TICKETS`` rows per figure (``truncated`` says when
a figure hit that bound). Days are calendar days in the caller's time zone.

First response: the first agent text message after the ticket's first visitor message.
Resolution: from the ticket's creation to its (last) resolve. Per agent, a first response
counts for whoever sent it; resolutions, assignments and ratings for the ticket's assignee.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select

from app.auth.permissions import check_site, require_report_reader
from app.auth.principal import Principal
from app.errors import Invalid
from app.extensions import db
from app.lib.timeutil import as_utc
from app.limits import MAX_REPORT_DAYS, MAX_REPORT_TICKETS
from app.models import Agent, Message, Rating, Site, Ticket
from app.models.rating import RATING_MAX, RATING_MIN


@dataclass
class Durations:
    """Seconds measured for one figure."""

    values: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        if not self.values:
            return {"median": None, "p90": None, "count": 0}
        ordered = sorted(self.values)
        p90 = ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]  # nearest rank
        return {"median": round(median(ordered)), "p90": round(p90), "count": len(ordered)}


@dataclass
class Scores:
    values: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        counts = Counter(self.values)
        return {
            "count": len(self.values),
            "average": round(sum(self.values) / len(self.values), 2) if self.values else None,
            "distribution": {str(s): counts.get(s, 0) for s in range(RATING_MIN, RATING_MAX + 1)},
        }


@dataclass
class _AgentFigures:
    assigned: int = 0
    resolved: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    csat: Scores = field(default_factory=Scores)


@dataclass(frozen=True)
class _Range:
    workspace_id: str
    site_id: str | None
    start: datetime
    end: datetime
    zone: ZoneInfo

    def scoped(self, query: Any) -> Any:
        """``query`` restricted to the workspace's (and the site's) tickets."""
        query = query.where(Ticket.workspace_id == self.workspace_id)
        return query.where(Ticket.site_id == self.site_id) if self.site_id else query

    def local_date(self, at: datetime) -> date:
        return as_utc(at).astimezone(self.zone).date()


def build_report(
    principal: Principal,
    start_day: date,
    end_day: date,
    *,
    site_id: str | None = None,
    tz: str = "UTC",
) -> dict[str, Any]:
    """The report of ``start_day`` to ``end_day`` (both included) in time zone ``tz``."""
    per_agent = require_report_reader(principal)
    if end_day < start_day:
        raise Invalid("to is before from.", fields={"to": ["Before from."]})
    if (end_day - start_day).days + 1 > MAX_REPORT_DAYS:
        raise Invalid(
            f"A report covers at most {MAX_REPORT_DAYS} days.",
            fields={"to": [f"At most {MAX_REPORT_DAYS} days after from."]},
        )
    if site_id:
        check_site(principal, db.session.get(Site, site_id))
    zone = ZoneInfo(tz)
    span = _Range(
        workspace_id=principal.workspace_id,
        site_id=site_id,
        start=datetime.combine(start_day, time(), zone),
        end=datetime.combine(end_day + timedelta(days=1), time(), zone),
        zone=zone,
    )
    figures: dict[str, _AgentFigures] = {}

    def of(agent_id: str | None) -> _AgentFigures | None:
        return figures.setdefault(agent_id, _AgentFigures()) if agent_id else None

    truncated = False
    days = {start_day + timedelta(days=i): [0, 0] for i in range((end_day - start_day).days + 1)}

    created = _bounded(
        span.scoped(select(Ticket.created_at, Ticket.assignee_id)).where(
            Ticket.created_at >= span.start, Ticket.created_at < span.end
        )
    )
    truncated |= created.truncated
    for at, assignee in created.rows:
        days[span.local_date(at)][0] += 1
        if (agent := of(assignee)) is not None:
            agent.assigned += 1

    resolution = Durations()
    resolved = _bounded(
        span.scoped(select(Ticket.created_at, Ticket.resolved_at, Ticket.assignee_id)).where(
            Ticket.status == "resolved",
            Ticket.resolved_at >= span.start,
            Ticket.resolved_at < span.end,
        )
    )
    truncated |= resolved.truncated
    for opened, closed, assignee in resolved.rows:
        seconds = max((as_utc(closed) - as_utc(opened)).total_seconds(), 0.0)
        days[span.local_date(closed)][1] += 1
        resolution.values.append(seconds)
        if (agent := of(assignee)) is not None:
            agent.resolved += 1
            agent.resolution.values.append(seconds)

    first_response = Durations()
    responses = _first_responses(span)
    truncated |= responses.truncated
    for seconds, responder in responses.rows:
        first_response.values.append(seconds)
        if (agent := of(responder)) is not None:
            agent.first_response.values.append(seconds)

    csat = Scores()
    ratings = _bounded(
        span.scoped(
            select(Rating.score, Ticket.assignee_id).join(Ticket, Ticket.id == Rating.ticket_id)
        ).where(
            Rating.workspace_id == span.workspace_id,
            Rating.updated_at >= span.start,
            Rating.updated_at < span.end,
        )
    )
    truncated |= ratings.truncated
    for score, assignee in ratings.rows:
        csat.values.append(int(score))
        if (agent := of(assignee)) is not None:
            agent.csat.values.append(int(score))

    return {
        "from": start_day.isoformat(),
        "to": end_day.isoformat(),
        "tz": tz,
        "site_id": site_id,
        "truncated": truncated,
        "days": [
            {"date": day.isoformat(), "created": c, "resolved": r}
            for day, (c, r) in sorted(days.items())
        ],
        "first_response_s": first_response.summary(),
        "resolution_s": resolution.summary(),
        "csat": csat.summary(),
        "agents": _agent_rows(principal.workspace_id, figures) if per_agent else [],
    }


@dataclass
class _Rows:
    rows: list[Any]
    truncated: bool


def _bounded(query: Select[Any]) -> _Rows:
    rows = list(db.session.execute(query.limit(MAX_REPORT_TICKETS + 1)).all())
    return _Rows(rows[:MAX_REPORT_TICKETS], len(rows) > MAX_REPORT_TICKETS)


def _first_responses(span: _Range) -> _Rows:
    """``(seconds, agent_id)`` per ticket created in the range that an agent answered."""
    first_visitor = (
        span.scoped(
            select(Message.ticket_id, func.min(Message.created_at).label("asked_at")).join(
                Ticket, Ticket.id == Message.ticket_id
            )
        )
        .where(
            Message.workspace_id == span.workspace_id,
            Message.sender_type == "visitor",
            Message.kind == "text",
            Ticket.created_at >= span.start,
            Ticket.created_at < span.end,
        )
        .group_by(Message.ticket_id)
        .subquery()
    )
    first_answer = (
        select(
            first_visitor.c.ticket_id,
            first_visitor.c.asked_at,
            func.min(Message.created_at).label("answered_at"),
        )
        .join(
            Message,
            and_(
                Message.ticket_id == first_visitor.c.ticket_id,
                Message.sender_type == "agent",
                Message.kind == "text",
                Message.created_at >= first_visitor.c.asked_at,
            ),
        )
        .group_by(first_visitor.c.ticket_id, first_visitor.c.asked_at)
        .subquery()
    )
    query = select(
        first_answer.c.ticket_id,
        first_answer.c.asked_at,
        first_answer.c.answered_at,
        Message.sender_id,
    ).join(
        Message,
        and_(
            Message.ticket_id == first_answer.c.ticket_id,
            Message.created_at == first_answer.c.answered_at,
            Message.sender_type == "agent",
            Message.kind == "text",
        ),
    )
    found = _bounded(query)
    seen: set[str] = set()
    rows = []
    for ticket_id, asked, answered, agent_id in found.rows:
        if ticket_id in seen:  # two agents answered in the same millisecond
            continue
        seen.add(ticket_id)
        seconds = max((_as_datetime(answered) - _as_datetime(asked)).total_seconds(), 0.0)
        rows.append((seconds, agent_id))
    return _Rows(rows, found.truncated)


def _as_datetime(value: Any) -> datetime:
    """Aggregates of a timestamp column: a datetime, or text on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def _agent_rows(workspace_id: str, figures: dict[str, _AgentFigures]) -> list[dict[str, Any]]:
    agents = list(
        db.session.scalars(
            select(Agent)
            .where(Agent.workspace_id == workspace_id)
            .order_by(func.lower(Agent.name), Agent.id)
        )
    )
    result = []
    for agent in agents:
        mine = figures.get(agent.id)
        if mine is None and not agent.is_active:
            continue
        mine = mine or _AgentFigures()
        result.append(
            {
                "agent": {"id": agent.id, "name": agent.name},
                "assigned": mine.assigned,
                "resolved": mine.resolved,
                "first_response_s": mine.first_response.summary(),
                "resolution_s": mine.resolution.summary(),
                "csat": mine.csat.summary(),
            }
        )
    return result
