"""The notification limits: previews, attempts, waits, pages."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.extensions import db
from app.jobs.runner import set_backend
from app.lib.timeutil import utcnow
from app.limits import (
    MAX_DELIVERY_ATTEMPTS,
    MAX_RETRY_DELAY_S,
    NOTIFICATION_PREVIEW_CHARS,
)
from app.models import Delivery
from app.notifications.outcome import backoff_delay, parse_retry_after
from tests import factories as f
from tests.pushstub import JobRecorder, PushStub, Subscriber


@pytest.fixture
def jobs(app: Flask) -> JobRecorder:
    app.config["PUSH_ALLOW_PRIVATE"] = True
    recorder = JobRecorder(app)
    set_backend(recorder)
    return recorder


@pytest.fixture
def stub(client: FlaskClient) -> Iterator[PushStub]:
    key = client.get("/api/v1/push/vapid-public-key").get_json()["public_key"]
    with PushStub(key) as stub:
        yield stub


def _visitor_with_push(
    client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> tuple[f.Owner, str, PushStub, Subscriber]:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor)
    jobs.run()
    sub = stub.subscriber()
    r = client.post("/api/v1/push/subscriptions", headers=visitor.headers, json=sub.subscription)
    assert r.status_code == 201
    return owner, ticket["id"], stub, sub


def test_a_long_message_is_cut_to_the_preview_length_on_one_line(
    client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, ticket_id, stub, sub = _visitor_with_push(client, jobs, stub)
    body = "word\n" * 400
    assert f.send(client, owner.headers, ticket_id, body).status_code == 201
    jobs.run()
    [push] = stub.wait_for(sub, 1)
    preview = push["payload"]["body"]
    assert len(preview) == NOTIFICATION_PREVIEW_CHARS and preview.endswith("…")
    assert "\n" not in preview


def test_a_delivery_fails_for_good_after_the_last_attempt(
    app: Flask, client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, ticket_id, stub, sub = _visitor_with_push(client, jobs, stub)
    sub.script = [(503, {})] * (MAX_DELIVERY_ATTEMPTS + 2)
    assert f.send(client, owner.headers, ticket_id, "Never arrives").status_code == 201
    jobs.run()
    for _ in range(MAX_DELIVERY_ATTEMPTS):
        with app.app_context():
            db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
            db.session.commit()
        jobs.run(delayed=True)
    with app.app_context():
        [delivery] = db.session.scalars(select(Delivery)).all()
        assert (delivery.status, delivery.attempts) == ("failed", MAX_DELIVERY_ATTEMPTS)
        assert delivery.last_status_code == 503
    assert sub.attempts == MAX_DELIVERY_ATTEMPTS
    assert jobs.delayed() == []


def test_waits_are_capped_whatever_the_target_asks() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(str(10 * MAX_RETRY_DELAY_S)) == MAX_RETRY_DELAY_S
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 50 <= (parse_retry_after(later) or 0) <= 60
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert [backoff_delay(n, 5) for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff_delay(40, 5) == MAX_RETRY_DELAY_S
