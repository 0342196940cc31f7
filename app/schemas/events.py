"""Payloads of the Socket.IO events (CONTRACT section 5), client -> server and back."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.events import names
from app.schemas.base import Id, StrictInteger, StrictSchema
from app.schemas.faq import BotFeedbackIn
from app.schemas.tickets import MessageIn, MessageOut, ReadIn, TicketOut

#: Most tickets one ``sync`` may ask about.
SYNC_MAX_TICKETS = 200


class TicketRefIn(StrictSchema):
    ticket_id = Id(required=True)


class TypingIn(StrictSchema):
    ticket_id = Id(required=True)
    typing = fields.Boolean(required=True, truthy={True}, falsy={False})


class SeqIn(ReadIn):
    ticket_id = Id(required=True)


class SyncIn(StrictSchema):
    tickets = fields.Dict(
        keys=Id(),
        values=StrictInteger(validate=validate.Range(min=0)),
        required=True,
        validate=validate.Length(max=SYNC_MAX_TICKETS),
    )


class HeartbeatIn(StrictSchema):
    status = fields.String(validate=validate.OneOf(("online", "away")))


class SubjectOut(Schema):
    type = fields.String()
    id = fields.String()


class SenderRefOut(SubjectOut):
    name = fields.String()


class MessageNewOut(Schema):
    message = fields.Nested(MessageOut)


class TypingOut(Schema):
    ticket_id = fields.String()
    sender = fields.Nested(SenderRefOut)
    typing = fields.Boolean()


class ReceiptOut(Schema):
    ticket_id = fields.String()
    reader = fields.Nested(SubjectOut)
    seq = fields.Integer()


class PresenceOut(Schema):
    subject = fields.Nested(SubjectOut)
    status = fields.String()
    last_seen_at = fields.String()


class TicketEventOut(Schema):
    ticket = fields.Nested(TicketOut)


class QueueOut(Schema):
    ticket_id = fields.String()
    position = fields.Integer(metadata={"description": "1 is next."})
    expected_wait_s = fields.Integer(
        allow_none=True, metadata={"description": "From recent first responses; null if unknown."}
    )


class HeartbeatOut(Schema):
    ok = fields.Boolean()
    status = fields.String()


#: Every event name with the schema of its payload (for the catalogue test and the docs).
SERVER_EVENT_SCHEMAS: dict[str, type[Schema]] = {
    names.MESSAGE_NEW: MessageNewOut,
    names.TYPING: TypingOut,
    names.DELIVERED: ReceiptOut,
    names.READ: ReceiptOut,
    names.PRESENCE: PresenceOut,
    names.TICKET_CREATED: TicketEventOut,
    names.TICKET_UPDATED: TicketEventOut,
    names.QUEUE: QueueOut,
}
CLIENT_EVENT_SCHEMAS: dict[str, type[Schema]] = {
    names.MESSAGE_SEND: MessageIn,
    names.TYPING: TypingIn,
    names.DELIVERED: SeqIn,
    names.READ: SeqIn,
    names.TICKET_JOIN: TicketRefIn,
    names.TICKET_LEAVE: TicketRefIn,
    names.TICKET_HANDOFF: TicketRefIn,
    names.SYNC: SyncIn,
    names.PRESENCE_HEARTBEAT: HeartbeatIn,
    names.BOT_FEEDBACK: BotFeedbackIn,
}
