"""The OpenAPI document: valid OpenAPI 3, complete, and built from the marshmallow schemas."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from app.api import EndpointDoc

_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.is_json
    return r.get_json()  # type: ignore[no-any-return]


def _documented_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(OpenAPI path, method, endpoint) for every API and probe rule of the app."""
    found = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/v1/") or rule.rule in ("/healthz", "/readyz")):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((_PARAM.sub(r"{\1}", rule.rule), method.lower(), rule.endpoint))
    return found


def test_spec_is_valid_openapi_3(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]
    validate(spec)


def test_every_route_has_an_operation(app: Flask, spec: dict[str, Any]) -> None:
    rules = _documented_rules(app)
    assert len(rules) > 20
    missing = [(p, m) for p, m, _ in rules if m not in spec["paths"].get(p, {})]
    assert missing == []
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json"):
        assert "get" in spec["paths"][path]


def test_every_view_carries_its_doc(app: Flask) -> None:
    for _, _, endpoint in _documented_rules(app):
        doc = getattr(app.view_functions[endpoint], "openapi", None)
        assert isinstance(doc, EndpointDoc), endpoint


def test_spec_documents_no_route_that_does_not_exist(app: Flask, spec: dict[str, Any]) -> None:
    routes = {(p, m) for p, m, _ in _documented_rules(app)}
    documented = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert documented <= routes


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_request_bodies_reference_the_marshmallow_schemas(app: Flask, spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    checked = 0
    for path, method, endpoint in _documented_rules(app):
        doc: EndpointDoc = app.view_functions[endpoint].openapi
        op = spec["paths"][path][method]
        if doc.body is None:
            assert "requestBody" not in op, (path, method)
            continue
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        if doc.body_is_list:
            schema = schema["items"]
        ref = schema["$ref"]
        name = ref.rsplit("/", 1)[1]
        assert ref == f"#/components/schemas/{name}"
        assert name == doc.body.__name__
        declared = {f.data_key or n for n, f in doc.body().fields.items() if not f.dump_only}
        assert set(schemas[name]["properties"]) == declared
        required = {f.data_key or n for n, f in doc.body().fields.items() if f.required}
        assert set(schemas[name].get("required", [])) == required
        checked += 1
    assert checked >= 10


def test_known_bodies_list_their_required_fields(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    signup = spec["paths"]["/api/v1/auth/signup"]["post"]
    ref = signup["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[ref.rsplit("/", 1)[1]]["required"]) == {
        "workspace_name",
        "name",
        "email",
        "password",
    }
    send = spec["paths"]["/api/v1/tickets/{ticket_id}/messages"]["post"]
    ref = send["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    message_in = schemas[ref.rsplit("/", 1)[1]]
    assert set(message_in["required"]) == {"client_id", "body"}
    assert message_in["properties"]["body"]["maxLength"] == 5000
    assert message_in["properties"]["client_id"]["maxLength"] == 64


def test_operations_document_success_and_errors(spec: dict[str, Any]) -> None:
    ops = spec["paths"]
    assert "201" in ops["/api/v1/sites"]["post"]["responses"]
    send = ops["/api/v1/tickets/{ticket_id}/messages"]["post"]["responses"]
    assert {"201", "200", "404", "422"} <= set(send)
    assert "401" in ops["/api/v1/auth/login"]["post"]["responses"]
    assert "503" in ops["/readyz"]["get"]["responses"]
    error_ref = send["422"]["content"]["application/json"]["schema"]["$ref"]
    assert error_ref == "#/components/schemas/Error"
    for path, methods in ops.items():
        for method, op in methods.items():
            assert any(code.startswith("2") for code in op["responses"]), (path, method)


def test_path_parameters_are_declared(spec: dict[str, Any]) -> None:
    for path, methods in spec["paths"].items():
        names = set(re.findall(r"{([a-z_]+)}", path))
        for op in methods.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path


def test_query_parameters_come_from_the_query_schemas(spec: dict[str, Any]) -> None:
    listed = spec["paths"]["/api/v1/tickets"]["get"]["parameters"]
    assert {p["name"] for p in listed if p["in"] == "query"} == {
        "q",
        "status",
        "assignee",
        "site_id",
        "cursor",
        "limit",
    }
    history = spec["paths"]["/api/v1/tickets/{ticket_id}/messages"]["get"]["parameters"]
    assert {p["name"] for p in history if p["in"] == "query"} == {"before", "after", "limit"}


def test_public_endpoints_need_no_credentials(spec: dict[str, Any]) -> None:
    ops = spec["paths"]
    for path in ("/api/v1/auth/signup", "/api/v1/auth/login", "/api/v1/widget/session"):
        assert ops[path]["post"]["security"] == []
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json"):
        assert ops[path]["get"]["security"] == []
    assert ops["/api/v1/sites"]["get"]["security"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"


def test_widget_visitor_and_rating_endpoints_are_documented(spec: dict[str, Any]) -> None:
    ops = spec["paths"]
    schemas = spec["components"]["schemas"]
    patch = ops["/api/v1/widget/visitor"]["patch"]
    assert patch["security"]  # a visitor token
    assert {"200", "401", "403", "422"} <= set(patch["responses"])
    ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[ref.rsplit("/", 1)[1]]["properties"]) == {"name", "email", "fields", "page"}

    rate = ops["/api/v1/tickets/{ticket_id}/rating"]["post"]
    assert {"201", "200", "404", "409", "422"} <= set(rate["responses"])
    assert "replaced" in rate["responses"]["200"]["description"]
    ref = rate["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    rating_in = schemas[ref.rsplit("/", 1)[1]]
    assert rating_in["required"] == ["score"]
    assert (
        rating_in["properties"]["score"]["minimum"],
        rating_in["properties"]["score"]["maximum"],
    ) == (1, 5)

    session = ops["/api/v1/widget/session"]["post"]["responses"]["200"]
    ref = session["content"]["application/json"]["schema"]["$ref"]
    site_ref = schemas[ref.rsplit("/", 1)[1]]["properties"]["site"]
    site = schemas[(site_ref.get("$ref") or site_ref["allOf"][0]["$ref"]).rsplit("/", 1)[1]]
    assert {"open", "next_open_at", "online", "settings"} <= set(site["properties"])
