"""The widget frame's endpoints: its session (public: the site key is the credential) and
what the visitor tells about itself (visitor token)."""

from __future__ import annotations

from flask import Response, request

from app.api import EndpointDoc, endpoint, json_body, reply
from app.auth.web import current_principal
from app.schemas.widget import VisitorEnvelope, VisitorPatchIn, WidgetSessionIn, WidgetSessionOut
from app.services.widget import start_widget_session, update_visitor


@endpoint(
    "/widget/session",
    "POST",
    EndpointDoc(
        "Start or resume a visitor's session on a site",
        "widget",
        auth="none",
        body=WidgetSessionIn,
        response=WidgetSessionOut,
        errors=(403, 404, 422),
    ),
)
def widget_session() -> tuple[Response, int]:
    data = json_body(WidgetSessionIn())
    result = start_widget_session(
        data["site_key"],
        visitor_token=data.get("visitor_token"),
        identity=data.get("identity"),
        page=data.get("page"),
        user_agent=request.headers.get("User-Agent"),
    )
    return reply(WidgetSessionOut(), result)


@endpoint(
    "/widget/visitor",
    "PATCH",
    EndpointDoc(
        "The visitor's name, e-mail, pre-chat answers and page (stored before its first "
        "message too)",
        "widget",
        auth="visitor",
        body=VisitorPatchIn,
        response=VisitorEnvelope,
        errors=(401, 403, 422),
    ),
)
def patch_visitor() -> tuple[Response, int]:
    principal = current_principal(visitors=True)
    data = json_body(VisitorPatchIn())
    visitor = update_visitor(principal, data, request.headers.get("User-Agent"))
    return reply(VisitorEnvelope(), {"visitor": visitor})
