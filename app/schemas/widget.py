"""The widget frame's session payloads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.limits import (
    MAX_EMAIL_CHARS,
    MAX_NAME_CHARS,
    MAX_PRECHAT_ANSWER_CHARS,
    MAX_PRECHAT_FIELDS,
    MAX_URL_CHARS,
)
from app.schemas.base import StrictSchema, Timestamp, TrimmedString
from app.schemas.sites import PRECHAT_NAME, SiteSettingsOut
from app.schemas.tickets import TicketOut, VisitorOut


class IdentityIn(StrictSchema):
    external_id = TrimmedString(required=True, validate=validate.Length(min=1, max=200))
    user_hash = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"))
    name = TrimmedString(validate=validate.Length(max=MAX_NAME_CHARS), allow_none=True)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)


class PageIn(StrictSchema):
    url = fields.String(validate=validate.Length(max=MAX_URL_CHARS), allow_none=True)
    title = fields.String(validate=validate.Length(max=500), allow_none=True)
    referrer = fields.String(validate=validate.Length(max=MAX_URL_CHARS), allow_none=True)


class WidgetSessionIn(StrictSchema):
    site_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    visitor_token = fields.String(validate=validate.Length(max=512), allow_none=True)
    identity = fields.Nested(IdentityIn, allow_none=True)
    page = fields.Nested(PageIn, allow_none=True)


class WidgetSiteOut(Schema):
    name = fields.String()
    settings = fields.Nested(SiteSettingsOut)
    online = fields.Boolean(metadata={"description": "An agent is available now."})
    open = fields.Boolean(
        metadata={"description": "Inside the site's business hours (always, without any)."}
    )
    next_open_at = Timestamp(
        allow_none=True,
        metadata={"description": "When closed: the next opening (UTC), if there is one."},
    )


class WidgetSessionOut(Schema):
    visitor_token = fields.String()
    visitor = fields.Nested(VisitorOut)
    site = fields.Nested(WidgetSiteOut)
    tickets = fields.List(fields.Nested(TicketOut))


class VisitorPatchIn(StrictSchema):
    """What the visitor tells about itself: pre-chat answers, or an e-mail to be reached at."""

    name = TrimmedString(validate=validate.Length(min=1, max=MAX_NAME_CHARS), allow_none=True)
    email = TrimmedString(
        validate=[validate.Length(max=MAX_EMAIL_CHARS), validate.Email()], allow_none=True
    )
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        keys=fields.String(validate=validate.Regexp(PRECHAT_NAME)),
        values=TrimmedString(validate=validate.Length(max=MAX_PRECHAT_ANSWER_CHARS)),
        validate=validate.Length(max=MAX_PRECHAT_FIELDS),
        metadata={"description": "Answers to the site's other pre-chat fields, by name."},
    )
    page = fields.Nested(
        PageIn,
        metadata={"description": "Where the widget is now (sent after the first message)."},
    )


class VisitorEnvelope(Schema):
    visitor = fields.Nested(VisitorOut)
