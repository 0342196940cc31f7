"""E-mail to visitors who left an address, over SMTP to a local server (aiosmtpd):
"an agent replied" (collapsed) and the transcript once the ticket is resolved."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message as Mail
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.extensions import db
from app.jobs.runner import set_backend
from app.lib.timeutil import utcnow
from app.models import Delivery, NotificationWindow
from tests import factories as f
from tests.live import free_port
from tests.pushstub import JobRecorder


class Inbox:
    """aiosmtpd handler: keeps every message it accepts; can refuse the next ones."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.refuse: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return self.refuse.pop(0)
        self.mails.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox(app: Flask) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_FROM="Shop <help@shop.example>"
    )
    yield handler
    controller.stop()


@pytest.fixture
def jobs(app: Flask) -> JobRecorder:
    app.config["DELIVERY_RETRY_BASE_S"] = 2.0
    recorder = JobRecorder(app)
    set_backend(recorder)
    return recorder


def _visitor_with_address(client: FlaskClient) -> tuple[f.Owner, f.VisitorSession, dict[str, Any]]:
    owner = f.signup(client, name="Olive Owner")
    site = f.create_site(client, owner, name="Bike Shop")
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "Do you fix brakes?")
    r = client.patch(
        "/api/v1/widget/visitor", headers=visitor.headers, json={"email": "vera@example.com"}
    )
    assert r.status_code == 200, r.get_json()
    return owner, visitor, ticket


def _text(mail: Mail) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_an_agent_reply_is_mailed_to_the_visitor_who_left(
    client: FlaskClient, jobs: JobRecorder, inbox: Inbox
) -> None:
    owner, visitor, ticket = _visitor_with_address(client)
    jobs.run()
    assert (
        f.send(client, owner.headers, ticket["id"], "Yes, bring it by <b>today</b>.").status_code
        == 201
    )
    assert f.send(client, owner.headers, ticket["id"], "Private", kind="note").status_code == 201
    jobs.run()
    [mail] = inbox.mails
    assert mail["To"] == "vera@example.com"
    assert mail["From"] == "Shop <help@shop.example>"
    assert mail["Subject"] == "New reply from Bike Shop"
    text = _text(mail)
    assert "Olive Owner: Yes, bring it by <b>today</b>." in text
    assert "Private" not in text and "Do you fix brakes?" not in text
    assert "https://shop.example/" in text


def test_replies_within_the_window_become_one_mail_with_all_of_them(
    app: Flask, client: FlaskClient, jobs: JobRecorder, inbox: Inbox
) -> None:
    owner, visitor, ticket = _visitor_with_address(client)
    jobs.run()
    for text in ("First", "Second", "Third"):
        assert f.send(client, owner.headers, ticket["id"], text).status_code == 201
    jobs.run()
    assert len(inbox.mails) == 1
    [(_, _, delay)] = jobs.delayed("flush_window")
    assert 0 < delay <= 300
    with app.app_context():
        db.session.execute(update(NotificationWindow).values(pending_due_at=utcnow()))
        db.session.commit()
    jobs.run(delayed=True)
    assert len(inbox.mails) == 2
    later = _text(inbox.mails[1])
    assert "Second" in later and "Third" in later and "First" not in later


def test_no_mail_without_an_address_nor_for_the_visitors_own_message(
    client: FlaskClient, jobs: JobRecorder, inbox: Inbox
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor)
    assert f.send(client, owner.headers, ticket["id"], "Hello!").status_code == 201
    assert f.send(client, visitor.headers, ticket["id"], "Hi").status_code == 201
    jobs.run()
    assert inbox.mails == []


def test_the_transcript_is_mailed_when_the_ticket_is_resolved(
    client: FlaskClient, jobs: JobRecorder, inbox: Inbox
) -> None:
    owner, visitor, ticket = _visitor_with_address(client)
    assert f.send(client, owner.headers, ticket["id"], "We do!").status_code == 201
    assert f.send(client, owner.headers, ticket["id"], "Staff only", kind="note").status_code == 201
    jobs.run()
    inbox.mails.clear()
    r = client.patch(
        f"/api/v1/tickets/{ticket['id']}", headers=owner.headers, json={"status": "resolved"}
    )
    assert r.status_code == 200
    jobs.run()
    jobs.run()  # a repeated job sends nothing more
    [mail] = inbox.mails
    assert mail["Subject"] == "Your conversation with Bike Shop"
    text = _text(mail)
    assert text.index("Visitor: Do you fix brakes?") < text.index("Olive Owner: We do!")
    assert "Staff only" not in text


def test_a_temporary_smtp_refusal_is_retried(
    app: Flask, client: FlaskClient, jobs: JobRecorder, inbox: Inbox
) -> None:
    owner, visitor, ticket = _visitor_with_address(client)
    jobs.run()
    inbox.refuse = ["451 Try again later"]
    assert f.send(client, owner.headers, ticket["id"], "Retry me").status_code == 201
    jobs.run()
    assert inbox.mails == []
    [(_, _, delay)] = jobs.delayed("deliver")
    assert delay == 2.0
    with app.app_context():
        db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
        db.session.commit()
    jobs.run(delayed=True)
    [mail] = inbox.mails
    assert "Retry me" in _text(mail)
    with app.app_context():
        [delivery] = db.session.scalars(select(Delivery)).all()
        assert (delivery.status, delivery.attempts) == ("delivered", 2)
