"""Messages: idempotent sends, seq order, limits, private notes and history pages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.limits import (
    MAX_BODY_CHARS,
    MAX_CLIENT_ID_CHARS,
    MAX_SEQ,
    MESSAGE_PAGE_DEFAULT,
    MESSAGE_PAGE_MAX,
)
from app.models import Message
from tests import factories as f


@pytest.fixture
def chat(client: FlaskClient) -> tuple[f.Owner, f.VisitorSession, dict[str, Any]]:
    """An owner, a visitor and the visitor's ticket with one message."""
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    return owner, visitor, f.start_ticket(client, visitor, "m1")


def _page(client: FlaskClient, headers: dict[str, str], ticket_id: str, query: str = "") -> Any:
    r = client.get(f"/api/v1/tickets/{ticket_id}/messages{query}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _stored_count(app: Flask, ticket_id: str) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count()).select_from(Message).where(Message.ticket_id == ticket_id)
            )
            or 0
        )


def _fill(client: FlaskClient, visitor: f.VisitorSession, ticket_id: str, upto: int) -> None:
    """Send messages m2..m<upto> (the ticket already holds m1)."""
    for i in range(2, upto + 1):
        r = f.send(client, visitor.headers, ticket_id, f"m{i}")
        assert r.status_code == 201, r.get_json()


# -- sending --------------------------------------------------------------------------------------


def test_send_returns_the_stored_message(client: FlaskClient, chat: Any) -> None:
    owner, visitor, ticket = chat
    r = f.send(client, owner.headers, ticket["id"], "  How can I help?  ", client_id="reply-1")
    assert r.status_code == 201
    message = r.get_json()["message"]
    assert message["ticket_id"] == ticket["id"]
    assert message["seq"] == 2
    assert message["client_id"] == "reply-1"
    assert message["kind"] == "text"
    assert message["body"] == "How can I help?"
    assert message["sender"] == {
        "type": "agent",
        "id": owner.agent["id"],
        "name": owner.agent["name"],
    }
    assert message["created_at"].endswith("Z") and len(message["created_at"]) == 24
    assert r.get_json()["duplicate"] is False
    history = _page(client, visitor.headers, ticket["id"])["messages"]
    assert history[-1] == message


def test_resend_with_same_client_id_stores_once(app: Flask, client: FlaskClient, chat: Any) -> None:
    _, visitor, ticket = chat
    first = f.send(client, visitor.headers, ticket["id"], "Are you there?", client_id="c-42")
    assert first.status_code == 201
    second = f.send(client, visitor.headers, ticket["id"], "Are you there?", client_id="c-42")
    assert second.status_code == 200
    assert second.get_json()["duplicate"] is True
    assert second.get_json()["message"]["id"] == first.get_json()["message"]["id"]
    assert second.get_json()["message"]["seq"] == first.get_json()["message"]["seq"] == 2
    assert _stored_count(app, ticket["id"]) == 2
    r = client.get(f"/api/v1/tickets/{ticket['id']}", headers=visitor.headers)
    assert r.get_json()["ticket"]["last_seq"] == 2
    # The next new message takes the next seq: the resend used none.
    assert f.send(client, visitor.headers, ticket["id"], "Hello?").get_json()["message"]["seq"] == 3


def test_resend_with_other_body_returns_the_original(client: FlaskClient, chat: Any) -> None:
    _, visitor, ticket = chat
    f.send(client, visitor.headers, ticket["id"], "original", client_id="c-7")
    again = f.send(client, visitor.headers, ticket["id"], "edited", client_id="c-7")
    assert again.status_code == 200
    assert again.get_json()["message"]["body"] == "original"


def test_same_client_id_from_different_senders_are_different_messages(
    client: FlaskClient, chat: Any
) -> None:
    owner, visitor, ticket = chat
    a = f.send(client, visitor.headers, ticket["id"], "from visitor", client_id="shared")
    b = f.send(client, owner.headers, ticket["id"], "from agent", client_id="shared")
    assert a.status_code == b.status_code == 201
    assert a.get_json()["message"]["id"] != b.get_json()["message"]["id"]


def test_seq_counts_one_to_n_in_send_order(client: FlaskClient, chat: Any) -> None:
    owner, visitor, ticket = chat
    senders = [visitor, owner, visitor, owner, owner, visitor]
    for i, who in enumerate(senders, start=2):
        r = f.send(client, who.headers, ticket["id"], f"m{i}")
        assert r.get_json()["message"]["seq"] == i
    messages = _page(client, owner.headers, ticket["id"])["messages"]
    assert [m["seq"] for m in messages] == list(range(1, 8))
    assert [m["body"] for m in messages] == [f"m{i}" for i in range(1, 8)]
    assert [m["sender"]["type"] for m in messages] == ["visitor"] + [
        "visitor" if who is visitor else "agent" for who in senders
    ]


def test_agent_reply_joins_the_ticket_group(client: FlaskClient, chat: Any) -> None:
    owner, _, ticket = chat
    f.send(client, owner.headers, ticket["id"], "On it")
    got = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).get_json()
    assert owner.agent["id"] in {p["id"] for p in got["ticket"]["participants"]}


# -- limits ---------------------------------------------------------------------------------------


def test_body_of_max_length_is_accepted_and_one_more_is_rejected(
    app: Flask, client: FlaskClient, chat: Any
) -> None:
    _, visitor, ticket = chat
    assert MAX_BODY_CHARS == 5000
    ok = f.send(client, visitor.headers, ticket["id"], "é" * MAX_BODY_CHARS)
    assert ok.status_code == 201
    assert ok.get_json()["message"]["body"] == "é" * MAX_BODY_CHARS
    too_long = f.send(client, visitor.headers, ticket["id"], "x" * (MAX_BODY_CHARS + 1))
    assert "body" in f.assert_error(too_long, 422, "invalid")["fields"]
    # Length counts after trimming.
    padded = f.send(client, visitor.headers, ticket["id"], "  " + "y" * MAX_BODY_CHARS + "\n")
    assert padded.status_code == 201
    assert _stored_count(app, ticket["id"]) == 3


@pytest.mark.parametrize("body", ["", " ", "   \n\t  ", "\u00a0\u2003"])
def test_empty_or_whitespace_body_is_rejected(
    app: Flask, client: FlaskClient, chat: Any, body: str
) -> None:
    _, visitor, ticket = chat
    r = f.send(client, visitor.headers, ticket["id"], body)
    assert "body" in f.assert_error(r, 422, "invalid")["fields"]
    r = client.post(
        "/api/v1/tickets", headers=visitor.headers, json={"client_id": "blank", "body": body}
    )
    assert "body" in f.assert_error(r, 422, "invalid")["fields"]
    assert _stored_count(app, ticket["id"]) == 1


def test_client_id_of_max_length_is_accepted_and_one_more_is_rejected(
    client: FlaskClient, chat: Any
) -> None:
    _, visitor, ticket = chat
    assert MAX_CLIENT_ID_CHARS == 64
    ok = f.send(client, visitor.headers, ticket["id"], "fine", client_id="c" * 64)
    assert ok.status_code == 201
    assert ok.get_json()["message"]["client_id"] == "c" * 64
    r = f.send(client, visitor.headers, ticket["id"], "too long", client_id="c" * 65)
    assert "client_id" in f.assert_error(r, 422, "invalid")["fields"]
    r = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", headers=visitor.headers, json={"body": "x"}
    )
    assert "client_id" in f.assert_error(r, 422, "invalid")["fields"]
    r = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        headers=visitor.headers,
        json={"client_id": "", "body": "x"},
    )
    assert "client_id" in f.assert_error(r, 422, "invalid")["fields"]


def test_kind_must_be_text_or_note(client: FlaskClient, chat: Any) -> None:
    owner, _, ticket = chat
    for kind in ("event", "html", ""):
        r = f.send(client, owner.headers, ticket["id"], "x", kind=kind)
        assert "kind" in f.assert_error(r, 422, "invalid")["fields"]


def test_ticket_id_in_body_must_match_the_url(client: FlaskClient, chat: Any) -> None:
    _, visitor, ticket = chat
    r = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        headers=visitor.headers,
        json={"client_id": "x", "body": "x", "ticket_id": "0" * 26},
    )
    f.assert_error(r, 422, "invalid")


# -- private notes --------------------------------------------------------------------------------


def test_notes_are_never_shown_to_the_visitor(client: FlaskClient, chat: Any) -> None:
    owner, visitor, ticket = chat
    note = f.send(client, owner.headers, ticket["id"], "VIP customer", kind="note")
    assert note.status_code == 201
    assert note.get_json()["message"]["kind"] == "note"
    f.send(client, owner.headers, ticket["id"], "Hello!")
    agent_view = _page(client, owner.headers, ticket["id"])["messages"]
    assert [m["kind"] for m in agent_view] == ["text", "note", "text"]
    for query in ("", "?after=0", "?before=100", "?after=1&limit=1", "?limit=1"):
        page = _page(client, visitor.headers, ticket["id"], query)
        assert all(m["kind"] != "note" for m in page["messages"])
        assert "VIP customer" not in str(page)
    visitor_view = _page(client, visitor.headers, ticket["id"])["messages"]
    assert [m["body"] for m in visitor_view] == ["m1", "Hello!"]
    # A note as the newest message is not the visitor's last message either.
    f.send(client, owner.headers, ticket["id"], "Refund approved internally", kind="note")
    for r in (
        client.get(f"/api/v1/tickets/{ticket['id']}", headers=visitor.headers),
        client.get("/api/v1/tickets", headers=visitor.headers),
        client.post(
            "/api/v1/widget/session",
            json={"site_key": visitor.site_key, "visitor_token": visitor.token},
        ),
    ):
        text = r.get_data(as_text=True)
        assert "VIP customer" not in text
        assert "Refund approved internally" not in text
    got = client.get(f"/api/v1/tickets/{ticket['id']}", headers=visitor.headers).get_json()
    assert got["ticket"]["last_message"]["body"] == "Hello!"


def test_visitor_cannot_post_a_note(app: Flask, client: FlaskClient, chat: Any) -> None:
    _, visitor, ticket = chat
    r = f.send(client, visitor.headers, ticket["id"], "sneaky", kind="note")
    assert r.status_code in (403, 422)
    assert r.get_json()["error"]["code"] in ("forbidden", "invalid")
    assert _stored_count(app, ticket["id"]) == 1


# -- history pages --------------------------------------------------------------------------------


def test_history_pages_with_before_and_after(client: FlaskClient, chat: Any) -> None:
    owner, visitor, ticket = chat
    _fill(client, visitor, ticket["id"], 60)
    tid = ticket["id"]
    newest = _page(client, owner.headers, tid)
    assert MESSAGE_PAGE_DEFAULT == 50
    assert [m["seq"] for m in newest["messages"]] == list(range(11, 61))
    assert newest["has_more"] is True
    older = _page(client, owner.headers, tid, "?before=11")
    assert [m["seq"] for m in older["messages"]] == list(range(1, 11))
    assert older["has_more"] is False
    middle = _page(client, owner.headers, tid, "?before=31&limit=10")
    assert [m["seq"] for m in middle["messages"]] == list(range(21, 31))
    assert middle["has_more"] is True
    forward = _page(client, owner.headers, tid, "?after=0&limit=25")
    assert [m["seq"] for m in forward["messages"]] == list(range(1, 26))
    assert forward["has_more"] is True
    tail = _page(client, owner.headers, tid, "?after=55")
    assert [m["seq"] for m in tail["messages"]] == list(range(56, 61))
    assert tail["has_more"] is False
    assert _page(client, owner.headers, tid, "?after=60") == {"messages": [], "has_more": False}
    exact = _page(client, owner.headers, tid, "?after=50&limit=10")
    assert [m["seq"] for m in exact["messages"]] == list(range(51, 61))
    assert exact["has_more"] is False


def test_history_limit_over_max_is_clamped(client: FlaskClient, chat: Any) -> None:
    owner, visitor, ticket = chat
    assert MESSAGE_PAGE_MAX == 200
    _fill(client, visitor, ticket["id"], MESSAGE_PAGE_MAX + 5)
    page = _page(client, owner.headers, ticket["id"], "?limit=1000")
    assert [m["seq"] for m in page["messages"]] == list(range(6, 206))
    assert page["has_more"] is True
    page = _page(client, owner.headers, ticket["id"], "?after=0&limit=201")
    assert len(page["messages"]) == MESSAGE_PAGE_MAX
    assert page["has_more"] is True


@pytest.mark.parametrize(
    "query",
    [
        "?limit=0",
        "?limit=-5",
        "?limit=many",
        "?before=1&after=0",
        "?before=-1",
        "?after=x",
        "?after=99999999999999999999999",
        "?before=99999999999999999999999",
        "?page=2",
    ],
)
def test_bad_history_parameters_are_invalid(client: FlaskClient, chat: Any, query: str) -> None:
    owner, _, ticket = chat
    r = client.get(f"/api/v1/tickets/{ticket['id']}/messages{query}", headers=owner.headers)
    assert f.assert_error(r, 422, "invalid")["fields"]


def test_history_cursor_accepts_up_to_the_largest_seq(client: FlaskClient, chat: Any) -> None:
    owner, _, ticket = chat
    page = _page(client, owner.headers, ticket["id"], f"?before={MAX_SEQ}")
    assert [m["body"] for m in page["messages"]] == ["m1"]
    assert _page(client, owner.headers, ticket["id"], f"?after={MAX_SEQ}")["messages"] == []
    for query in (f"?before={MAX_SEQ + 1}", f"?after={MAX_SEQ + 1}"):
        r = client.get(f"/api/v1/tickets/{ticket['id']}/messages{query}", headers=owner.headers)
        f.assert_error(r, 422, "invalid")


def test_history_of_unknown_ticket_is_not_found(client: FlaskClient, chat: Any) -> None:
    owner, visitor, _ = chat
    for tid in ("0" * 26, "nope", uuid.uuid4().hex):
        for who in (owner, visitor):
            r = client.get(f"/api/v1/tickets/{tid}/messages", headers=who.headers)
            f.assert_error(r, 404, "not_found")
            f.assert_error(f.send(client, who.headers, tid, "hello?"), 404, "not_found")
