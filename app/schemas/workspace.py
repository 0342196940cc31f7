"""Workspace settings and canned-response payloads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.limits import (
    MAX_BODY_CHARS,
    MAX_CANNED_SHORTCUT_CHARS,
    MAX_CANNED_TITLE_CHARS,
    MAX_NAME_CHARS,
    MAX_ROUTING_CAPACITY,
)
from app.schemas.base import StrictInteger, StrictSchema, TrimmedString

ROUTING_MODES = ("auto", "manual")


class RoutingIn(StrictSchema):
    mode = fields.String(validate=validate.OneOf(ROUTING_MODES))
    capacity = StrictInteger(validate=validate.Range(min=1, max=MAX_ROUTING_CAPACITY))


class RoutingOut(Schema):
    mode = fields.String(metadata={"description": "auto (round-robin) or manual"})
    capacity = fields.Integer(
        metadata={"description": "Open and pending tickets routing gives one agent at most."}
    )


class WorkspacePatchIn(StrictSchema):
    name = TrimmedString(validate=validate.Length(min=1, max=MAX_NAME_CHARS))
    routing = fields.Nested(RoutingIn)


class WorkspaceOut(Schema):
    id = fields.String()
    name = fields.String()
    routing = fields.Nested(RoutingOut)


class WorkspaceEnvelope(Schema):
    workspace = fields.Nested(WorkspaceOut)


_shortcut = fields.String(
    required=True,
    validate=[
        validate.Length(min=1, max=MAX_CANNED_SHORTCUT_CHARS),
        validate.Regexp(r"^[a-z0-9_-]+$", error="Use a-z, 0-9, _ and - only."),
    ],
)


class CannedIn(StrictSchema):
    shortcut = _shortcut
    title = TrimmedString(validate=validate.Length(max=MAX_CANNED_TITLE_CHARS), allow_none=True)
    body = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_BODY_CHARS))


class CannedOut(Schema):
    id = fields.String()
    shortcut = fields.String()
    title = fields.Function(lambda c: c.title or "")
    body = fields.String()


class CannedEnvelope(Schema):
    canned_response = fields.Nested(CannedOut)


class CannedListOut(Schema):
    canned_responses = fields.List(fields.Nested(CannedOut))
