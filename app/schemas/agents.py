"""Auth and agent payloads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from app.limits import MAX_NAME_CHARS
from app.models.workspace import AVAILABILITIES, ROLES
from app.schemas.base import StrictSchema, TrimmedString

_password = fields.String(
    required=True, validate=validate.Length(min=MIN_PASSWORD_CHARS, max=MAX_PASSWORD_CHARS)
)
_email = fields.Email(required=True, validate=validate.Length(max=254))
_name = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_NAME_CHARS))


class SignupIn(StrictSchema):
    workspace_name = TrimmedString(required=True, validate=validate.Length(min=1, max=200))
    name = _name
    email = _email
    password = _password


class LoginIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class AgentIn(StrictSchema):
    name = _name
    email = _email
    password = _password
    role = fields.String(load_default="agent", validate=validate.OneOf(ROLES))


class AgentPatchIn(StrictSchema):
    name = TrimmedString(validate=validate.Length(min=1, max=MAX_NAME_CHARS))
    role = fields.String(validate=validate.OneOf(ROLES))
    availability = fields.String(validate=validate.OneOf(AVAILABILITIES))


class AgentUpdateIn(StrictSchema):
    """``PATCH /agents/{id}`` (owners and admins)."""

    name = TrimmedString(validate=validate.Length(min=1, max=MAX_NAME_CHARS))
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean(truthy={True}, falsy={False})


class AgentOut(Schema):
    id = fields.String()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    availability = fields.String()
    active = fields.Boolean(metadata={"description": "False once deactivated: cannot log in."})


class AuthOut(Schema):
    agent = fields.Nested(AgentOut)
    token = fields.String()
    csrf_token = fields.String(
        metadata={"description": "Send as X-CSRF-Token on cookie-authenticated writes."}
    )


class MeOut(Schema):
    agent = fields.Nested(AgentOut)
    csrf_token = fields.String(allow_none=True)


class AgentOutEnvelope(Schema):
    agent = fields.Nested(AgentOut)


class AgentListOut(Schema):
    agents = fields.List(fields.Nested(AgentOut))


class OidcStatusOut(Schema):
    enabled = fields.Boolean()
    provider_name = fields.String(
        allow_none=True, metadata={"description": "What the sign-in button says; null if off."}
    )
