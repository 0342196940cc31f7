"""Payloads of the liveness and readiness probes."""

from __future__ import annotations

from marshmallow import Schema, fields


class HealthOut(Schema):
    status = fields.String(metadata={"enum": ["ok"]})


class ReadyOut(Schema):
    status = fields.String(metadata={"enum": ["ok", "unavailable"]})
    checks = fields.Dict(
        keys=fields.String(),
        values=fields.String(metadata={"enum": ["ok", "down"]}),
        metadata={"description": "database, and redis where configured"},
    )
    error = fields.Dict(metadata={"description": "Present when not ready (HTTP 503)."})
