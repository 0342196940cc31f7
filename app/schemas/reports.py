"""Report query and payload."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates

from app.schemas.base import Id, StrictSchema


class ReportQuery(StrictSchema):
    from_ = fields.Date(required=True, data_key="from", metadata={"description": "YYYY-MM-DD"})
    to = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, included"})
    site_id = Id()
    tz = fields.String(
        load_default="UTC",
        validate=validate.Length(min=1, max=64),
        metadata={"description": "IANA time zone the days are counted in (default UTC)."},
    )

    @validates("tz")
    def _known_zone(self, value: str, **kwargs: Any) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("Unknown time zone.") from exc


class DurationOut(Schema):
    median = fields.Integer(allow_none=True, metadata={"description": "Seconds; null if none."})
    p90 = fields.Integer(allow_none=True, metadata={"description": "Seconds; null if none."})
    count = fields.Integer()


class CsatOut(Schema):
    count = fields.Integer()
    average = fields.Float(allow_none=True)
    distribution = fields.Dict(keys=fields.String(), values=fields.Integer())


class DayOut(Schema):
    date = fields.String()
    created = fields.Integer()
    resolved = fields.Integer()


class ReportAgentRef(Schema):
    id = fields.String()
    name = fields.String()


class AgentReportOut(Schema):
    agent = fields.Nested(ReportAgentRef)
    assigned = fields.Integer()
    resolved = fields.Integer()
    first_response_s = fields.Nested(DurationOut)
    resolution_s = fields.Nested(DurationOut)
    csat = fields.Nested(CsatOut)


class ReportOut(Schema):
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    tz = fields.String()
    site_id = fields.String(allow_none=True)
    truncated = fields.Boolean(
        metadata={"description": "A figure read its row bound; the range is too busy."}
    )
    days = fields.List(fields.Nested(DayOut))
    first_response_s = fields.Nested(DurationOut)
    resolution_s = fields.Nested(DurationOut)
    csat = fields.Nested(CsatOut)
    agents = fields.List(
        fields.Nested(AgentReportOut),
        metadata={"description": "Per agent, for owners and admins; empty for agents."},
    )
