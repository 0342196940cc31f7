"""A visitor's data export and erasure (GET /visitors/{id}/export, DELETE /visitors/{id})."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.base import StrictSchema, Timestamp


class ExportQuery(StrictSchema):
    include_notes = fields.Boolean(
        load_default=False,
        metadata={"description": "Add agents' private notes (left out by default)."},
    )


class ExportVisitorOut(Schema):
    id = fields.String()
    site_id = fields.String()
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    external_id = fields.String(allow_none=True)
    verified = fields.Boolean()
    attributes = fields.Dict(keys=fields.String(), values=fields.String())
    current_url = fields.String(allow_none=True)
    page_title = fields.String(allow_none=True)
    referrer = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    first_seen_at = Timestamp()
    last_seen_at = Timestamp(allow_none=True)


class ExportSenderOut(Schema):
    type = fields.String()
    id = fields.String()
    name = fields.String()


class ExportMessageOut(Schema):
    id = fields.String()
    seq = fields.Integer()
    kind = fields.String(metadata={"description": "text, event, or note (with include_notes)"})
    sender = fields.Nested(ExportSenderOut)
    body = fields.String()
    created_at = Timestamp()


class ExportRatingOut(Schema):
    score = fields.Integer()
    comment = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class ExportBotReplyOut(Schema):
    outcome = fields.String()
    faq_id = fields.String(allow_none=True)
    confidence = fields.Float()
    helpful = fields.Boolean(allow_none=True, metadata={"description": "The visitor's feedback."})
    created_at = Timestamp()


class ExportTicketOut(Schema):
    id = fields.String()
    site_id = fields.String()
    status = fields.String()
    assignee_id = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    first_response_at = Timestamp(allow_none=True)
    resolved_at = Timestamp(allow_none=True)
    visitor_read_seq = fields.Integer()
    visitor_delivered_seq = fields.Integer()
    rating = fields.Nested(ExportRatingOut, allow_none=True)
    messages = fields.List(fields.Nested(ExportMessageOut), metadata={"description": "By seq."})
    notes_withheld = fields.Integer(
        metadata={"description": "Agents' notes left out of `messages` (0 with include_notes)."}
    )
    bot_replies = fields.List(fields.Nested(ExportBotReplyOut))


class ExportPushOut(Schema):
    id = fields.String()
    endpoint_origin = fields.String(
        metadata={
            "description": "The push service (the rest of the endpoint and the keys "
            "are capabilities and are left out)."
        }
    )
    created_at = Timestamp()


class ExportNotificationOut(Schema):
    id = fields.String()
    channel = fields.String(metadata={"description": "email or push"})
    event = fields.String()
    ticket_id = fields.String(allow_none=True)
    address = fields.String(allow_none=True, metadata={"description": "E-mail recipient."})
    status = fields.String()
    attempts = fields.Integer()
    created_at = Timestamp()
    delivered_at = Timestamp(allow_none=True)


class VisitorExportOut(Schema):
    exported_at = Timestamp()
    workspace_id = fields.String()
    includes_notes = fields.Boolean()
    truncated = fields.Boolean(
        metadata={"description": "More messages than one export carries (MAX_EXPORT_MESSAGES)."}
    )
    visitor = fields.Nested(ExportVisitorOut)
    tickets = fields.List(fields.Nested(ExportTicketOut), metadata={"description": "Oldest first."})
    push_subscriptions = fields.List(fields.Nested(ExportPushOut))
    notifications = fields.List(
        fields.Nested(ExportNotificationOut),
        metadata={"description": "The e-mail and push outbox entries addressed to the visitor."},
    )


class VisitorDeletedOut(Schema):
    deleted = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Rows removed, by kind (tickets, messages, ratings...)."},
    )
