"""The console's visitor panel."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, query_args, reply
from app.auth.web import current_principal
from app.schemas.privacy import ExportQuery, VisitorDeletedOut, VisitorExportOut
from app.schemas.visitors import VisitorPanelOut
from app.services import privacy, visitors


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


@endpoint(
    "/visitors/<visitor_id>/export",
    "GET",
    EndpointDoc(
        "Everything stored about a visitor, as one JSON document (owners and admins; "
        "agents' notes only with include_notes)",
        "visitors",
        auth="manager",
        query=ExportQuery,
        response=VisitorExportOut,
        errors=(401, 403, 404, 422),
    ),
)
def export_visitor(visitor_id: str) -> tuple[Response, int]:
    principal = current_principal()
    args = query_args(ExportQuery())
    document = privacy.export_visitor(principal, visitor_id, include_notes=args["include_notes"])
    response, status = reply(VisitorExportOut(), document)
    response.headers["Content-Disposition"] = f'attachment; filename="visitor-{visitor_id}.json"'
    return response, status


@endpoint(
    "/visitors/<visitor_id>",
    "DELETE",
    EndpointDoc(
        "Erase a visitor: its tickets, messages, ratings, push subscriptions and pending "
        "notifications; its token stops working (owners and admins)",
        "visitors",
        auth="manager",
        response=VisitorDeletedOut,
        errors=(401, 403, 404),
    ),
)
def delete_visitor(visitor_id: str) -> tuple[Response, int]:
    principal = current_principal()
    return reply(VisitorDeletedOut(), {"deleted": privacy.delete_visitor(principal, visitor_id)})
