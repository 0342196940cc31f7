"""The console's visitor panel."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, reply
from app.auth.web import current_principal
from app.schemas.visitors import VisitorPanelOut
from app.services import visitors


@endpoint(
    "/visitors/<visitor_id>",
    "GET",
    EndpointDoc(
        "A visitor (browser, pages, first seen) and its tickets, newest first",
        "visitors",
        response=VisitorPanelOut,
        errors=(401, 403, 404),
    ),
)
def get_visitor(visitor_id: str) -> tuple[Response, int]:
    principal = current_principal()
    return reply(VisitorPanelOut(), visitors.visitor_panel(principal, visitor_id))
