"""Liveness and readiness probes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db

#: A TCP port nothing listens on (tcpmux: unused on any machine that runs these tests).
CLOSED_PORT = 1


def _app(**config: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            # The probe's Redis check must not depend on the Socket.IO queue connecting.
            "TESTING_NO_QUEUE": True,
            **config,
        }
    )


@pytest.fixture
def dead_database_app() -> Iterator[Flask]:
    app = _app(SQLALCHEMY_DATABASE_URI=f"postgresql://postgres@127.0.0.1:{CLOSED_PORT}/nowhere")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_healthz_says_ok(client: FlaskClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok"}


def test_healthz_answers_even_when_the_database_is_down(dead_database_app: Flask) -> None:
    r = dead_database_app.test_client().get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok"}


def test_readyz_is_ok_when_the_database_answers(client: FlaskClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable(dead_database_app: Flask) -> None:
    started = time.monotonic()
    r = dead_database_app.test_client().get("/readyz")
    assert time.monotonic() - started < 10
    assert r.status_code == 503
    body = r.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "down"
    assert body["error"]["code"] == "unavailable"


def test_api_says_unavailable_when_the_database_is_unreachable(dead_database_app: Flask) -> None:
    client = dead_database_app.test_client()
    r = client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x"})
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "unavailable"
    r = client.post("/api/v1/widget/session", json={"site_key": "whatever"})
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "unavailable"


def test_readyz_is_503_when_redis_is_unreachable(database_url: str) -> None:
    app = _app(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/0")
    try:
        r = app.test_client().get("/readyz")
        assert r.status_code == 503
        body = r.get_json()
        assert body["checks"] == {"database": "ok", "redis": "down"}
        assert body["error"]["code"] == "unavailable"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_readyz_checks_redis_when_configured(database_url: str) -> None:
    app = _app(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL="redis://127.0.0.1:6379/15")
    try:
        r = app.test_client().get("/readyz")
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    finally:
        with app.app_context():
            db.engine.dispose()
