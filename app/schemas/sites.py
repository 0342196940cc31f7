"""Site payloads and the widget settings every site carries."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from app.limits import MAX_ALLOWED_ORIGINS, MAX_NAME_CHARS, MAX_PRECHAT_FIELDS
from app.schemas.base import Origin, StrictSchema, TrimmedString

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")

DEFAULT_SETTINGS: dict[str, Any] = {
    "color": "#4f46e5",
    "title": "Chat with us",
    "greeting": "Hi! How can we help you today?",
    "position": "right",
    "locale": "en",
    "business_hours": None,
    "prechat_fields": [],
    "bot_enabled": False,
}


class OpeningSpan(StrictSchema):
    open = fields.String(required=True, validate=validate.Regexp(_HHMM))
    close = fields.String(required=True, validate=validate.Regexp(_HHMM))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["open"] >= data["close"]:
            raise ValidationError("open must be before close.", "close")


class BusinessHours(StrictSchema):
    timezone = fields.String(required=True, validate=validate.Length(max=64))
    days = fields.Dict(
        keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
        values=fields.List(fields.Nested(OpeningSpan), validate=validate.Length(max=4)),
        required=True,
    )

    @validates("timezone")
    def _known_zone(self, value: str, **kwargs: Any) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("Unknown time zone.") from exc


#: A pre-chat field's name: ``name`` and ``email`` fill the visitor's own columns, any other
#: is kept in the visitor's ``attributes``.
PRECHAT_NAME = r"^[a-z][a-z0-9_]{0,31}$"


class PrechatField(StrictSchema):
    name = fields.String(required=True, validate=validate.Regexp(PRECHAT_NAME))
    label = TrimmedString(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(load_default="text", validate=validate.OneOf(("text", "email")))
    required = fields.Boolean(load_default=False)

    @validates_schema
    def _email_is_an_email(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("name") == "email" and data.get("type") != "email":
            raise ValidationError("The email field must have the type email.", "type")


def _unique_names(value: list[dict[str, Any]]) -> None:
    names = [field["name"] for field in value]
    if len(names) != len(set(names)):
        raise ValidationError("Each pre-chat field needs its own name.")


class SiteSettingsIn(StrictSchema):
    color = fields.String(validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"))
    title = TrimmedString(validate=validate.Length(min=1, max=60))
    greeting = TrimmedString(validate=validate.Length(max=500))
    position = fields.String(validate=validate.OneOf(("left", "right")))
    locale = fields.String(validate=validate.Regexp(r"^[a-z]{2}(?:-[A-Z]{2})?$"))
    business_hours = fields.Nested(BusinessHours, allow_none=True)
    prechat_fields = fields.List(
        fields.Nested(PrechatField),
        validate=[validate.Length(max=MAX_PRECHAT_FIELDS), _unique_names],
    )
    bot_enabled = fields.Boolean()


_origins = fields.List(Origin(), validate=validate.Length(max=MAX_ALLOWED_ORIGINS))


class SiteIn(StrictSchema):
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_NAME_CHARS))
    allowed_origins = fields.List(
        Origin(), load_default=list, validate=validate.Length(max=MAX_ALLOWED_ORIGINS)
    )
    settings = fields.Nested(SiteSettingsIn)


class SitePatchIn(StrictSchema):
    name = TrimmedString(validate=validate.Length(min=1, max=MAX_NAME_CHARS))
    allowed_origins = _origins
    settings = fields.Nested(SiteSettingsIn)


class SiteSettingsOut(Schema):
    color = fields.String()
    title = fields.String()
    greeting = fields.String()
    position = fields.String()
    locale = fields.String()
    business_hours = fields.Dict(allow_none=True)
    prechat_fields = fields.List(fields.Dict())
    bot_enabled = fields.Boolean()


class SiteOut(Schema):
    id = fields.String()
    name = fields.String()
    site_key = fields.String()
    allowed_origins = fields.List(fields.String())
    settings = fields.Nested(SiteSettingsOut)
    installed = fields.Boolean(metadata={"description": "A visitor has connected."})
    installed_at = fields.String(
        allow_none=True,
        metadata={"description": "When the first visitor's widget session started, or null."},
    )


class SiteWithSecretOut(SiteOut):
    site_secret = fields.String()


class SiteEnvelope(Schema):
    site = fields.Nested(SiteWithSecretOut)


class SiteListOut(Schema):
    sites = fields.List(fields.Nested(SiteWithSecretOut))


class InstallOut(Schema):
    snippet = fields.String()
    site_key = fields.String()
