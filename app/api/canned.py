"""Canned responses."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, json_body, reply
from app.auth.web import current_principal
from app.errors import Invalid
from app.schemas.workspace import CannedEnvelope, CannedIn, CannedListOut
from app.services import canned


@endpoint(
    "/canned-responses",
    "GET",
    EndpointDoc(
        "The workspace's canned responses, by shortcut",
        "canned",
        response=CannedListOut,
        errors=(401, 403),
    ),
)
def list_canned() -> tuple[Response, int]:
    principal = current_principal()
    return reply(CannedListOut(), {"canned_responses": canned.list_canned(principal)})


@endpoint(
    "/canned-responses",
    "POST",
    EndpointDoc(
        "Add a canned response (its shortcut is unique in the workspace)",
        "canned",
        body=CannedIn,
        response=CannedEnvelope,
        status=201,
        errors=(401, 403, 409, 422),
    ),
)
def create_canned() -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(CannedIn())
    row = canned.create_canned(principal, data)
    return reply(CannedEnvelope(), {"canned_response": row}, 201)


@endpoint(
    "/canned-responses/<canned_id>",
    "PATCH",
    EndpointDoc(
        "Change a canned response",
        "canned",
        body=CannedIn,
        response=CannedEnvelope,
        errors=(401, 403, 404, 409, 422),
    ),
)
def update_canned(canned_id: str) -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(CannedIn(), partial=True)
    if not data:
        raise Invalid("Nothing to change: send shortcut, title and/or body.")
    row = canned.update_canned(principal, canned_id, data)
    return reply(CannedEnvelope(), {"canned_response": row})


@endpoint(
    "/canned-responses/<canned_id>",
    "DELETE",
    EndpointDoc("Delete a canned response", "canned", response=None, errors=(401, 403, 404)),
)
def delete_canned(canned_id: str) -> tuple[Response, int]:
    principal = current_principal()
    canned.delete_canned(principal, canned_id)
    return Response(status=204), 204
