"""The widget frame's session endpoint (public: the site key is the credential)."""

from __future__ import annotations

from flask import Response, request

from app.api import EndpointDoc, endpoint, json_body, reply
from app.schemas.widget import WidgetSessionIn, WidgetSessionOut
from app.services.widget import start_widget_session


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
