"""The audit log (GET /workspace/audit)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from app.lib.ids import looks_like_id
from app.schemas.base import Id, StrictSchema, Timestamp
from app.services.audit import ACTIONS, SYSTEM_ACTOR


def _action_filter(value: str) -> None:
    prefixes = {a.split(".", 1)[0] + "." for a in ACTIONS}
    if value not in ACTIONS and value not in prefixes:
        raise ValidationError("Not a known action or action prefix (such as ticket.).")


def _actor_filter(value: str) -> None:
    if value != SYSTEM_ACTOR and not looks_like_id(value):
        raise ValidationError("An agent id, or system.")


class AuditQuery(StrictSchema):
    action = fields.String(
        validate=_action_filter,
        metadata={
            "description": "One action, or a prefix such as `ticket.`: " + ", ".join(ACTIONS)
        },
    )
    actor = fields.String(
        validate=_actor_filter,
        metadata={"description": "An agent id, or `system` for entries without an agent."},
    )
    target_id = fields.String(validate=validate.Length(min=1, max=64))
    before = Id(metadata={"description": "The id of the last entry of the previous page."})
    limit = fields.Integer(validate=validate.Range(min=1))


class AuditActorOut(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)


class AuditTargetOut(Schema):
    type = fields.String(allow_none=True)
    id = fields.String(allow_none=True)


class AuditEntryOut(Schema):
    id = fields.String()
    action = fields.String()
    actor = fields.Nested(
        AuditActorOut,
        allow_none=True,
        metadata={"description": "The agent who acted; null for the system or a visitor."},
    )
    target = fields.Nested(AuditTargetOut)
    details = fields.Dict(metadata={"description": "What changed (never secrets or bodies)."})
    created_at = Timestamp()


class AuditPageOut(Schema):
    entries = fields.List(fields.Nested(AuditEntryOut), metadata={"description": "Newest first."})
    has_more = fields.Boolean()
    next_before = fields.String(
        allow_none=True, metadata={"description": "Pass as `before` for the next page."}
    )
