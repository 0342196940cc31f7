"""``PATCH /widget/visitor``: pre-chat answers and a left e-mail, stored on the visitor."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.limits import MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PRECHAT_ANSWER_CHARS
from app.models import Visitor
from tests import factories as f

PRECHAT = [
    {"name": "name", "label": "Your name", "type": "text", "required": True},
    {"name": "email", "label": "E-mail", "type": "email", "required": True},
    {"name": "order", "label": "Order number", "type": "text", "required": False},
]


def _patch(client: FlaskClient, token: str | None, body: Any) -> Any:
    headers = f.bearer(token) if token else {}
    return client.patch("/api/v1/widget/visitor", headers=headers, json=body)


def _setup(client: FlaskClient) -> tuple[f.Owner, dict[str, Any], f.VisitorSession]:
    owner = f.signup(client)
    site = f.create_site(client, owner, prechat_fields=PRECHAT)
    return owner, site, f.widget_session(client, site)


def _visitor_rows(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Visitor)) or 0)


def test_pre_chat_answers_before_the_first_message_create_the_visitor(
    app: Flask, client: FlaskClient
) -> None:
    owner, site, visitor = _setup(client)
    assert _visitor_rows(app) == 0  # a session alone stores nothing
    r = _patch(
        client,
        visitor.token,
        {"name": "  Jo Buyer ", "email": "jo@example.com", "fields": {"order": "A-1234"}},
    )
    assert r.status_code == 200, r.get_json()
    got = r.get_json()["visitor"]
    assert got["id"] == visitor.visitor["id"]
    assert (got["name"], got["email"]) == ("Jo Buyer", "jo@example.com")
    assert got["attributes"] == {"order": "A-1234"}
    assert _visitor_rows(app) == 1

    # The first message then carries the name, and agents see every answer on the ticket.
    ticket = f.start_ticket(client, visitor, "Where is my order?")
    shown = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).get_json()
    assert shown["ticket"]["visitor"]["name"] == "Jo Buyer"
    assert shown["ticket"]["visitor"]["email"] == "jo@example.com"
    assert shown["ticket"]["visitor"]["attributes"] == {"order": "A-1234"}
    history = client.get(f"/api/v1/tickets/{ticket['id']}/messages", headers=owner.headers)
    assert history.get_json()["messages"][0]["sender"]["name"] == "Jo Buyer"
    # And the visitor's next session brings them back (the frame pre-fills its form).
    again = f.widget_session(client, site, token=visitor.token)
    assert again.visitor["name"] == "Jo Buyer"
    assert again.visitor["attributes"] == {"order": "A-1234"}


def test_an_e_mail_left_after_the_first_message_updates_the_same_visitor(
    app: Flask, client: FlaskClient
) -> None:
    owner, _, visitor = _setup(client)
    ticket = f.start_ticket(client, visitor)
    r = _patch(client, visitor.token, {"email": "later@example.com"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["visitor"]["email"] == "later@example.com"
    assert r.get_json()["visitor"]["name"] is None
    assert _visitor_rows(app) == 1
    shown = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).get_json()
    assert shown["ticket"]["visitor"]["email"] == "later@example.com"


def test_answers_merge_and_null_clears(client: FlaskClient) -> None:
    _, _, visitor = _setup(client)
    _patch(client, visitor.token, {"name": "Jo", "email": "jo@example.com"})
    _patch(client, visitor.token, {"fields": {"order": "B-9"}})
    r = _patch(client, visitor.token, {"email": None})
    got = r.get_json()["visitor"]
    assert (got["name"], got["email"], got["attributes"]) == ("Jo", None, {"order": "B-9"})


def test_email_must_look_like_an_email(client: FlaskClient) -> None:
    _, _, visitor = _setup(client)
    for email in ("not-an-email", "jo@", "@example.com", "jo example@x.com", 42):
        error = f.assert_error(_patch(client, visitor.token, {"email": email}), 422, "invalid")
        assert "email" in error["fields"], email
    local = "a" * (MAX_EMAIL_CHARS - len("@example.com") + 1)
    error = f.assert_error(
        _patch(client, visitor.token, {"email": local + "@example.com"}), 422, "invalid"
    )
    assert "email" in error["fields"]


def test_name_and_answers_have_explicit_limits(client: FlaskClient) -> None:
    _, _, visitor = _setup(client)
    ok = _patch(client, visitor.token, {"name": "n" * MAX_NAME_CHARS})
    assert ok.status_code == 200
    long_name = {"name": "n" * (MAX_NAME_CHARS + 1)}
    assert (
        "name" in f.assert_error(_patch(client, visitor.token, long_name), 422, "invalid")["fields"]
    )
    assert (
        "name"
        in f.assert_error(_patch(client, visitor.token, {"name": "  "}), 422, "invalid")["fields"]
    )
    answer = {"fields": {"order": "x" * MAX_PRECHAT_ANSWER_CHARS}}
    assert _patch(client, visitor.token, answer).status_code == 200
    answer = {"fields": {"order": "x" * (MAX_PRECHAT_ANSWER_CHARS + 1)}}
    assert (
        "fields" in f.assert_error(_patch(client, visitor.token, answer), 422, "invalid")["fields"]
    )
    many = {"fields": {f"f{i}": "x" for i in range(11)}}
    assert "fields" in f.assert_error(_patch(client, visitor.token, many), 422, "invalid")["fields"]


def test_only_the_sites_custom_fields_are_accepted(client: FlaskClient) -> None:
    _, _, visitor = _setup(client)
    for fields in ({"company": "Acme"}, {"name": "Jo"}, {"Bad Key": "x"}, {"order": 5}):
        r = _patch(client, visitor.token, {"fields": fields})
        assert "fields" in f.assert_error(r, 422, "invalid")["fields"], fields
    error = f.assert_error(
        _patch(client, visitor.token, {"fields": {"company": "Acme"}}), 422, "invalid"
    )
    assert error["fields"]["fields"] == {"company": ["Not a pre-chat field of this site."]}


def test_nothing_to_change_and_unknown_keys_are_invalid(client: FlaskClient) -> None:
    _, _, visitor = _setup(client)
    f.assert_error(_patch(client, visitor.token, {}), 422, "invalid")
    error = f.assert_error(_patch(client, visitor.token, {"phone": "123"}), 422, "invalid")
    assert "phone" in error["fields"]
    r = client.patch("/api/v1/widget/visitor", headers=f.bearer(visitor.token), data="x")
    f.assert_error(r, 400, "invalid")


def test_only_a_visitor_token_may_patch_a_visitor(client: FlaskClient) -> None:
    owner, _, _ = _setup(client)
    f.assert_error(_patch(client, None, {"name": "Jo"}), 401, "unauthorized")
    f.assert_error(_patch(client, "garbage-token", {"name": "Jo"}), 401, "unauthorized")
    f.assert_error(_patch(client, owner.token, {"name": "Jo"}), 403, "forbidden")


def test_a_visitor_changes_only_itself(app: Flask, client: FlaskClient) -> None:
    _, site, first = _setup(client)
    second = f.widget_session(client, site)
    _patch(client, first.token, {"name": "First"})
    _patch(client, second.token, {"name": "Second"})
    assert f.widget_session(client, site, token=first.token).visitor["name"] == "First"
    assert f.widget_session(client, site, token=second.token).visitor["name"] == "Second"
    assert _visitor_rows(app) == 2


def test_the_page_sent_after_the_first_message_reaches_the_agents_panel(
    client: FlaskClient,
) -> None:
    owner, site, visitor = _setup(client)
    ticket = f.start_ticket(client, visitor, "Is this in stock?")
    page = {"url": "https://shop.example/boots?size=42", "title": "Boots", "referrer": ""}
    r = client.patch(
        "/api/v1/widget/visitor",
        headers={**f.bearer(visitor.token), "User-Agent": "Mozilla/5.0 (X11; Linux) Chrome/131"},
        json={"page": page},
    )
    assert r.status_code == 200, r.get_json()
    shown = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).get_json()
    seen = shown["ticket"]["visitor"]
    assert seen["current_url"] == "https://shop.example/boots?size=42"
    panel = client.get(f"/api/v1/visitors/{seen['id']}", headers=owner.headers).get_json()
    assert "Chrome/131" in panel["visitor"]["user_agent"], panel
    too_long = {"url": "https://shop.example/" + "a" * 3000}
    assert _patch(client, visitor.token, {"page": too_long}).status_code == 422
