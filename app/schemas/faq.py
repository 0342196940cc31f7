"""FAQ entries, their import, and the bot's answers (``/sites/{id}/faq``, ``/bot/ask``)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.limits import (
    MAX_BODY_CHARS,
    MAX_BOT_CALIBRATION_MESSAGES,
    MAX_CLIENT_ID_CHARS,
    MAX_FAQ_ALTERNATIVES,
    MAX_FAQ_ANSWER_CHARS,
    MAX_FAQ_IMPORT_ENTRIES,
    MAX_FAQ_QUESTION_CHARS,
    MAX_URL_CHARS,
)
from app.schemas.base import StrictSchema, Timestamp, TrimmedString
from app.schemas.tickets import MessageOut, TicketOut


class FaqIn(StrictSchema):
    question = TrimmedString(
        required=True, validate=validate.Length(min=1, max=MAX_FAQ_QUESTION_CHARS)
    )
    answer = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_FAQ_ANSWER_CHARS))
    alternatives = fields.List(
        TrimmedString(validate=validate.Length(min=1, max=MAX_FAQ_QUESTION_CHARS)),
        load_default=list,
        validate=validate.Length(max=MAX_FAQ_ALTERNATIVES),
    )
    external_id = TrimmedString(allow_none=True, validate=validate.Length(min=1, max=200))


class FaqImportIn(StrictSchema):
    """The import body wrapped by the view: ``entries`` is the JSON list (or the CSV rows)."""

    entries = fields.List(
        fields.Nested(FaqIn),
        required=True,
        validate=validate.Length(min=1, max=MAX_FAQ_IMPORT_ENTRIES),
    )


class FaqOut(Schema):
    id = fields.String()
    site_id = fields.String()
    question = fields.String()
    answer = fields.String()
    alternatives = fields.List(fields.String())
    external_id = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class FaqEnvelope(Schema):
    entry = fields.Nested(FaqOut)


class FaqListOut(Schema):
    entries = fields.List(fields.Nested(FaqOut))


class FaqImportOut(Schema):
    created = fields.Integer(metadata={"description": "Entries created by this import."})
    updated = fields.Integer(
        metadata={"description": "Existing entries replaced (same external_id)."}
    )
    entries = fields.List(fields.Nested(FaqOut))


class BotAskIn(StrictSchema):
    text = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_BODY_CHARS))


class BotSuggestionOut(Schema):
    faq_id = fields.String()
    external_id = fields.String(allow_none=True)
    question = fields.String()
    confidence = fields.Float()


class BotAskOut(Schema):
    handoff = fields.Boolean()
    reason = fields.String(
        allow_none=True,
        metadata={
            "description": "When handoff: asked_for_person, asked_about_bot, no_match, "
            "unsure (see suggestions) or no_knowledge."
        },
    )
    faq_id = fields.String(allow_none=True)
    external_id = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)
    confidence = fields.Float()
    suggestions = fields.List(
        fields.Nested(BotSuggestionOut),
        metadata={"description": "The 'Did you mean...?' choices when reason is unsure."},
    )


class BotFeedbackIn(StrictSchema):
    """``bot:feedback``: the visitor pressed "That helped" (true) or "Talk to a human"."""

    ticket_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    message_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    helpful = fields.Boolean(required=True, truthy={True}, falsy={False})


def _unit(**kwargs: object) -> fields.Float:
    return fields.Float(validate=validate.Range(min=0, max=1), allow_nan=False, **kwargs)  # type: ignore[arg-type]


class BotSettingsIn(StrictSchema):
    answer_threshold = _unit(required=True)
    margin = _unit(required=True)
    suggest_threshold = _unit(required=True)

    @validates_schema
    def _band(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["suggest_threshold"] > data["answer_threshold"]:
            raise ValidationError("Must not be above answer_threshold.", "suggest_threshold")


class BotSettingsOut(Schema):
    answer_threshold = fields.Float()
    margin = fields.Float()
    suggest_threshold = fields.Float()
    calibrated = fields.Boolean(
        metadata={"description": "False while the site uses the project's defaults."}
    )
    calibration = fields.Dict(
        allow_none=True,
        metadata={"description": "Budget and result of the last calibration, if any."},
    )


class LabelledIn(StrictSchema):
    text = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_BODY_CHARS))
    expected = TrimmedString(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The entry's id or external_id that should answer, or HANDOFF."},
    )


class BotCalibrateIn(StrictSchema):
    messages = fields.List(
        fields.Nested(LabelledIn),
        required=True,
        validate=validate.Length(min=1, max=MAX_BOT_CALIBRATION_MESSAGES),
    )
    wrong_answer_budget = fields.Float(
        load_default=0.05, validate=validate.Range(min=0, max=0.5), allow_nan=False
    )


class BotWebhookIn(StrictSchema):
    url = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_URL_CHARS))


class BotWebhookOut(Schema):
    url = fields.String()
    secret = fields.String(
        metadata={
            "description": "Signs deliveries (X-Parley-Signature) and authenticates the bot's "
            "replies (Authorization: Bearer <secret>)."
        }
    )


class BotReplyIn(StrictSchema):
    """What a bring-your-own bot posts back: a message, a handoff, or both."""

    ticket_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    client_id = fields.String(validate=validate.Length(min=1, max=MAX_CLIENT_ID_CHARS))
    body = TrimmedString(validate=validate.Length(min=1, max=MAX_BODY_CHARS))
    actions = fields.List(
        fields.String(validate=validate.OneOf(("helpful", "handoff"))),
        load_default=list,
        validate=validate.Length(max=2),
    )
    handoff = fields.Boolean(load_default=False, truthy={True}, falsy={False})

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("body") and not data.get("handoff"):
            raise ValidationError("Send a body, handoff: true, or both.", "body")
        if data.get("body") and not data.get("client_id"):
            raise ValidationError("A message needs a client_id (1-64 chars).", "client_id")


class BotReplyOut(Schema):
    message = fields.Nested(MessageOut, allow_none=True)
    ticket = fields.Nested(TicketOut)
