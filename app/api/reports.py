"""Reports."""

from __future__ import annotations

from flask import Response

from app.api import EndpointDoc, endpoint, query_args, reply
from app.auth.web import current_principal
from app.schemas.reports import ReportOut, ReportQuery
from app.services import reports


@endpoint(
    "/reports",
    "GET",
    EndpointDoc(
        "Tickets per day, first response and resolution times, CSAT, per agent",
        "reports",
        query=ReportQuery,
        response=ReportOut,
        errors=(401, 403, 404, 422),
    ),
)
def get_report() -> tuple[Response, int]:
    principal = current_principal()
    args = query_args(ReportQuery())
    report = reports.build_report(
        principal, args["from_"], args["to"], site_id=args.get("site_id"), tz=args["tz"]
    )
    return reply(ReportOut(), report)
