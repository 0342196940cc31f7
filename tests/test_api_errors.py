"""Error responses: the contract's JSON body and status for everything a client can get wrong,
and never a 500."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.config import MAX_REQUEST_BYTES
from app.limits import MAX_JSON_DEPTH
from tests import factories as f

CONTRACT_CODES = {
    "invalid",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "too_large",
    "rate_limited",
    "unavailable",
}


@dataclass
class World:
    owner: f.Owner
    site: dict[str, Any]
    visitor: f.VisitorSession
    ticket: dict[str, Any]


@pytest.fixture
def world(client: FlaskClient) -> World:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    return World(owner, site, visitor, f.start_ticket(client, visitor))


def _is_contract_error(r: TestResponse) -> None:
    assert r.status_code < 500, (r.status_code, r.get_data(as_text=True)[:300])
    if r.status_code >= 400:
        assert r.is_json, r.get_data(as_text=True)[:300]
        error = r.get_json()["error"]
        assert error["code"] in CONTRACT_CODES, error
        assert isinstance(error["message"], str)


# -- malformed requests ---------------------------------------------------------------------------


def test_malformed_json_is_a_400_invalid(client: FlaskClient, world: World) -> None:
    for raw in (b'{"name": "Shop"', b"{'name': 'Shop'}", b"name=Shop", b"\xff\xfe{}", b"{} {}"):
        r = client.post(
            "/api/v1/sites",
            headers=world.owner.headers,
            data=raw,
            content_type="application/json",
        )
        f.assert_error(r, 400, "invalid")
        r = client.post("/api/v1/auth/login", data=raw, content_type="application/json")
        f.assert_error(r, 400, "invalid")


def test_body_without_json_content_type_is_a_400(client: FlaskClient, world: World) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "text/json", None):
        kwargs: dict[str, Any] = {"data": '{"name": "Shop"}'}
        if content_type:
            kwargs["content_type"] = content_type
        r = client.post("/api/v1/sites", headers=world.owner.headers, **kwargs)
        f.assert_error(r, 400, "invalid")
    sites = client.get("/api/v1/sites", headers=world.owner.headers).get_json()["sites"]
    assert [s["id"] for s in sites] == [world.site["id"]]


def test_json_content_type_with_charset_is_accepted(client: FlaskClient, world: World) -> None:
    r = client.post(
        "/api/v1/sites",
        headers=world.owner.headers,
        data=b'{"name": "Charset"}',
        content_type="application/json; charset=utf-8",
    )
    assert r.status_code == 201


def test_body_that_is_not_an_object_is_invalid(client: FlaskClient, world: World) -> None:
    for raw in ("[]", '["name"]', '"Shop"', "42", "true", "null"):
        r = client.post(
            "/api/v1/sites", headers=world.owner.headers, data=raw, content_type="application/json"
        )
        assert r.status_code in (400, 422), raw
        f.assert_error(r, r.status_code, "invalid")


def test_deeply_nested_json_is_a_400(client: FlaskClient, world: World) -> None:
    depth = 40_000
    for raw in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        r = client.post(
            "/api/v1/sites", headers=world.owner.headers, data=raw, content_type="application/json"
        )
        f.assert_error(r, 400, "invalid")


def test_payload_nested_deeper_than_the_limit_is_invalid(client: FlaskClient, world: World) -> None:
    assert MAX_JSON_DEPTH == 32
    url = f"/api/v1/tickets/{world.ticket['id']}/messages"
    for depth in (MAX_JSON_DEPTH, 500, 900):
        # The body object is level 1, so a value of MAX_JSON_DEPTH levels goes one too deep.
        body = {"client_id": "deep", "body": _nested(depth)}
        r = client.post(url, headers=world.visitor.headers, json=body)
        error = f.assert_error(r, 422, "invalid")
        assert "deeper" in error["message"]
    # One level less is parsed and judged on its merits (a body must be a string).
    body = {"client_id": "deep", "body": _nested(MAX_JSON_DEPTH - 1)}
    r = client.post(url, headers=world.visitor.headers, json=body)
    assert "body" in f.assert_error(r, 422, "invalid")["fields"]


# -- wrong fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/sites", {"name": 123}, "name"),
        ("/api/v1/sites", {"name": None}, "name"),
        ("/api/v1/sites", {"name": ["Shop"]}, "name"),
        ("/api/v1/sites", {"name": "Shop", "allowed_origins": None}, "allowed_origins"),
        ("/api/v1/sites", {"name": "Shop", "settings": "blue"}, "settings"),
        ("/api/v1/sites", {"name": "Shop", "settings": {"bot_enabled": None}}, "settings"),
        ("/api/v1/agents", {"name": "A", "email": 5, "password": "x" * 10}, "email"),
        ("/api/v1/agents", {"name": "A", "email": "a@b.co", "password": None}, "password"),
        ("/api/v1/agents", {"name": "A", "email": "a@b.co", "password": None, "role": 1}, "role"),
    ],
)  # fmt: skip
def test_wrong_field_types_are_422_with_fields(
    client: FlaskClient, world: World, path: str, body: dict[str, Any], field: str
) -> None:
    r = client.post(path, headers=world.owner.headers, json=body)
    assert field in f.assert_error(r, 422, "invalid")["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_id": "a", "body": ["hello"]}, "body"),
        ({"client_id": "a", "body": None}, "body"),
        ({"client_id": "a", "body": 42}, "body"),
        ({"client_id": "a", "body": {"text": "hi"}}, "body"),
        ({"client_id": 7, "body": "hi"}, "client_id"),
        ({"client_id": None, "body": "hi"}, "client_id"),
        ({"client_id": "a", "body": "hi", "kind": None}, "kind"),
    ],
)
def test_wrong_message_field_types_are_422_with_fields(
    client: FlaskClient, world: World, body: dict[str, Any], field: str
) -> None:
    r = client.post(
        f"/api/v1/tickets/{world.ticket['id']}/messages", headers=world.visitor.headers, json=body
    )
    assert field in f.assert_error(r, 422, "invalid")["fields"]


def test_wrong_login_field_types_are_422(client: FlaskClient) -> None:
    for body in ({"email": None, "password": "x"}, {"email": ["a"], "password": "x"}, {}):
        r = client.post("/api/v1/auth/login", json=body)
        assert f.assert_error(r, 422, "invalid")["fields"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/sites", {"name": "Shop", "colour": "red"}),
        ("post", "/api/v1/auth/login", {"email": "a@b.co", "password": "x", "remember": True}),
        ("post", "/api/v1/widget/session", {"site_key": "k", "referrer": "x"}),
    ],
)
def test_unknown_fields_are_422(
    client: FlaskClient, world: World, method: str, path: str, body: dict[str, Any]
) -> None:
    r = getattr(client, method)(path, headers=world.owner.headers, json=body)
    fields = f.assert_error(r, 422, "invalid")["fields"]
    unknown = next(k for k in body if k not in ("name", "email", "password", "site_key"))
    assert unknown in fields


def test_unknown_message_field_is_422_and_stores_nothing(client: FlaskClient, world: World) -> None:
    tid = world.ticket["id"]
    r = client.post(
        f"/api/v1/tickets/{tid}/messages",
        headers=world.visitor.headers,
        json={"client_id": "u", "body": "hi", "html": "<b>hi</b>"},
    )
    assert "html" in f.assert_error(r, 422, "invalid")["fields"]
    history = client.get(f"/api/v1/tickets/{tid}/messages", headers=world.owner.headers)
    assert len(history.get_json()["messages"]) == 1


@pytest.mark.parametrize("text", ["nul\x00byte", "\x00", "lone \ud800 surrogate", "\udfff"])
def test_text_that_cannot_be_stored_is_422(client: FlaskClient, world: World, text: str) -> None:
    tid = world.ticket["id"]
    r = f.send(client, world.visitor.headers, tid, text)
    assert "body" in f.assert_error(r, 422, "invalid")["fields"]
    r = client.post("/api/v1/sites", headers=world.owner.headers, json={"name": text})
    assert "name" in f.assert_error(r, 422, "invalid")["fields"]
    r = client.post("/api/v1/auth/login", json={"email": text, "password": "x"})
    assert "email" in f.assert_error(r, 422, "invalid")["fields"]
    r = client.post("/api/v1/widget/session", json={"site_key": text})
    assert "site_key" in f.assert_error(r, 422, "invalid")["fields"]
    if "\x00" in text:  # a URL cannot carry a lone surrogate, only NUL
        query = {"assignee": text}
        r = client.get("/api/v1/tickets", headers=world.owner.headers, query_string=query)
        f.assert_error(r, 422, "invalid")


def test_plain_unicode_is_stored_intact(client: FlaskClient, world: World) -> None:
    text = "Grüße 👋 — 你好 \u200b مرحبا"
    r = f.send(client, world.visitor.headers, world.ticket["id"], text)
    assert r.status_code == 201
    assert r.get_json()["message"]["body"] == text


# -- size limit -----------------------------------------------------------------------------------


def test_body_over_256_kib_is_413_too_large(client: FlaskClient, world: World) -> None:
    assert MAX_REQUEST_BYTES == 256 * 1024
    big = '{"name": "' + "x" * MAX_REQUEST_BYTES + '"}'
    r = client.post(
        "/api/v1/sites", headers=world.owner.headers, data=big, content_type="application/json"
    )
    f.assert_error(r, 413, "too_large")
    big_message = {"client_id": "big", "body": "y" * MAX_REQUEST_BYTES}
    r = client.post(
        f"/api/v1/tickets/{world.ticket['id']}/messages",
        headers=world.visitor.headers,
        json=big_message,
    )
    f.assert_error(r, 413, "too_large")
    r = client.post("/api/v1/widget/session", json={"site_key": "k" * (MAX_REQUEST_BYTES + 1)})
    f.assert_error(r, 413, "too_large")


def test_body_just_under_the_limit_is_read(client: FlaskClient, world: World) -> None:
    padding = " " * (MAX_REQUEST_BYTES - 100)
    raw = '{"name": "Padded"' + padding + "}"
    assert len(raw.encode()) < MAX_REQUEST_BYTES
    r = client.post(
        "/api/v1/sites", headers=world.owner.headers, data=raw, content_type="application/json"
    )
    assert r.status_code == 201


# -- URLs and methods -----------------------------------------------------------------------------


def test_garbage_id_in_url_is_404_not_found(client: FlaskClient, world: World) -> None:
    templates = (
        "/api/v1/sites/{id}",
        "/api/v1/sites/{id}/install",
        "/api/v1/tickets/{id}",
        "/api/v1/tickets/{id}/messages",
    )
    for garbage in ("garbage", "0" * 26, "%00", "x" * 500, "%ED%A0%80", "' OR 1=1 --", "🙂"):
        for template in templates:
            for who in (world.owner, world.visitor):
                if "sites" in template and who is world.visitor:
                    continue
                r = client.get(template.format(id=garbage), headers=who.headers)
                f.assert_error(r, 404, "not_found")


def test_unknown_url_is_json_404(client: FlaskClient) -> None:
    for path in ("/api/v1/nothing", "/api/v1/", "/api/v2/sites", "/nothing", "/api/v1/sites/a/b"):
        f.assert_error(client.get(path), 404, "not_found")
        f.assert_error(client.post(path, json={}), 404, "not_found")


def test_wrong_method_is_json_405_with_allow_header(client: FlaskClient) -> None:
    cases = [
        ("DELETE", "/api/v1/sites", {"GET", "POST"}),
        ("PUT", "/api/v1/sites", {"GET", "POST"}),
        ("GET", "/api/v1/auth/login", {"POST"}),
        ("DELETE", "/api/v1/auth/me", {"GET"}),
        ("POST", "/healthz", {"GET"}),
        ("PUT", "/api/v1/tickets", {"GET", "POST"}),
    ]
    for method, path, allowed in cases:
        r = client.open(path, method=method)
        assert r.status_code == 405, (method, path)
        assert r.is_json
        assert r.get_json()["error"]["code"] in CONTRACT_CODES
        assert allowed <= {m.strip() for m in r.headers["Allow"].split(",")}


# -- never a 500 ----------------------------------------------------------------------------------


def _nested(depth: int, leaf: Any = "x") -> Any:
    """``depth`` levels of alternating arrays and objects around ``leaf``."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    10**30,
    -(10**30),
    1e308,
    1.5,
    "",
    " ",
    "\x00",
    "a\ud800b",
    "x" * 10_000,
    "💬" * 300,
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "../../etc/passwd",
    [],
    ["x"],
    {},
    {"nested": {"deeper": [1, 2, 3]}},
    _nested(MAX_JSON_DEPTH),
    _nested(900),
]


def _bodies(
    w: World, agent: f.Owner
) -> dict[tuple[str, str], tuple[dict[str, str], dict[str, Any]]]:
    """A valid body for every write endpoint, with the credentials it needs."""
    owner, visitor = w.owner.headers, w.visitor.headers
    tid = w.ticket["id"]
    return {
        ("POST", "/api/v1/auth/signup"): (
            {},
            {"workspace_name": "W", "name": "N", "email": "x@example.com", "password": f.PASSWORD},
        ),
        ("POST", "/api/v1/auth/login"): (
            {},
            {"email": w.owner.agent["email"], "password": f.PASSWORD},
        ),
        ("POST", "/api/v1/agents"): (
            owner,
            {"name": "N", "email": "y@example.com", "password": f.PASSWORD, "role": "agent"},
        ),
        ("PATCH", "/api/v1/agents/me"): (owner, {"availability": "away"}),
        ("POST", "/api/v1/sites"): (
            owner,
            {
                "name": "S",
                "allowed_origins": ["https://a.example"],
                "settings": {"color": "#000000"},
            },
        ),
        ("PATCH", f"/api/v1/sites/{w.site['id']}"): (
            owner,
            {"name": "S", "allowed_origins": ["https://a.example"], "settings": {"title": "T"}},
        ),
        ("POST", "/api/v1/widget/session"): (
            {},
            {
                "site_key": w.site["site_key"],
                "visitor_token": w.visitor.token,
                "identity": {"external_id": "e", "user_hash": f.user_hash(w.site, "e")},
                "page": {"url": "https://a.example/", "title": "T", "referrer": ""},
            },
        ),
        ("POST", "/api/v1/tickets"): (visitor, {"client_id": "c", "body": "b"}),
        ("PATCH", f"/api/v1/tickets/{tid}"): (
            owner,
            {"status": "open", "assignee_id": agent.agent["id"]},
        ),
        ("POST", f"/api/v1/tickets/{tid}/participants"): (owner, {"agent_id": agent.agent["id"]}),
        ("POST", f"/api/v1/tickets/{tid}/messages"): (
            owner,
            {"client_id": "c", "body": "b", "kind": "note", "ticket_id": tid},
        ),
        ("POST", f"/api/v1/tickets/{tid}/read"): (visitor, {"seq": 1}),
    }


def _mutations(body: dict[str, Any]) -> list[dict[str, Any]]:
    """``body`` with one field (or one nested field) replaced by each hostile value."""
    variants: list[dict[str, Any]] = []
    for key, value in body.items():
        for hostile in HOSTILE_VALUES:
            variants.append({**body, key: hostile})
            if isinstance(value, dict):
                for inner in value:
                    variants.append({**body, key: {**value, inner: hostile}})
    return variants


def test_no_hostile_body_causes_a_500(client: FlaskClient, world: World) -> None:
    agent = f.add_agent(client, world.owner)
    for (method, path), (headers, body) in _bodies(world, agent).items():
        for variant in _mutations(body):
            if path.endswith("/signup") or path.endswith("/agents"):
                variant = {**variant}
                if variant.get("email") == body["email"]:
                    variant["email"] = f"{uuid.uuid4().hex[:12]}@example.com"
            r = client.open(path, method=method, headers=headers, json=variant)
            _is_contract_error(r)
        for raw in ("", "{", "[]", "null", "[" * 5000, '{"a":' * 3000, "\x00", '"\\ud800"'):
            r = client.open(
                path, method=method, headers=headers, data=raw, content_type="application/json"
            )
            _is_contract_error(r)
            assert r.status_code >= 400 or raw == ""


def test_no_hostile_query_causes_a_500(client: FlaskClient, world: World) -> None:
    tid = world.ticket["id"]
    values = [
        "%00",
        "%ED%A0%80",
        "99999999999999999999999999",
        "-99999999999999999999999999",
        "1e400",
        "NaN",
        "",
        "x" * 5000,
        "%27%20OR%201%3D1",
    ]
    for value in values:
        for who in (world.owner.headers, world.visitor.headers):
            for param in ("status", "assignee", "site_id", "cursor", "limit"):
                _is_contract_error(client.get(f"/api/v1/tickets?{param}={value}", headers=who))
            for param in ("before", "after", "limit"):
                _is_contract_error(
                    client.get(f"/api/v1/tickets/{tid}/messages?{param}={value}", headers=who)
                )


def test_no_hostile_path_or_token_causes_a_500(
    app: Flask, client: FlaskClient, world: World
) -> None:
    ids = {"site_id": world.site["id"], "ticket_id": world.ticket["id"]}
    ids["agent_id"] = f.add_agent(client, world.owner).agent["id"]
    hostile_ids = ["%00", "%ED%A0%80", "x" * 2000, "..", "%2e%2e", "🙂", "0" * 26]
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    for rule in rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for name in rule.arguments:
                for bad in hostile_ids:
                    path = rule.rule
                    for arg in rule.arguments:
                        # Ids the world lacks (faq, webhook, canned...) are well-formed and absent.
                        other = ids.get(arg, "01" + "0" * 24)
                        path = path.replace(f"<{arg}>", bad if arg == name else other)

                    r = client.open(path, method=method, headers=world.owner.headers, json={})
                    _is_contract_error(r)
    for token in (
        "pk_",
        "pk_\x7f",
        "x" * 4000,
        "Bearer",
        "pk_" + "a" * 43,
        world.visitor.token[:-3],
    ):
        for path in ("/api/v1/auth/me", "/api/v1/tickets", f"/api/v1/tickets/{ids['ticket_id']}"):
            r = client.get(path, headers={"Authorization": f"Bearer {token}"})
            _is_contract_error(r)
            assert r.status_code in (401, 403)
