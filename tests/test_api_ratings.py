"""``POST /tickets/{id}/rating``: the visitor rates its resolved ticket; agents see it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.limits import MAX_RATING_COMMENT_CHARS
from app.models import Rating
from tests import factories as f


def _rate(client: FlaskClient, token: str, ticket_id: str, body: Any) -> Any:
    return client.post(f"/api/v1/tickets/{ticket_id}/rating", headers=f.bearer(token), json=body)


def _resolve(client: FlaskClient, owner: f.Owner, ticket_id: str, status: str = "resolved") -> None:
    r = client.patch(f"/api/v1/tickets/{ticket_id}", headers=owner.headers, json={"status": status})
    assert r.status_code == 200, r.get_json()


def _resolved_ticket(
    client: FlaskClient,
) -> tuple[f.Owner, dict[str, Any], f.VisitorSession, dict[str, Any]]:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "My parcel is late")
    _resolve(client, owner, ticket["id"])
    return owner, site, visitor, ticket


def _ticket(client: FlaskClient, token: str, ticket_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/tickets/{ticket_id}", headers=f.bearer(token))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["ticket"]  # type: ignore[no-any-return]


def _ratings(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Rating)) or 0)


def test_visitor_rates_a_resolved_ticket_and_agents_see_it(app: Flask, client: FlaskClient) -> None:
    owner, _, visitor, ticket = _resolved_ticket(client)
    assert _ticket(client, owner.token, ticket["id"])["rating"] is None
    r = _rate(client, visitor.token, ticket["id"], {"score": 5, "comment": "  Quick and kind. "})
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"rating": {"score": 5, "comment": "Quick and kind."}}
    assert _ticket(client, owner.token, ticket["id"])["rating"] == {
        "score": 5,
        "comment": "Quick and kind.",
    }
    listed = client.get("/api/v1/tickets?status=resolved", headers=owner.headers).get_json()
    assert listed["tickets"][0]["rating"]["score"] == 5
    # The visitor sees its own rating too, so the widget does not ask again.
    assert _ticket(client, visitor.token, ticket["id"])["rating"]["score"] == 5
    assert _ratings(app) == 1


def test_rating_again_replaces_the_rating(app: Flask, client: FlaskClient) -> None:
    owner, _, visitor, ticket = _resolved_ticket(client)
    assert (
        _rate(client, visitor.token, ticket["id"], {"score": 2, "comment": "Slow"}).status_code
        == 201
    )
    again = _rate(client, visitor.token, ticket["id"], {"score": 4})
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == {"rating": {"score": 4, "comment": None}}
    assert _ticket(client, owner.token, ticket["id"])["rating"] == {"score": 4, "comment": None}
    assert _ratings(app) == 1


def test_a_comment_is_optional_and_blank_means_none(client: FlaskClient) -> None:
    _, _, visitor, ticket = _resolved_ticket(client)
    r = _rate(client, visitor.token, ticket["id"], {"score": 3, "comment": "   "})
    assert r.get_json()["rating"] == {"score": 3, "comment": None}
    r = _rate(client, visitor.token, ticket["id"], {"score": 3, "comment": None})
    assert r.get_json()["rating"] == {"score": 3, "comment": None}


def test_an_unresolved_ticket_cannot_be_rated(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor)
    f.assert_error(_rate(client, visitor.token, ticket["id"], {"score": 5}), 409, "conflict")
    _resolve(client, owner, ticket["id"], "pending")
    f.assert_error(_rate(client, visitor.token, ticket["id"], {"score": 5}), 409, "conflict")


def test_a_reopened_ticket_keeps_its_rating_for_the_reports(client: FlaskClient) -> None:
    owner, _, visitor, ticket = _resolved_ticket(client)
    _rate(client, visitor.token, ticket["id"], {"score": 1, "comment": "Not solved"})
    r = f.send(client, visitor.headers, ticket["id"], "It is still broken")
    assert r.status_code == 201, r.get_json()
    shown = _ticket(client, owner.token, ticket["id"])
    assert shown["status"] == "open"
    assert shown["rating"] == {"score": 1, "comment": "Not solved"}
    f.assert_error(_rate(client, visitor.token, ticket["id"], {"score": 2}), 409, "conflict")


def test_score_is_an_integer_from_1_to_5(client: FlaskClient) -> None:
    _, _, visitor, ticket = _resolved_ticket(client)
    for score in (0, 6, -1, 4.5, "5", True, None):
        r = _rate(client, visitor.token, ticket["id"], {"score": score})
        assert "score" in f.assert_error(r, 422, "invalid")["fields"], score
    r = _rate(client, visitor.token, ticket["id"], {"comment": "no score"})
    assert "score" in f.assert_error(r, 422, "invalid")["fields"]
    r = _rate(client, visitor.token, ticket["id"], {"score": 5, "stars": 5})
    assert "stars" in f.assert_error(r, 422, "invalid")["fields"]
    for score in (1, 5):
        assert _rate(client, visitor.token, ticket["id"], {"score": score}).status_code in (
            200,
            201,
        )


def test_comment_length_limit(client: FlaskClient) -> None:
    _, _, visitor, ticket = _resolved_ticket(client)
    longest = {"score": 4, "comment": "c" * MAX_RATING_COMMENT_CHARS}
    assert _rate(client, visitor.token, ticket["id"], longest).status_code == 201
    too_long = {"score": 4, "comment": "c" * (MAX_RATING_COMMENT_CHARS + 1)}
    error = f.assert_error(_rate(client, visitor.token, ticket["id"], too_long), 422, "invalid")
    assert "comment" in error["fields"]


def test_only_the_tickets_own_visitor_may_rate_it(app: Flask, client: FlaskClient) -> None:
    owner, site, _, ticket = _resolved_ticket(client)
    stranger = f.widget_session(client, site)
    f.assert_error(_rate(client, stranger.token, ticket["id"], {"score": 1}), 404, "not_found")
    f.assert_error(_rate(client, owner.token, ticket["id"], {"score": 5}), 403, "forbidden")
    r = client.post(f"/api/v1/tickets/{ticket['id']}/rating", json={"score": 5})
    f.assert_error(r, 401, "unauthorized")
    f.assert_error(_rate(client, stranger.token, "not-an-id", {"score": 1}), 404, "not_found")
    other_site = f.create_site(client, f.signup(client, workspace="Other"))
    outsider = f.widget_session(client, other_site)
    f.assert_error(_rate(client, outsider.token, ticket["id"], {"score": 1}), 404, "not_found")
    assert _ratings(app) == 0
