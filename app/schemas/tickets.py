"""Ticket, visitor and message payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from app.limits import (
    MAX_BODY_CHARS,
    MAX_CLIENT_ID_CHARS,
    MAX_RATING_COMMENT_CHARS,
    MAX_SEARCH_CHARS,
    MAX_SEQ,
)
from app.models.rating import RATING_MAX, RATING_MIN
from app.models.ticket import TICKET_STATUSES
from app.schemas.agents import AgentOut
from app.schemas.base import Id, StrictInteger, StrictSchema, Timestamp, TrimmedString


class SenderOut(Schema):
    type = fields.String(attribute="sender_type")
    id = fields.String(attribute="sender_id")
    name = fields.String(attribute="sender_name")


_SENDER_OUT = SenderOut()


class MessageOut(Schema):
    id = fields.String()
    ticket_id = fields.String()
    seq = fields.Integer()
    client_id = fields.String()
    kind = fields.String()
    sender = fields.Function(lambda m: _SENDER_OUT.dump(m))
    body = fields.String()
    created_at = Timestamp()
    meta = fields.Function(
        lambda m: _bot_meta(m),
        metadata={
            "description": "Bot messages only: {faq_id?, actions: [helpful|handoff], "
            "suggestions?: [{faq_id, question}]} (docs/PROTOCOL.md)."
        },
    )

    @post_dump
    def _only_bot_meta(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("meta") is None:
            data.pop("meta", None)
        return data


def _bot_meta(message: Any) -> dict[str, Any] | None:
    if getattr(message, "sender_type", None) != "bot":
        return None
    from app.services.bot_chat import message_meta

    return message_meta(message)


class VisitorOut(Schema):
    id = fields.String()
    site_id = fields.String()
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    external_id = fields.String(allow_none=True)
    attributes = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        allow_none=True,
        metadata={"description": "Answers to the site's custom pre-chat fields, by name."},
    )
    current_url = fields.String(allow_none=True)
    last_seen_at = Timestamp(allow_none=True)
    status = fields.String(metadata={"description": "online, away or offline"})


class ParticipantOut(Schema):
    type = fields.String()
    id = fields.String()
    name = fields.String()
    role = fields.String()
    read_seq = fields.Integer(
        metadata={"description": "The highest seq this participant has read (0: none)."}
    )
    delivered_seq = fields.Integer(
        metadata={"description": "The highest seq delivered to this participant's client."}
    )


class RatingOut(Schema):
    score = fields.Integer(metadata={"description": "1 (bad) to 5 (great)"})
    comment = fields.String(allow_none=True)


class TicketOut(Schema):
    id = fields.String(attribute="ticket.id")
    site_id = fields.String(attribute="ticket.site_id")
    status = fields.String(attribute="ticket.status")
    assignee = fields.Nested(AgentOut, allow_none=True)
    visitor = fields.Nested(VisitorOut)
    participants = fields.List(fields.Nested(ParticipantOut))
    last_seq = fields.Integer()
    last_message = fields.Nested(MessageOut, allow_none=True)
    unread_count = fields.Integer()
    rating = fields.Nested(
        RatingOut,
        allow_none=True,
        metadata={"description": "The visitor's satisfaction rating, once given."},
    )
    created_at = Timestamp(attribute="ticket.created_at")
    updated_at = Timestamp(attribute="ticket.updated_at")
    last_activity_at = Timestamp(attribute="ticket.last_activity_at")


#: Shared instances: building a schema costs more than dumping with it (hot paths reuse these).
MESSAGE_OUT = MessageOut()
MESSAGES_OUT = MessageOut(many=True)
TICKET_OUT = TicketOut()


class TicketEnvelope(Schema):
    ticket = fields.Nested(TicketOut)


class TicketListOut(Schema):
    tickets = fields.List(fields.Nested(TicketOut))
    next_cursor = fields.String(allow_none=True)


class TicketListQuery(StrictSchema):
    q = TrimmedString(
        validate=validate.Length(min=1, max=MAX_SEARCH_CHARS),
        metadata={
            "description": "Search: visitor name or e-mail, ticket id, or whole words of one "
            "message (agents' notes included for agents)."
        },
    )
    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    assignee = fields.String(validate=validate.Length(min=1, max=64))
    site_id = Id()
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(validate=validate.Range(min=1))


class TicketPatchIn(StrictSchema):
    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    assignee_id = Id(allow_none=True)


class ParticipantIn(StrictSchema):
    agent_id = Id(required=True)


class MessageIn(StrictSchema):
    """``message:send`` and ``POST /tickets/{id}/messages``."""

    ticket_id = Id()
    client_id = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_CLIENT_ID_CHARS)
    )
    body = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_BODY_CHARS))
    kind = fields.String(load_default="text", validate=validate.OneOf(("text", "note")))


class TicketStartIn(StrictSchema):
    """A visitor's message without a ticket: its active ticket, or a new one."""

    client_id = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_CLIENT_ID_CHARS)
    )
    body = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_BODY_CHARS))


class TicketStartOut(Schema):
    ticket = fields.Nested(TicketOut)
    message = fields.Nested(MessageOut)
    duplicate = fields.Boolean()


class MessageEnvelope(Schema):
    message = fields.Nested(MessageOut)
    duplicate = fields.Boolean()


class MessagePageQuery(StrictSchema):
    before = fields.Integer(validate=validate.Range(min=0, max=MAX_SEQ))
    after = fields.Integer(validate=validate.Range(min=0, max=MAX_SEQ))
    limit = fields.Integer(validate=validate.Range(min=1))

    @validates_schema
    def _one_cursor(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "before" in data and "after" in data:
            raise ValidationError("Give before or after, not both.", "before")


class MessagePageOut(Schema):
    messages = fields.List(fields.Nested(MessageOut))
    has_more = fields.Boolean()


class ReadIn(StrictSchema):
    ticket_id = Id()
    seq = StrictInteger(required=True, validate=validate.Range(min=0))


class OkOut(Schema):
    ok = fields.Boolean()


class RatingIn(StrictSchema):
    score = StrictInteger(required=True, validate=validate.Range(min=RATING_MIN, max=RATING_MAX))
    comment = TrimmedString(
        validate=validate.Length(max=MAX_RATING_COMMENT_CHARS),
        allow_none=True,
        load_default=None,
    )


class RatingEnvelope(Schema):
    rating = fields.Nested(RatingOut)
