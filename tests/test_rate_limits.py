"""REST limits: rate limits per caller and per address, log-in throttling, sizes.

The suite runs with rate limits off (tests/conftest.py); these apps turn them on with small
values, so each limit is seen to fire at N+1 with ``429 rate_limited`` and a Retry-After.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app, limits
from app.config import MAX_REQUEST_BYTES
from app.extensions import db
from tests import factories as f

SMALL = {
    "RATE_LIMITS_ENABLED": True,
    "RATE_LIMIT_WIDGET_SESSION": "3 per minute",
    "RATE_LIMIT_SIGNUP": "4 per hour",
    "RATE_LIMIT_API": "30 per minute",
    "RATE_LIMIT_API_WRITES": "100 per minute",
    "LOGIN_FAILURES_PER_EMAIL": "3 per 15 minutes",
    "LOGIN_FAILURES_PER_IP": "5 per 15 minutes",
}


def _app(pg_url: str, **overrides: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": pg_url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            "PUBLIC_URL": "http://parley.test",
            **SMALL,
            **overrides,
        }
    )


@pytest.fixture
def make(pg_url: str) -> Iterator[Callable[..., Flask]]:
    """``make(**config)``: an app with small limits and its own counters; closed after."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        made.append(_app(pg_url, **overrides))
        return made[-1]

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def limited(make: Callable[..., Flask]) -> Flask:
    return make()


def _from(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _rate_limited(r: Any) -> int:
    """The response is the contract's 429; returns its Retry-After in seconds."""
    error = f.assert_error(r, 429, "rate_limited")
    retry_after = int(r.headers["Retry-After"])
    assert retry_after >= 1
    assert error["retry_after"] == retry_after
    return retry_after


def _owner(client: FlaskClient, address: str = "10.0.0.1") -> f.Owner:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    r = client.post(
        "/api/v1/auth/signup",
        json={"workspace_name": "Acme", "name": "Olive", "email": email, "password": f.PASSWORD},
        **_from(address),
    )
    assert r.status_code == 201, r.get_json()
    return f.Owner(agent=r.get_json()["agent"], token=r.get_json()["token"])


def test_limits_are_named_in_app_limits() -> None:
    assert limits.RATE_LIMIT_WIDGET_SESSION == "60 per minute"
    assert limits.LOGIN_FAILURES_PER_EMAIL == "5 per 15 minutes"
    assert limits.SOCKET_CONNECTIONS_PER_IP == 100
    for name in limits.RATE_LIMIT_SETTINGS:
        assert hasattr(limits, name), name


def test_widget_sessions_per_address_fire_at_n_plus_one(limited: Flask) -> None:
    client = limited.test_client()
    owner = _owner(client)
    site = f.create_site(client, owner)
    body = {"site_key": site["site_key"]}
    for _ in range(3):
        assert (
            client.post("/api/v1/widget/session", json=body, **_from("10.1.1.1")).status_code == 200
        )
    _rate_limited(client.post("/api/v1/widget/session", json=body, **_from("10.1.1.1")))
    # Another address is counted on its own.
    assert client.post("/api/v1/widget/session", json=body, **_from("10.1.1.2")).status_code == 200


def test_signups_per_address_fire_at_n_plus_one(limited: Flask) -> None:
    client = limited.test_client()
    for _ in range(4):
        _owner(client, "10.2.2.2")
    r = client.post(
        "/api/v1/auth/signup",
        json={"workspace_name": "W", "name": "N", "email": "x@example.com", "password": f.PASSWORD},
        **_from("10.2.2.2"),
    )
    assert _rate_limited(r) > 60  # an hour's window


def test_writes_are_limited_per_agent_not_per_address(make: Callable[..., Flask]) -> None:
    client = make(RATE_LIMIT_API_WRITES="6 per minute").test_client()
    first, second = _owner(client, "10.3.0.1"), _owner(client, "10.3.0.2")
    site_body = {"name": "Shop", "allowed_origins": []}
    for _ in range(6):
        r = client.post("/api/v1/sites", headers=first.headers, json=site_body, **_from("10.3.3.3"))
        assert r.status_code == 201, r.get_json()
    r = client.post("/api/v1/sites", headers=first.headers, json=site_body, **_from("10.3.3.3"))
    _rate_limited(r)
    # Reads still go through; another agent on the same address writes on.
    assert client.get("/api/v1/sites", headers=first.headers).status_code == 200
    r = client.post("/api/v1/sites", headers=second.headers, json=site_body, **_from("10.3.3.3"))
    assert r.status_code == 201
    # The refused write did nothing.
    assert len(client.get("/api/v1/sites", headers=first.headers).get_json()["sites"]) == 6


def test_all_requests_of_a_caller_are_limited(limited: Flask) -> None:
    client = limited.test_client()
    owner = _owner(client)
    for _ in range(30):
        assert client.get("/api/v1/auth/me", headers=owner.headers).status_code == 200
    _rate_limited(client.get("/api/v1/auth/me", headers=owner.headers))
    # Pages outside the API (the console, health checks) are not counted.
    assert client.get("/healthz").status_code == 200


def test_wrong_passwords_per_email_lock_the_account_for_a_while(
    limited: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = limited.test_client()
    owner = _owner(client)
    email = owner.agent["email"]
    secret_guess = "wrong-" + secrets.token_hex(8)
    caplog.set_level(logging.DEBUG)
    for address in ("10.4.0.1", "10.4.0.2", "10.4.0.3"):  # from anywhere
        r = client.post(
            "/api/v1/auth/login", json={"email": email, "password": secret_guess}, **_from(address)
        )
        f.assert_error(r, 401, "unauthorized")
    # The fourth try is refused before the password is looked at, even the right one.
    r = client.post("/api/v1/auth/login", json={"email": email, "password": f.PASSWORD})
    assert 60 < _rate_limited(r) <= 15 * 60
    # Other accounts log in as usual.
    other = _owner(client)
    assert f.login(client, other.agent["email"]).status_code == 200
    assert secret_guess not in caplog.text and f.PASSWORD not in caplog.text


def test_a_successful_login_clears_the_emails_failures(limited: Flask) -> None:
    client = limited.test_client()
    email = _owner(client).agent["email"]

    def login(password: str, n: int) -> Any:  # each from its own address: only the e-mail counts
        body = {"email": email, "password": password}
        return client.post("/api/v1/auth/login", json=body, **_from(f"10.7.0.{n}"))

    for n in range(0, 9, 3):
        f.assert_error(login("nope-nope", n), 401, "unauthorized")
        f.assert_error(login("nope-nope", n + 1), 401, "unauthorized")
        assert login(f.PASSWORD, n + 2).status_code == 200
    # Six failures in all, never three in a row: never locked. Three in a row lock it.
    for n in range(3):
        f.assert_error(login("nope-nope", 20 + n), 401, "unauthorized")
    _rate_limited(login(f.PASSWORD, 30))


def test_wrong_passwords_per_address_are_limited_across_emails(limited: Flask) -> None:
    client = limited.test_client()
    for n in range(5):
        r = client.post(
            "/api/v1/auth/login",
            json={"email": f"nobody{n}@example.com", "password": "guess-guess"},
            **_from("10.5.5.5"),
        )
        f.assert_error(r, 401, "unauthorized")
    r = client.post(
        "/api/v1/auth/login",
        json={"email": "nobody9@example.com", "password": "guess-guess"},
        **_from("10.5.5.5"),
    )
    _rate_limited(r)
    r = client.post(
        "/api/v1/auth/login",
        json={"email": "nobody9@example.com", "password": "guess-guess"},
        **_from("10.5.5.6"),
    )
    f.assert_error(r, 401, "unauthorized")


def test_limits_off_let_everything_through(make: Callable[..., Flask]) -> None:
    app = make(RATE_LIMITS_ENABLED=False)
    client = app.test_client()
    email = _owner(client).agent["email"]
    for _ in range(8):
        f.assert_error(f.login(client, email, "nope-nope"), 401, "unauthorized")
    assert f.login(client, email).status_code == 200


def test_limits_in_redis_are_shared_by_processes(make: Callable[..., Flask]) -> None:
    """Two apps on one Redis (as two server processes would be) share every counter."""
    shared = {"REDIS_URL": "redis://127.0.0.1:6379/0", "RATE_LIMIT_KEY_PREFIX": uuid.uuid4().hex}
    one, two = make(**shared), make(**shared)
    a, b = one.test_client(), two.test_client()
    owner = _owner(a)
    site = f.create_site(a, owner)
    body = {"site_key": site["site_key"]}
    assert a.post("/api/v1/widget/session", json=body, **_from("10.6.6.6")).status_code == 200
    assert b.post("/api/v1/widget/session", json=body, **_from("10.6.6.6")).status_code == 200
    assert a.post("/api/v1/widget/session", json=body, **_from("10.6.6.6")).status_code == 200
    _rate_limited(b.post("/api/v1/widget/session", json=body, **_from("10.6.6.6")))
    email = owner.agent["email"]
    for client in (a, b, a):
        f.assert_error(f.login(client, email, "nope-nope"), 401, "unauthorized")
    _rate_limited(f.login(b, email))


# -- sizes (always on) -----------------------------------------------------------------------


def _chat(client: FlaskClient) -> tuple[f.Owner, f.VisitorSession, dict[str, Any]]:
    owner = _owner(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    return owner, visitor, f.start_ticket(client, visitor)


def test_message_over_max_body_chars_is_invalid(make: Callable[..., Flask]) -> None:
    client = make(RATE_LIMITS_ENABLED=False).test_client()
    _owner_, visitor, ticket = _chat(client)
    ok = f.send(client, visitor.headers, ticket["id"], "a" * limits.MAX_BODY_CHARS)
    assert ok.status_code == 201
    error = f.assert_error(
        f.send(client, visitor.headers, ticket["id"], "a" * (limits.MAX_BODY_CHARS + 1)),
        422,
        "invalid",
    )
    assert "body" in error["fields"]


def test_history_page_over_max_is_clamped_and_a_bad_one_invalid(make: Callable[..., Flask]) -> None:
    client = make(RATE_LIMITS_ENABLED=False).test_client()
    owner, _visitor, ticket = _chat(client)
    path = f"/api/v1/tickets/{ticket['id']}/messages"
    big = client.get(f"{path}?limit={limits.MESSAGE_PAGE_MAX + 1}", headers=owner.headers)
    assert big.status_code == 200 and len(big.get_json()["messages"]) == 1
    f.assert_error(client.get(f"{path}?limit=0", headers=owner.headers), 422, "invalid")
    tickets = client.get(
        f"/api/v1/tickets?limit={limits.TICKET_PAGE_MAX * 10}", headers=owner.headers
    )
    assert tickets.status_code == 200


def test_request_over_max_request_bytes_is_too_large(make: Callable[..., Flask]) -> None:
    client = make(RATE_LIMITS_ENABLED=False).test_client()
    owner = _owner(client)
    raw = json.dumps({"name": "x" * MAX_REQUEST_BYTES, "allowed_origins": []})
    r = client.post(
        "/api/v1/sites", data=raw, content_type="application/json", headers=owner.headers
    )
    f.assert_error(r, 413, "too_large")


def test_faq_import_takes_up_to_its_own_byte_limit(make: Callable[..., Flask]) -> None:
    client = make(RATE_LIMITS_ENABLED=False).test_client()
    owner = _owner(client)
    site = f.create_site(client, owner)
    path = f"/api/v1/sites/{site['id']}/faq/import"
    answer = "y" * 4000
    entries = [{"question": f"Question {n}?", "answer": answer} for n in range(100)]
    raw = json.dumps(entries)
    assert MAX_REQUEST_BYTES < len(raw) < limits.MAX_FAQ_IMPORT_BYTES  # bigger than a request
    r = client.post(path, data=raw, content_type="application/json", headers=owner.headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["created"] == 100
    over = " " * (limits.MAX_FAQ_IMPORT_BYTES - len(raw) + 1) + raw
    r = client.post(path, data=over, content_type="application/json", headers=owner.headers)
    f.assert_error(r, 413, "too_large")
