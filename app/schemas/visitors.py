"""The console's visitor panel."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.base import Timestamp
from app.schemas.tickets import TicketOut


class VisitorDetailOut(Schema):
    id = fields.String(attribute="visitor.id")
    site_id = fields.String(attribute="visitor.site_id")
    name = fields.String(attribute="visitor.name", allow_none=True)
    email = fields.String(attribute="visitor.email", allow_none=True)
    external_id = fields.String(attribute="visitor.external_id", allow_none=True)
    verified = fields.Boolean(
        attribute="visitor.verified",
        metadata={"description": "The identity came with a valid user_hash."},
    )
    attributes = fields.Dict(
        attribute="visitor.attributes",
        keys=fields.String(),
        values=fields.String(),
        allow_none=True,
    )
    current_url = fields.String(attribute="visitor.current_url", allow_none=True)
    page_title = fields.String(attribute="visitor.page_title", allow_none=True)
    referrer = fields.String(attribute="visitor.referrer", allow_none=True)
    user_agent = fields.String(attribute="visitor.user_agent", allow_none=True)
    last_seen_at = Timestamp(attribute="visitor.last_seen_at", allow_none=True)
    first_seen_at = Timestamp()
    status = fields.String(metadata={"description": "online, away or offline"})


class VisitorPanelOut(Schema):
    visitor = fields.Function(lambda panel: VisitorDetailOut().dump(panel))
    tickets = fields.List(
        fields.Nested(TicketOut),
        metadata={"description": "The visitor's tickets, newest activity first."},
    )
