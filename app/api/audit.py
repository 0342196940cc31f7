"""The workspace's audit log (owners and admins)."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, query_args, reply
from app.auth.web import current_principal
from app.schemas.audit import AuditPageOut, AuditQuery
from app.services import audit


@endpoint(
    "/workspace/audit",
    "GET",
    EndpointDoc(
        "The audit log: who assigned, resolved, deleted or changed settings, newest first "
        "(owners and admins)",
        "workspace",
        auth="manager",
        query=AuditQuery,
        response=AuditPageOut,
        errors=(401, 403, 422),
    ),
)
def list_audit() -> tuple[Response, int]:
    principal = current_principal()
    return reply(AuditPageOut(), audit.list_audit(principal, **query_args(AuditQuery())))
