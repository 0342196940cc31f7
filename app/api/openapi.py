"""The OpenAPI 3 document, generated from the endpoints' schemas."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, current_app, jsonify
from marshmallow import Schema, fields

from app.api import EndpointDoc, endpoint

_PATH_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
_ERROR_TEXT = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Invalid fields",
    429: "Rate limited",
    503: "Unavailable",
}


class ErrorBody(Schema):
    code = fields.String(
        metadata={
            "enum": [
                "invalid",
                "unauthorized",
                "forbidden",
                "not_found",
                "conflict",
                "too_large",
                "rate_limited",
                "unavailable",
            ]
        }
    )
    message = fields.String()
    fields_ = fields.Dict(data_key="fields")


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody)


def build_spec(app: Flask) -> dict[str, Any]:
    """Every documented endpoint of ``app`` as an OpenAPI 3.0 document."""
    spec = APISpec(
        title="Parley API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "REST API of Parley. Socket.IO events: docs/PROTOCOL.md"},
    )
    spec.components.schema("Error", schema=ErrorOut)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme(
        "cookie", {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]}
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        doc: EndpointDoc | None = getattr(view, "openapi", None)
        if doc is None:
            continue
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, doc, rule.rule)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()  # type: ignore[no-any-return]


def _operation(endpoint: str, doc: EndpointDoc, rule: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": doc.summary,
        "tags": [doc.tag],
        "operationId": endpoint.replace(".", "_"),
    }
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(rule)
    ]
    if doc.query is not None:
        params.append({"in": "query", "schema": doc.query})
    if params:
        op["parameters"] = params
    if doc.body is not None:
        body_schema: Any = doc.body
        if doc.body_is_list:
            body_schema = {"type": "array", "items": doc.body}
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schema}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if doc.response is not None:
        ok["content"] = {"application/json": {"schema": doc.response}}
    status = 204 if doc.response is None else doc.status
    responses: dict[str, Any] = {str(status): ok}
    if doc.status == 201 and doc.body is not None and "messages" in rule:
        responses["200"] = {
            "description": "A resend: the stored message",
            "content": {"application/json": {"schema": doc.response}},
        }
    elif doc.also_200:
        responses["200"] = {
            "description": doc.also_200,
            "content": {"application/json": {"schema": doc.response}},
        }
    # Every endpoint is rate limited (app/api/rate_limits.py) and may find the database down.
    errors = set(doc.errors) | ({400, 413} if doc.body is not None else set()) | {429, 503}
    if doc.query is not None:
        errors.add(422)
    for code in sorted(errors):
        responses[str(code)] = {
            "description": _ERROR_TEXT[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    op["responses"] = responses
    op["security"] = [] if doc.auth == "none" else [{"bearer": []}, {"cookie": []}]
    return op


class OpenApiOut(Schema):
    openapi = fields.String(metadata={"example": "3.0.3"})
    info = fields.Dict()
    paths = fields.Dict()
    components = fields.Dict()


@endpoint(
    "/openapi.json",
    "GET",
    EndpointDoc("This API's OpenAPI 3 document", "meta", auth="none", response=OpenApiOut),
)
def openapi() -> tuple[Response, int]:
    """This API's OpenAPI 3 document."""
    return jsonify(build_spec(current_app)), 200
