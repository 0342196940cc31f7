"""The widget frame's session: visitor tokens, verified identities and returning history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Visitor
from tests import factories as f


def _session(client: FlaskClient, **body: Any) -> Any:
    return client.post("/api/v1/widget/session", json=body)


def _identity(site: dict[str, Any], external_id: str, **extra: Any) -> dict[str, Any]:
    return {"external_id": external_id, "user_hash": f.user_hash(site, external_id), **extra}


def test_unknown_site_key_is_not_found(client: FlaskClient) -> None:
    f.assert_error(_session(client, site_key="no-such-site"), 404, "not_found")


def test_new_session_returns_token_visitor_and_site_look(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, name="Shop", color="#123456", title="Ask us")
    r = _session(client, site_key=site["site_key"])
    assert r.status_code == 200
    body = r.get_json()
    assert isinstance(body["visitor_token"], str) and body["visitor_token"]
    assert body["visitor"]["site_id"] == site["id"]
    assert isinstance(body["visitor"]["id"], str) and body["visitor"]["id"]
    assert body["site"]["name"] == "Shop"
    assert body["site"]["settings"]["color"] == "#123456"
    assert body["site"]["settings"]["title"] == "Ask us"
    assert isinstance(body["site"]["online"], bool)
    assert body["tickets"] == []
    assert "site_secret" not in r.get_data(as_text=True)
    assert site["site_secret"] not in r.get_data(as_text=True)


def test_each_new_session_is_a_different_visitor(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    first = f.widget_session(client, site)
    second = f.widget_session(client, site)
    assert first.visitor["id"] != second.visitor["id"]


def test_same_visitor_token_returns_same_visitor_and_history(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "Is my parcel lost?")
    again = _session(client, site_key=site["site_key"], visitor_token=visitor.token)
    assert again.status_code == 200
    body = again.get_json()
    assert body["visitor"]["id"] == visitor.visitor["id"]
    assert [t["id"] for t in body["tickets"]] == [ticket["id"]]
    assert body["tickets"][0]["last_message"]["body"] == "Is my parcel lost?"
    # The renewed token still speaks for the same visitor.
    history = client.get(
        f"/api/v1/tickets/{ticket['id']}/messages", headers=f.bearer(body["visitor_token"])
    )
    assert history.status_code == 200
    assert [m["body"] for m in history.get_json()["messages"]] == ["Is my parcel lost?"]


def test_token_of_another_site_gives_a_new_visitor(client: FlaskClient) -> None:
    owner = f.signup(client)
    site_a = f.create_site(client, owner, name="A")
    site_b = f.create_site(client, owner, name="B")
    on_a = f.widget_session(client, site_a)
    f.start_ticket(client, on_a)
    on_b = f.widget_session(client, site_b, token=on_a.token)
    assert on_b.visitor["id"] != on_a.visitor["id"]
    assert on_b.visitor["site_id"] == site_b["id"]
    r = _session(client, site_key=site_b["site_key"], visitor_token=on_a.token)
    assert r.get_json()["tickets"] == []


def test_token_of_another_workspace_gives_a_new_visitor(client: FlaskClient) -> None:
    site_a = f.create_site(client, f.signup(client, workspace="A"))
    site_b = f.create_site(client, f.signup(client, workspace="B"))
    on_a = f.widget_session(client, site_a)
    f.start_ticket(client, on_a)
    on_b = f.widget_session(client, site_b, token=on_a.token)
    assert on_b.visitor["id"] != on_a.visitor["id"]


def test_tampered_token_gives_a_new_visitor_not_an_error(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor)
    payload, signature = visitor.token.rsplit(".", 1)
    # Change a middle character: the last one of a base64 run may only carry padding bits.
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    tampered = f"{payload}.{flipped}"
    forged_payload = payload[:3] + ("A" if payload[3] != "A" else "B") + payload[4:]
    for token in (
        tampered,
        f"{forged_payload}.{signature}",
        "garbage",
        visitor.token + "x",
        "x" * 512,
    ):
        r = _session(client, site_key=site["site_key"], visitor_token=token)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["visitor"]["id"] != visitor.visitor["id"]
        assert r.get_json()["tickets"] == []
        assert r.get_json()["visitor_token"] != visitor.token
    # The tampered token opens nothing either.
    r = client.get(f"/api/v1/tickets/{ticket['id']}", headers=f.bearer(tampered))
    f.assert_error(r, 401, "unauthorized")


def test_verified_identity_maps_to_the_same_visitor_without_a_token(
    app: Flask, client: FlaskClient
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    identity = _identity(site, "user-42", name="Ada Lovelace", email="ada@example.com")
    first = _session(client, site_key=site["site_key"], identity=identity)
    assert first.status_code == 200, first.get_json()
    visitor = first.get_json()["visitor"]
    assert visitor["external_id"] == "user-42"
    assert visitor["name"] == "Ada Lovelace"
    assert visitor["email"] == "ada@example.com"
    ticket = f.start_ticket(
        client, f.VisitorSession(first.get_json()["visitor_token"], visitor, site["site_key"])
    )
    # A new browser: no token, same identity.
    second = _session(client, site_key=site["site_key"], identity=_identity(site, "user-42"))
    assert second.status_code == 200
    assert second.get_json()["visitor"]["id"] == visitor["id"]
    assert second.get_json()["visitor"]["name"] == "Ada Lovelace"
    assert [t["id"] for t in second.get_json()["tickets"]] == [ticket["id"]]
    with app.app_context():
        stored = db.session.scalar(select(Visitor).where(Visitor.external_id == "user-42"))
        assert stored is not None
        assert stored.id == visitor["id"]
        assert (stored.name, stored.email, stored.verified) == (
            "Ada Lovelace",
            "ada@example.com",
            True,
        )


def test_identity_accepts_upper_case_hash(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    identity = {"external_id": "u-1", "user_hash": f.user_hash(site, "u-1").upper()}
    assert _session(client, site_key=site["site_key"], identity=identity).status_code == 200


def test_identity_adopts_an_anonymous_visitor_with_history(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    anonymous = f.widget_session(client, site)
    ticket = f.start_ticket(client, anonymous)
    r = _session(
        client,
        site_key=site["site_key"],
        visitor_token=anonymous.token,
        identity=_identity(site, "buyer-7"),
    )
    assert r.get_json()["visitor"]["id"] == anonymous.visitor["id"]
    assert [t["id"] for t in r.get_json()["tickets"]] == [ticket["id"]]


def test_wrong_user_hash_is_forbidden(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    identity = {"external_id": "user-42", "user_hash": "0" * 64}
    f.assert_error(_session(client, site_key=site["site_key"], identity=identity), 403, "forbidden")


def test_hash_made_with_another_sites_secret_is_forbidden(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, name="A")
    other = f.create_site(client, owner, name="B")
    identity = _identity(other, "user-42")
    f.assert_error(_session(client, site_key=site["site_key"], identity=identity), 403, "forbidden")


def test_valid_hash_for_another_external_id_is_forbidden(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    victim = _session(client, site_key=site["site_key"], identity=_identity(site, "alice"))
    assert victim.status_code == 200
    forged = {"external_id": "alice", "user_hash": f.user_hash(site, "mallory")}
    r = _session(client, site_key=site["site_key"], identity=forged)
    f.assert_error(r, 403, "forbidden")
    assert "visitor_token" not in r.get_json()


def test_malformed_identity_is_invalid(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    for identity in (
        {"external_id": "u"},
        {"user_hash": f.user_hash(site, "u")},
        {"external_id": "u", "user_hash": "not-hex"},
        {"external_id": "", "user_hash": f.user_hash(site, "")},
    ):
        r = _session(client, site_key=site["site_key"], identity=identity)
        error = f.assert_error(r, 422, "invalid")
        assert "identity" in error["fields"]


def test_page_is_recorded_for_a_stored_visitor(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    f.start_ticket(client, visitor)
    page = {"url": "https://shop.example/cart", "title": "Cart", "referrer": "https://x.example/"}
    r = _session(client, site_key=site["site_key"], visitor_token=visitor.token, page=page)
    assert r.get_json()["visitor"]["current_url"] == "https://shop.example/cart"
    assert r.get_json()["visitor"]["last_seen_at"].endswith("Z")
    listed = client.get("/api/v1/tickets", headers=owner.headers).get_json()["tickets"]
    assert listed[0]["visitor"]["current_url"] == "https://shop.example/cart"


def test_first_visitor_marks_site_installed(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    assert site["installed"] is False
    f.start_ticket(client, f.widget_session(client, site))
    got = client.get(f"/api/v1/sites/{site['id']}", headers=owner.headers).get_json()["site"]
    assert got["installed"] is True


# -- business hours in the session ------------------------------------------------------------

_WEEKDAYS_9_TO_5 = {
    "timezone": "Europe/Paris",
    "days": {d: [{"open": "09:00", "close": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def _site_state(client: FlaskClient, monkeypatch: pytest.MonkeyPatch, now: datetime) -> Any:
    import app.services.widget as widget_service

    monkeypatch.setattr(widget_service, "utcnow", lambda: now)
    owner = f.signup(client)
    site = f.create_site(client, owner, business_hours=_WEEKDAYS_9_TO_5)
    body = _session(client, site_key=site["site_key"]).get_json()
    return body["site"]


def test_without_business_hours_the_site_is_always_open(client: FlaskClient) -> None:
    site = f.create_site(client, f.signup(client))
    body = _session(client, site_key=site["site_key"]).get_json()
    assert body["site"]["open"] is True
    assert body["site"]["next_open_at"] is None
    assert body["site"]["settings"]["business_hours"] is None


def test_inside_business_hours_the_site_is_open(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Monday 2026-01-05 10:00 in Paris is 09:00 UTC.
    state = _site_state(client, monkeypatch, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    assert (state["open"], state["next_open_at"]) == (True, None)


def test_outside_business_hours_the_session_says_when_it_opens(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Friday 2026-01-09 18:30 in Paris: back on Monday at 09:00 Paris, 08:00 UTC.
    state = _site_state(client, monkeypatch, datetime(2026, 1, 9, 17, 30, tzinfo=UTC))
    assert state["open"] is False
    assert state["next_open_at"] == "2026-01-12T08:00:00.000Z"
    assert state["settings"]["business_hours"] == _WEEKDAYS_9_TO_5


def test_no_visitor_row_is_stored_before_the_first_message(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    again = f.widget_session(client, site, visitor.token)
    assert again.visitor["id"] == visitor.visitor["id"]
    with app.app_context():
        assert db.session.scalar(select(Visitor).where(Visitor.site_id == site["id"])) is None
    f.start_ticket(client, visitor)
    with app.app_context():
        stored = db.session.scalars(select(Visitor).where(Visitor.site_id == site["id"])).all()
        assert [v.id for v in stored] == [visitor.visitor["id"]]
