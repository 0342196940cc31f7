"""The REST transport (``/api/v1``): load a schema, call one service, dump a schema."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema

from app.errors import malformed_request
from app.schemas.base import load

bp = Blueprint("api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class EndpointDoc:
    """What the OpenAPI document says of one endpoint."""

    summary: str
    tag: str
    auth: str = "agent"  # "none", "agent", "agent_or_visitor", "manager"
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = field(default_factory=tuple)
    body_is_list: bool = False
    #: For a 201 endpoint that may also answer 200 with the same schema: when it does.
    also_200: str | None = None


def endpoint(rule: str, method: str, doc: EndpointDoc) -> Callable[[F], F]:
    """Register a view on the API blueprint and record its documentation."""

    def register(view: F) -> F:
        view.openapi = doc  # type: ignore[attr-defined]
        bp.add_url_rule(rule, view_func=view, methods=[method])
        return view

    return register


def json_body(schema: Schema | None = None, *, partial: bool = False) -> Any:
    """The request's JSON body, validated by ``schema`` when given."""
    if not request.is_json:
        raise malformed_request("Send a JSON body with Content-Type: application/json.")
    try:
        data = request.get_json(silent=True)
    except RecursionError as exc:  # the json module recurses once per nesting level
        raise malformed_request("The JSON body is nested too deeply.") from exc
    if data is None and request.get_data(cache=True):
        raise malformed_request("The request body is not valid JSON.")
    if schema is None:
        return data
    return load(schema, data if data is not None else {}, partial=partial)


def query_args(schema: Schema) -> dict[str, Any]:
    """The query string, validated by ``schema`` (repeated keys are an error)."""
    data: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        if len(values) > 1:
            raise malformed_request(f"Query parameter {key!r} is repeated.")
        data[key] = values[0]
    return load(schema, data)


def reply(schema: Schema, obj: Any, status: int = 200) -> tuple[Response, int]:
    return jsonify(schema.dump(obj)), status


from app.api import (  # noqa: E402,F401
    agents,
    audit,
    auth,
    canned,
    push,
    reports,
    sites,
    tickets,
    visitors,
    webhooks,
    widget,
    workspace,
)
from app.api import bot as _bot  # noqa: E402,F401
