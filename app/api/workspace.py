"""The workspace's settings."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, json_body, reply
from app.auth.web import current_principal
from app.errors import Invalid
from app.schemas.workspace import WorkspaceEnvelope, WorkspacePatchIn
from app.services import workspace


@endpoint(
    "/workspace",
    "GET",
    EndpointDoc(
        "The caller's workspace and its routing settings",
        "workspace",
        response=WorkspaceEnvelope,
        errors=(401, 403),
    ),
)
def get_workspace() -> tuple[Response, int]:
    principal = current_principal()
    row = workspace.get_workspace(principal)
    return reply(WorkspaceEnvelope(), {"workspace": workspace.workspace_json(row)})


@endpoint(
    "/workspace",
    "PATCH",
    EndpointDoc(
        "Rename the workspace or change its routing (owners and admins)",
        "workspace",
        auth="manager",
        body=WorkspacePatchIn,
        response=WorkspaceEnvelope,
        errors=(401, 403, 422),
    ),
)
def update_workspace() -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(WorkspacePatchIn())
    if not data:
        raise Invalid("Nothing to change: send name and/or routing.")
    row = workspace.update_workspace(principal, data)
    return reply(WorkspaceEnvelope(), {"workspace": workspace.workspace_json(row)})
