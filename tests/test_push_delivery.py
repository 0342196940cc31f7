"""Who gets a web push, and what arrives: real pushes (VAPID-signed, aes128gcm-encrypted)
to a push service on loopback, from the same jobs the worker runs, run here in process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.extensions import db
from app.jobs.runner import set_backend
from app.lib.timeutil import utcnow
from app.models import Agent, Delivery, NotificationWindow, PushSubscription
from app.realtime.runtime import runtime
from app.services.presence import Subject
from tests import factories as f
from tests.pushstub import JobRecorder, PushStub, Subscriber


@pytest.fixture
def jobs(app: Flask) -> JobRecorder:
    app.config["PUSH_ALLOW_PRIVATE"] = True
    app.config["DELIVERY_RETRY_BASE_S"] = 2.0
    recorder = JobRecorder(app)
    set_backend(recorder)
    return recorder


@pytest.fixture
def stub(client: FlaskClient) -> Iterator[PushStub]:
    key = client.get("/api/v1/push/vapid-public-key").get_json()["public_key"]
    with PushStub(key) as stub:
        yield stub


def _time_passes(app: Flask, column: Any) -> None:
    """What was scheduled for later (a column of due times) is due now."""
    with app.app_context():
        db.session.execute(update(column.class_).values({column.key: utcnow()}))
        db.session.commit()


def _subscribe(client: FlaskClient, headers: dict[str, str], sub: Subscriber) -> None:
    r = client.post("/api/v1/push/subscriptions", headers=headers, json=sub.subscription)
    assert r.status_code == 201, r.get_json()


def _conversation(
    client: FlaskClient, stub: PushStub, jobs: JobRecorder
) -> tuple[f.Owner, f.VisitorSession, dict[str, Any], Subscriber, Subscriber]:
    """An owner who replied once to a visitor's ticket; both subscribed to push since."""
    owner = f.signup(client, name="Olive Owner")
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "Where is my parcel?")
    assert f.send(client, owner.headers, ticket["id"], "Let me check.").status_code == 201
    jobs.run()
    agent_sub, visitor_sub = stub.subscriber(), stub.subscriber()
    _subscribe(client, owner.headers, agent_sub)
    _subscribe(client, visitor.headers, visitor_sub)
    return owner, visitor, ticket, agent_sub, visitor_sub


def test_agent_reply_reaches_the_offline_visitor_decrypted_and_never_the_sender(
    client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, visitor, ticket, agent_sub, visitor_sub = _conversation(client, stub, jobs)
    jobs.run()
    assert f.send(client, owner.headers, ticket["id"], "It ships  tomorrow.\n").status_code == 201
    jobs.run()
    [push] = stub.wait_for(visitor_sub, 1)
    assert push["payload"] == {
        "type": "message",
        "title": "Olive Owner",
        "body": "It ships tomorrow.",
        "ticket_id": ticket["id"],
        "url": "https://shop.example/",
        "count": 1,
        "id": push["payload"]["id"],
    }
    assert push["urgency"] == "high" and int(push["ttl"]) > 0
    assert agent_sub.received == [] and stub.errors == []


def test_visitor_message_reaches_the_offline_participant_agent(
    client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, visitor, ticket, agent_sub, visitor_sub = _conversation(client, stub, jobs)
    colleague = f.add_agent(client, owner, name="Casey Colleague")
    colleague_sub = stub.subscriber()
    _subscribe(client, colleague.headers, colleague_sub)
    jobs.run()
    assert f.send(client, visitor.headers, ticket["id"], "Thanks!").status_code == 201
    jobs.run()
    [push] = stub.wait_for(agent_sub, 1)
    assert push["payload"]["title"] == "Visitor"
    assert push["payload"]["body"] == "Thanks!"
    assert push["payload"]["url"].endswith(f"/console/#/inbox/{ticket['id']}")
    # The colleague is not in this ticket, the visitor sent it.
    assert colleague_sub.received == [] and visitor_sub.received == []


def test_a_note_goes_to_participant_agents_never_to_the_visitor(
    client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, visitor, ticket, agent_sub, visitor_sub = _conversation(client, stub, jobs)
    colleague = f.add_agent(client, owner, name="Casey Colleague")
    r = client.post(
        f"/api/v1/tickets/{ticket['id']}/participants",
        headers=owner.headers,
        json={"agent_id": colleague.agent["id"]},
    )
    assert r.status_code == 200, r.get_json()
    colleague_sub = stub.subscriber()
    _subscribe(client, colleague.headers, colleague_sub)
    jobs.run()
    r = f.send(client, owner.headers, ticket["id"], "Internal: VIP customer", kind="note")
    assert r.status_code == 201
    jobs.run()
    [push] = stub.wait_for(colleague_sub, 1)
    assert push["payload"]["body"] == "Internal: VIP customer"
    assert visitor_sub.received == [] and agent_sub.received == []


def test_nobody_with_a_live_connection_is_pushed(
    app: Flask, client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, visitor, ticket, _, visitor_sub = _conversation(client, stub, jobs)
    jobs.run()
    with app.app_context():
        agent = db.session.get(Agent, owner.agent["id"])
        assert agent is not None
        subject = Subject("visitor", visitor.visitor["id"], agent.workspace_id)
    runtime().presence.heartbeat(subject, "sid-of-the-widget")
    try:
        assert f.send(client, owner.headers, ticket["id"], "Are you there?").status_code == 201
        jobs.run()
    finally:
        runtime().presence.disconnect(subject, "sid-of-the-widget")
    assert visitor_sub.received == []
    with app.app_context():
        assert db.session.scalars(select(Delivery)).all() == []


def test_new_ticket_goes_to_every_available_agent_but_not_away_ones(
    client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner = f.signup(client)
    away = f.add_agent(client, owner, name="Avery Away")
    r = client.patch("/api/v1/agents/me", headers=away.headers, json={"availability": "away"})
    assert r.status_code == 200, r.get_json()
    site = f.create_site(client, owner)
    owner_sub, away_sub = stub.subscriber(), stub.subscriber()
    _subscribe(client, owner.headers, owner_sub)
    _subscribe(client, away.headers, away_sub)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "Hello, anyone?")
    jobs.run()
    [push] = stub.wait_for(owner_sub, 1)
    assert push["payload"]["type"] == "ticket"
    assert push["payload"]["title"] == "New conversation"
    assert push["payload"]["body"] == "Hello, anyone?"
    assert push["payload"]["ticket_id"] == ticket["id"]
    assert away_sub.received == []


def test_a_burst_collapses_into_one_push_now_and_one_with_the_count(
    app: Flask, client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, visitor, ticket, _, visitor_sub = _conversation(client, stub, jobs)
    jobs.run()
    for text in ("One", "Two", "Three"):
        assert f.send(client, owner.headers, ticket["id"], text).status_code == 201
    jobs.run()
    [first] = stub.wait_for(visitor_sub, 1)
    assert (first["payload"]["body"], first["payload"]["count"]) == ("One", 1)
    [(_, _, delay)] = jobs.delayed("flush_window")
    assert 0 < delay <= 30
    _time_passes(app, NotificationWindow.pending_due_at)
    jobs.run(delayed=True)
    pushes = stub.wait_for(visitor_sub, 2)
    assert len(pushes) == 2
    assert pushes[1]["payload"]["title"] == "2 new messages"
    assert (pushes[1]["payload"]["body"], pushes[1]["payload"]["count"]) == ("Three", 2)
    # The same ticket's pushes replace each other at the push service.
    assert first["topic"] == pushes[1]["topic"] == ticket["id"]


def test_a_repeated_job_delivers_nothing_twice(
    app: Flask, client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, visitor, ticket, _, visitor_sub = _conversation(client, stub, jobs)
    jobs.run()
    r = f.send(client, owner.headers, ticket["id"], "Once only")
    assert r.status_code == 201
    repeated = list(jobs.jobs)
    jobs.run()
    stub.wait_for(visitor_sub, 1)
    jobs.jobs.extend(repeated)  # RQ retried the same job (say its worker died after sending)
    jobs.run()
    with app.app_context():
        [delivery] = db.session.scalars(select(Delivery)).all()
        jobs.enqueue("deliver", (delivery.id,), 0)
    jobs.run()
    assert len(visitor_sub.received) == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_deleted(
    app: Flask, client: FlaskClient, jobs: JobRecorder, stub: PushStub, status: int
) -> None:
    owner, visitor, ticket, _, visitor_sub = _conversation(client, stub, jobs)
    jobs.run()
    visitor_sub.script = [(status, {})]
    assert f.send(client, owner.headers, ticket["id"], "Hello?").status_code == 201
    jobs.run()
    assert visitor_sub.attempts == 1 and visitor_sub.received == []
    with app.app_context():
        endpoints = db.session.scalars(select(PushSubscription.endpoint)).all()
    assert visitor_sub.endpoint not in endpoints and len(endpoints) == 1


def test_5xx_and_429_are_retried_with_backoff_and_retry_after(
    app: Flask, client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, visitor, ticket, _, visitor_sub = _conversation(client, stub, jobs)
    jobs.run()
    visitor_sub.script = [(503, {}), (502, {}), (429, {"Retry-After": "7"})]
    assert f.send(client, owner.headers, ticket["id"], "Persistent").status_code == 201
    jobs.run()
    delays = []
    for _ in range(3):
        [(name, _, delay)] = jobs.delayed()
        delays.append(delay)
        _time_passes(app, Delivery.next_attempt_at)
        jobs.run(delayed=True)
    assert delays == [2.0, 4.0, 7.0]  # base 2 s doubling, then what Retry-After said
    [push] = stub.wait_for(visitor_sub, 1)
    assert push["payload"]["body"] == "Persistent"
    with app.app_context():
        [delivery] = db.session.scalars(select(Delivery)).all()
        assert (delivery.status, delivery.attempts) == ("delivered", 4)


def test_network_errors_are_retried(
    app: Flask, client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    owner, visitor, ticket, _, visitor_sub = _conversation(client, stub, jobs)
    jobs.run()
    with app.app_context():
        sub = db.session.scalar(
            select(PushSubscription).where(PushSubscription.endpoint == visitor_sub.endpoint)
        )
        assert sub is not None
        sub.endpoint = "http://127.0.0.1:9/push/closed-port"
        db.session.commit()
    assert f.send(client, owner.headers, ticket["id"], "Knock knock").status_code == 201
    jobs.run()
    with app.app_context():
        [delivery] = db.session.scalars(select(Delivery)).all()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_error == "ConnectionError"
    assert [name for name, _, _ in jobs.delayed()] == ["deliver"]


def test_a_handoff_from_the_bot_goes_to_every_available_agent(
    app: Flask, client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    from app.auth.visitors import visitor_principal
    from app.models import Ticket
    from app.services import tickets

    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "I want a human")
    jobs.run()
    owner_sub = stub.subscriber()
    _subscribe(client, owner.headers, owner_sub)
    with app.app_context():  # the bot holds the ticket (its own decisions are not tested here)
        db.session.execute(update(Ticket).values(status="bot"))
        db.session.commit()
    with app.test_request_context():
        principal = visitor_principal(visitor.token)
        assert principal is not None
        tickets.hand_off(principal, ticket["id"])  # what ticket:handoff over Socket.IO calls
    jobs.run()
    pushes = stub.wait_for(owner_sub, 1)
    assert [p["payload"]["type"] for p in pushes] == ["ticket"]
    assert pushes[0]["payload"]["title"] == "Needs a person"
    assert pushes[0]["payload"]["ticket_id"] == ticket["id"]


def test_pushes_stay_inside_the_workspace(
    client: FlaskClient, jobs: JobRecorder, stub: PushStub
) -> None:
    ours, theirs = f.signup(client, workspace="Ours"), f.signup(client, workspace="Theirs")
    our_sub, their_sub = stub.subscriber(), stub.subscriber()
    _subscribe(client, ours.headers, our_sub)
    _subscribe(client, theirs.headers, their_sub)
    site = f.create_site(client, ours)
    ticket = f.start_ticket(client, f.widget_session(client, site), "Only for Ours")
    jobs.run()
    [push] = stub.wait_for(our_sub, 1)
    assert push["payload"]["ticket_id"] == ticket["id"]
    assert their_sub.received == []


def test_messages_queue_no_job_where_nobody_can_be_notified(
    app: Flask, client: FlaskClient, jobs: JobRecorder
) -> None:
    """Group commit (PostgreSQL) asks first whether the workspace can be notified at all;
    the per-message path queues the job and the job finds nothing. Nobody misses a push."""
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor)
    writer = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")

    def notify_jobs() -> int:
        return sum(1 for name, _, _ in jobs.jobs if name == "notify_message")

    before = notify_jobs()
    assert f.send(client, owner.headers, ticket["id"], "Hello from us").status_code == 201
    assert notify_jobs() == before + (0 if writer else 1)
    with PushStub() as stub:
        sub = stub.subscriber()
        r = client.post(
            "/api/v1/push/subscriptions", headers=visitor.headers, json=sub.subscription
        )
        assert r.status_code == 201, r.get_json()
        before = notify_jobs()
        assert f.send(client, owner.headers, ticket["id"], "Still there?").status_code == 201
        assert notify_jobs() == before + 1
