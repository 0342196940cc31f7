"""Tickets: opening, the keyset list and its filters, status, assignment, participants, reads
and who may see what."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests import factories as f


def _get(client: FlaskClient, headers: dict[str, str], ticket_id: str) -> Any:
    return client.get(f"/api/v1/tickets/{ticket_id}", headers=headers)


def _patch(client: FlaskClient, headers: dict[str, str], ticket_id: str, **body: Any) -> Any:
    return client.patch(f"/api/v1/tickets/{ticket_id}", headers=headers, json=body)


def _history(client: FlaskClient, headers: dict[str, str], ticket_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["messages"]  # type: ignore[no-any-return]


def _list(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[str]:
    r = client.get(f"/api/v1/tickets{query}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return [t["id"] for t in r.get_json()["tickets"]]


def _ticket_for_new_visitor(
    client: FlaskClient, site: dict[str, Any], body: str = "Hello"
) -> tuple[f.VisitorSession, dict[str, Any]]:
    visitor = f.widget_session(client, site)
    return visitor, f.start_ticket(client, visitor, body)


# -- opening a ticket -----------------------------------------------------------------------------


def test_visitor_first_message_opens_a_ticket(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    r = client.post(
        "/api/v1/tickets", headers=visitor.headers, json={"client_id": "c-1", "body": "Hi!"}
    )
    assert r.status_code == 201
    body = r.get_json()
    ticket = body["ticket"]
    assert ticket["site_id"] == site["id"]
    assert ticket["visitor"]["id"] == visitor.visitor["id"]
    assert ticket["status"] == "open"
    assert ticket["assignee"] is None
    assert ticket["last_seq"] == 1
    assert ticket["unread_count"] == 0  # the sender has read its own message
    assert body["message"]["seq"] == 1
    assert body["message"]["ticket_id"] == ticket["id"]
    assert body["message"]["sender"]["type"] == "visitor"
    assert body["message"]["created_at"].endswith("Z")
    members = [(p["type"], p["id"]) for p in ticket["participants"]]
    assert members == [("visitor", visitor.visitor["id"])]


def test_second_message_without_ticket_id_uses_the_active_ticket(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site, "First")
    again = f.start_ticket(client, visitor, "Second")
    assert again["id"] == ticket["id"]
    assert again["last_seq"] == 2
    assert _list(client, owner.headers) == [ticket["id"]]
    bodies = [m["body"] for m in _history(client, visitor.headers, ticket["id"])]
    assert bodies == ["First", "Second"]


def test_repeated_start_with_same_client_id_stores_once(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    body = {"client_id": "same-start", "body": "Only once"}
    first = client.post("/api/v1/tickets", headers=visitor.headers, json=body)
    second = client.post("/api/v1/tickets", headers=visitor.headers, json=body)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.get_json()["message"]["id"] == first.get_json()["message"]["id"]
    assert second.get_json()["duplicate"] is True
    ticket_id = first.get_json()["ticket"]["id"]
    assert len(_history(client, owner.headers, ticket_id)) == 1


def test_ticket_on_a_bot_site_starts_with_the_bot(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner, bot_enabled=True)
    _, ticket = _ticket_for_new_visitor(client, site)
    assert ticket["status"] == "bot"
    assert "bot" in {p["type"] for p in ticket["participants"]}


def test_agent_cannot_start_a_ticket_without_id(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = client.post("/api/v1/tickets", headers=owner.headers, json={"client_id": "x", "body": "Hi"})
    f.assert_error(r, 403, "forbidden")


def test_resolved_ticket_makes_the_next_message_open_a_new_one(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site)
    assert _patch(client, owner.headers, ticket["id"], status="resolved").status_code == 200
    newer = f.start_ticket(client, visitor, "Another question")
    assert newer["id"] != ticket["id"]
    assert newer["status"] == "open"
    assert newer["last_seq"] == 1
    assert set(_list(client, visitor.headers)) == {ticket["id"], newer["id"]}


def test_visitor_reply_reopens_its_resolved_ticket(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site)
    _patch(client, owner.headers, ticket["id"], status="resolved")
    assert f.send(client, visitor.headers, ticket["id"], "Actually...").status_code == 201
    assert _get(client, owner.headers, ticket["id"]).get_json()["ticket"]["status"] == "open"


def test_reply_to_resolved_ticket_while_another_is_active_is_a_conflict(
    client: FlaskClient,
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, old = _ticket_for_new_visitor(client, site, "Old question")
    _patch(client, owner.headers, old["id"], status="resolved")
    newer = f.start_ticket(client, visitor, "New question")
    f.assert_error(
        f.send(client, visitor.headers, old["id"], "Back to the old one"), 409, "conflict"
    )
    assert _get(client, owner.headers, old["id"]).get_json()["ticket"]["status"] == "resolved"
    assert _get(client, owner.headers, newer["id"]).get_json()["ticket"]["status"] == "open"
    r = _patch(client, owner.headers, old["id"], status="open")
    f.assert_error(r, 409, "conflict")


# -- the ticket list ------------------------------------------------------------------------------


def test_ticket_list_pages_cover_every_ticket_once_newest_activity_first(
    client: FlaskClient,
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    created = [_ticket_for_new_visitor(client, site, f"Visitor {i}")[1]["id"] for i in range(30)]
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = "?limit=10" + (f"&cursor={cursor}" if cursor else "")
        r = client.get(f"/api/v1/tickets{query}", headers=owner.headers)
        assert r.status_code == 200, r.get_json()
        page = r.get_json()
        assert len(page["tickets"]) <= 10
        seen.extend(page["tickets"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "the cursor never ends"
    assert pages == 3
    ids = [t["id"] for t in seen]
    assert len(ids) == len(set(ids)) == 30
    assert set(ids) == set(created)
    keys = [(t["last_activity_at"], t["id"]) for t in seen]
    assert keys == sorted(keys, reverse=True)
    assert ids[-1] == created[0]


def test_new_activity_moves_a_ticket_to_the_top(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    oldest_visitor, oldest = _ticket_for_new_visitor(client, site)
    others = [_ticket_for_new_visitor(client, site)[1]["id"] for _ in range(3)]
    assert _list(client, owner.headers)[-1] == oldest["id"]
    f.send(client, oldest_visitor.headers, oldest["id"], "Anyone there?")
    listed = _list(client, owner.headers)
    assert listed[0] == oldest["id"]
    assert set(listed[1:]) == set(others)


def test_ticket_list_limit_defaults_and_bounds(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    for _ in range(27):
        _ticket_for_new_visitor(client, site)
    r = client.get("/api/v1/tickets", headers=owner.headers).get_json()
    assert len(r["tickets"]) == 25
    assert r["next_cursor"]
    r = client.get("/api/v1/tickets?limit=1000", headers=owner.headers).get_json()
    assert len(r["tickets"]) == 27
    assert r["next_cursor"] is None
    for bad in ("0", "-1", "ten"):
        r = client.get(f"/api/v1/tickets?limit={bad}", headers=owner.headers)
        assert "limit" in f.assert_error(r, 422, "invalid")["fields"]


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor", id="garbage"),
        pytest.param("%%%", id="not-base64"),
        pytest.param(_cursor("yesterday|01m8jjhpxr318vagnv6vr4mnca"), id="bad-time"),
        pytest.param(_cursor("2026-01-01T00:00:00+00:00|nope"), id="bad-id"),
        pytest.param(_cursor("2026-01-01T00:00:00+00:00"), id="no-id"),
        pytest.param(_cursor("0001-01-01T00:00:00+05:00|01m8jjhpxr318vagnv6vr4mnca"), id="year-0"),
        pytest.param(
            _cursor("9999-12-31T23:59:59-05:00|01m8jjhpxr318vagnv6vr4mnca"), id="year-1e4"
        ),
        pytest.param(_cursor("2026-01-01T00:00:00|\u00e9t\u00e9"), id="non-ascii"),
    ],
)
def test_bad_ticket_cursor_is_invalid(client: FlaskClient, cursor: str) -> None:
    owner = f.signup(client)
    r = client.get("/api/v1/tickets", headers=owner.headers, query_string={"cursor": cursor})
    assert "cursor" in f.assert_error(r, 422, "invalid")["fields"]


def test_ticket_list_filters_by_status(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _, resolved = _ticket_for_new_visitor(client, site)
    _, pending = _ticket_for_new_visitor(client, site)
    _, still_open = _ticket_for_new_visitor(client, site)
    _patch(client, owner.headers, resolved["id"], status="resolved")
    _patch(client, owner.headers, pending["id"], status="pending")
    assert _list(client, owner.headers, "?status=resolved") == [resolved["id"]]
    assert _list(client, owner.headers, "?status=pending") == [pending["id"]]
    assert _list(client, owner.headers, "?status=open") == [still_open["id"]]
    assert _list(client, owner.headers, "?status=bot") == []
    r = client.get("/api/v1/tickets?status=closed", headers=owner.headers)
    assert "status" in f.assert_error(r, 422, "invalid")["fields"]


def test_ticket_list_filters_by_assignee(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    site = f.create_site(client, owner)
    _, mine = _ticket_for_new_visitor(client, site)
    _, theirs = _ticket_for_new_visitor(client, site)
    _, nobodys = _ticket_for_new_visitor(client, site)
    _patch(client, owner.headers, mine["id"], assignee_id=owner.agent["id"])
    _patch(client, owner.headers, theirs["id"], assignee_id=agent.agent["id"])
    assert _list(client, owner.headers, "?assignee=me") == [mine["id"]]
    assert _list(client, agent.headers, "?assignee=me") == [theirs["id"]]
    assert _list(client, owner.headers, "?assignee=unassigned") == [nobodys["id"]]
    assert _list(client, owner.headers, f"?assignee={agent.agent['id']}") == [theirs["id"]]
    assert _list(client, owner.headers, f"?assignee={'0' * 26}") == []
    r = client.get("/api/v1/tickets?assignee=somebody", headers=owner.headers)
    assert "assignee" in f.assert_error(r, 422, "invalid")["fields"]


def test_ticket_list_filters_by_site(client: FlaskClient) -> None:
    owner = f.signup(client)
    shop = f.create_site(client, owner, name="Shop")
    blog = f.create_site(client, owner, name="Blog")
    _, on_shop = _ticket_for_new_visitor(client, shop)
    _, on_blog = _ticket_for_new_visitor(client, blog)
    assert _list(client, owner.headers, f"?site_id={shop['id']}") == [on_shop["id"]]
    assert _list(client, owner.headers, f"?site_id={blog['id']}") == [on_blog["id"]]
    assert _list(client, owner.headers, "?status=open&site_id=" + blog["id"]) == [on_blog["id"]]
    r = client.get("/api/v1/tickets?site_id=nope", headers=owner.headers)
    assert "site_id" in f.assert_error(r, 422, "invalid")["fields"]


def test_ticket_list_rejects_unknown_and_repeated_parameters(client: FlaskClient) -> None:
    owner = f.signup(client)
    f.assert_error(client.get("/api/v1/tickets?sort=asc", headers=owner.headers), 422, "invalid")
    r = client.get("/api/v1/tickets?status=open&status=resolved", headers=owner.headers)
    assert r.status_code in (400, 422)
    assert r.get_json()["error"]["code"] == "invalid"


def test_visitor_lists_only_its_own_tickets(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    alice, alices = _ticket_for_new_visitor(client, site)
    bob, bobs = _ticket_for_new_visitor(client, site)
    assert _list(client, alice.headers) == [alices["id"]]
    assert _list(client, bob.headers) == [bobs["id"]]
    assert set(_list(client, owner.headers)) == {alices["id"], bobs["id"]}


def test_ticket_list_shows_only_own_workspace(client: FlaskClient) -> None:
    mine = f.signup(client, workspace="Mine")
    theirs = f.signup(client, workspace="Theirs")
    _, their_ticket = _ticket_for_new_visitor(client, f.create_site(client, theirs))
    assert _list(client, mine.headers) == []
    their_site_id = their_ticket["site_id"]
    assert _list(client, mine.headers, f"?site_id={their_site_id}") == []


# -- status, assignee, participants ---------------------------------------------------------------


def test_assigning_a_bot_ticket_opens_it_and_logs_an_event(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner, name="Alex Agent")
    site = f.create_site(client, owner, bot_enabled=True)
    visitor, ticket = _ticket_for_new_visitor(client, site)
    assert ticket["status"] == "bot"
    r = _patch(client, owner.headers, ticket["id"], assignee_id=agent.agent["id"])
    assert r.status_code == 200, r.get_json()
    updated = r.get_json()["ticket"]
    assert updated["status"] == "open"
    assert updated["assignee"]["id"] == agent.agent["id"]
    assert updated["assignee"]["name"] == "Alex Agent"
    assert any(
        p["type"] == "agent" and p["id"] == agent.agent["id"] for p in updated["participants"]
    )
    # The bot (with an empty knowledge base it hands over at once) may add its own line.
    events = [m for m in _history(client, visitor.headers, ticket["id"]) if m["kind"] == "event"]
    assigned = [m for m in events if "Alex Agent" in m["body"]]
    assert len(assigned) == 1
    assert assigned[0]["sender"]["type"] == "system"


def test_status_changes_are_stored_and_logged(client: FlaskClient) -> None:
    owner = f.signup(client, name="Olive Owner")
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site)
    for status in ("pending", "resolved", "open"):
        r = _patch(client, owner.headers, ticket["id"], status=status)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["ticket"]["status"] == status
        assert _get(client, visitor.headers, ticket["id"]).get_json()["ticket"]["status"] == status
    messages = _history(client, owner.headers, ticket["id"])
    assert [m["kind"] for m in messages] == ["text", "event", "event", "event"]
    assert [m["seq"] for m in messages] == [1, 2, 3, 4]
    assert all("Olive Owner" in m["body"] for m in messages[1:])
    assert "resolved" in messages[2]["body"]


def test_setting_the_same_status_logs_nothing(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _, ticket = _ticket_for_new_visitor(client, site)
    assert _patch(client, owner.headers, ticket["id"], status="open").status_code == 200
    assert len(_history(client, owner.headers, ticket["id"])) == 1


def test_unassigning_with_null_clears_the_assignee(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _, ticket = _ticket_for_new_visitor(client, site)
    _patch(client, owner.headers, ticket["id"], assignee_id=owner.agent["id"])
    r = _patch(client, owner.headers, ticket["id"], assignee_id=None)
    assert r.status_code == 200
    assert r.get_json()["ticket"]["assignee"] is None
    assert _list(client, owner.headers, "?assignee=unassigned") == [ticket["id"]]
    kinds = [m["kind"] for m in _history(client, owner.headers, ticket["id"])]
    assert kinds == ["text", "event", "event"]


def test_patch_rejects_bad_values(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _, ticket = _ticket_for_new_visitor(client, site)
    f.assert_error(_patch(client, owner.headers, ticket["id"]), 422, "invalid")
    r = _patch(client, owner.headers, ticket["id"], status="closed")
    assert "status" in f.assert_error(r, 422, "invalid")["fields"]
    r = _patch(client, owner.headers, ticket["id"], assignee_id="someone")
    assert "assignee_id" in f.assert_error(r, 422, "invalid")["fields"]
    r = _patch(client, owner.headers, ticket["id"], assignee_id="0" * 26)
    f.assert_error(r, 404, "not_found")
    assert _get(client, owner.headers, ticket["id"]).get_json()["ticket"]["assignee"] is None


def test_cannot_assign_an_agent_of_another_workspace(client: FlaskClient) -> None:
    owner = f.signup(client)
    stranger = f.signup(client, workspace="Elsewhere")
    site = f.create_site(client, owner)
    _, ticket = _ticket_for_new_visitor(client, site)
    r = _patch(client, owner.headers, ticket["id"], assignee_id=stranger.agent["id"])
    f.assert_error(r, 404, "not_found")
    r = client.post(
        f"/api/v1/tickets/{ticket['id']}/participants",
        headers=owner.headers,
        json={"agent_id": stranger.agent["id"]},
    )
    f.assert_error(r, 404, "not_found")
    ticket = _get(client, owner.headers, ticket["id"]).get_json()["ticket"]
    assert ticket["assignee"] is None
    assert stranger.agent["id"] not in {p["id"] for p in ticket["participants"]}


def test_participants_can_be_added_and_removed(client: FlaskClient) -> None:
    owner = f.signup(client)
    helper = f.add_agent(client, owner, name="Helpful Hannah")
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site)
    url = f"/api/v1/tickets/{ticket['id']}/participants"
    r = client.post(url, headers=owner.headers, json={"agent_id": helper.agent["id"]})
    assert r.status_code == 200, r.get_json()
    added = [p for p in r.get_json()["ticket"]["participants"] if p["id"] == helper.agent["id"]]
    assert len(added) == 1
    assert added[0]["type"] == "agent"
    assert added[0]["name"] == "Helpful Hannah"
    # Adding again changes nothing.
    r = client.post(url, headers=owner.headers, json={"agent_id": helper.agent["id"]})
    assert [p["id"] for p in r.get_json()["ticket"]["participants"]].count(helper.agent["id"]) == 1
    r = client.delete(f"{url}/{helper.agent['id']}", headers=owner.headers)
    assert r.status_code == 200, r.get_json()
    assert helper.agent["id"] not in {p["id"] for p in r.get_json()["ticket"]["participants"]}
    events = [
        m["body"] for m in _history(client, visitor.headers, ticket["id"]) if m["kind"] == "event"
    ]
    assert len(events) == 2
    assert all("Helpful Hannah" in body for body in events)


def test_removing_the_assignee_unassigns_the_ticket(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    site = f.create_site(client, owner)
    _, ticket = _ticket_for_new_visitor(client, site)
    _patch(client, owner.headers, ticket["id"], assignee_id=agent.agent["id"])
    r = client.delete(
        f"/api/v1/tickets/{ticket['id']}/participants/{agent.agent['id']}", headers=owner.headers
    )
    assert r.status_code == 200
    assert r.get_json()["ticket"]["assignee"] is None


def test_participant_requests_validate_agent_id(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _, ticket = _ticket_for_new_visitor(client, site)
    url = f"/api/v1/tickets/{ticket['id']}/participants"
    assert (
        "agent_id"
        in f.assert_error(client.post(url, headers=owner.headers, json={}), 422, "invalid")[
            "fields"
        ]
    )
    f.assert_error(
        client.post(url, headers=owner.headers, json={"agent_id": "0" * 26}), 404, "not_found"
    )
    f.assert_error(client.delete(f"{url}/nobody", headers=owner.headers), 404, "not_found")


# -- reading --------------------------------------------------------------------------------------


def test_read_lowers_unread_count_to_zero_for_the_reader(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site, "One")
    f.send(client, visitor.headers, ticket["id"], "Two")
    assert _get(client, owner.headers, ticket["id"]).get_json()["ticket"]["unread_count"] == 2
    r = client.post(f"/api/v1/tickets/{ticket['id']}/read", headers=owner.headers, json={"seq": 1})
    assert r.status_code == 200
    assert r.get_json() == {"ok": True}
    assert _get(client, owner.headers, ticket["id"]).get_json()["ticket"]["unread_count"] == 1
    client.post(f"/api/v1/tickets/{ticket['id']}/read", headers=owner.headers, json={"seq": 2})
    assert _get(client, owner.headers, ticket["id"]).get_json()["ticket"]["unread_count"] == 0
    listed = client.get("/api/v1/tickets", headers=owner.headers).get_json()["tickets"]
    assert listed[0]["unread_count"] == 0
    # Reading never goes backwards.
    client.post(f"/api/v1/tickets/{ticket['id']}/read", headers=owner.headers, json={"seq": 0})
    assert _get(client, owner.headers, ticket["id"]).get_json()["ticket"]["unread_count"] == 0


def test_visitor_unread_counts_agent_replies_until_read(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site)
    f.send(client, owner.headers, ticket["id"], "We are on it")
    f.send(client, owner.headers, ticket["id"], "Private: check the order", kind="note")
    got = _get(client, visitor.headers, ticket["id"]).get_json()["ticket"]
    assert got["unread_count"] == 1
    assert got["last_message"]["body"] == "We are on it"
    last_seq = got["last_seq"]
    r = client.post(
        f"/api/v1/tickets/{ticket['id']}/read", headers=visitor.headers, json={"seq": last_seq}
    )
    assert r.status_code == 200
    assert _get(client, visitor.headers, ticket["id"]).get_json()["ticket"]["unread_count"] == 0


def test_read_rejects_a_bad_seq(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _, ticket = _ticket_for_new_visitor(client, site)
    url = f"/api/v1/tickets/{ticket['id']}/read"
    for body in ({}, {"seq": -1}, {"seq": "1"}, {"seq": True}, {"seq": 1.5}):
        r = client.post(url, headers=owner.headers, json=body)
        assert "seq" in f.assert_error(r, 422, "invalid")["fields"]


# -- who may see and change what ------------------------------------------------------------------


def test_visitor_cannot_see_another_visitors_ticket(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _, alices = _ticket_for_new_visitor(client, site, "Alice's secret")
    mallory = f.widget_session(client, site)
    tid = alices["id"]
    f.assert_error(_get(client, mallory.headers, tid), 404, "not_found")
    f.assert_error(
        client.get(f"/api/v1/tickets/{tid}/messages", headers=mallory.headers), 404, "not_found"
    )
    f.assert_error(f.send(client, mallory.headers, tid, "Let me in"), 404, "not_found")
    f.assert_error(
        client.post(f"/api/v1/tickets/{tid}/read", headers=mallory.headers, json={"seq": 1}),
        404,
        "not_found",
    )
    assert len(_history(client, owner.headers, tid)) == 1


def test_agent_of_another_workspace_gets_not_found(client: FlaskClient) -> None:
    owner = f.signup(client, workspace="Mine")
    stranger = f.signup(client, workspace="Theirs")
    site = f.create_site(client, owner)
    _, ticket = _ticket_for_new_visitor(client, site)
    tid = ticket["id"]
    h = stranger.headers
    f.assert_error(_get(client, h, tid), 404, "not_found")
    f.assert_error(_patch(client, h, tid, status="resolved"), 404, "not_found")
    f.assert_error(_patch(client, h, tid, assignee_id=stranger.agent["id"]), 404, "not_found")
    f.assert_error(client.get(f"/api/v1/tickets/{tid}/messages", headers=h), 404, "not_found")
    f.assert_error(f.send(client, h, tid, "Hi from elsewhere"), 404, "not_found")
    f.assert_error(
        client.post(f"/api/v1/tickets/{tid}/read", headers=h, json={"seq": 1}), 404, "not_found"
    )
    f.assert_error(
        client.post(
            f"/api/v1/tickets/{tid}/participants",
            headers=h,
            json={"agent_id": stranger.agent["id"]},
        ),
        404,
        "not_found",
    )
    f.assert_error(
        client.delete(f"/api/v1/tickets/{tid}/participants/{owner.agent['id']}", headers=h),
        404,
        "not_found",
    )
    got = _get(client, owner.headers, tid).get_json()["ticket"]
    assert got["status"] == "open"
    assert got["last_seq"] == 1


def test_visitor_cannot_change_a_ticket(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site)
    tid = ticket["id"]
    f.assert_error(_patch(client, visitor.headers, tid, status="resolved"), 403, "forbidden")
    f.assert_error(
        client.post(
            f"/api/v1/tickets/{tid}/participants",
            headers=visitor.headers,
            json={"agent_id": owner.agent["id"]},
        ),
        403,
        "forbidden",
    )
    f.assert_error(
        client.delete(
            f"/api/v1/tickets/{tid}/participants/{owner.agent['id']}", headers=visitor.headers
        ),
        403,
        "forbidden",
    )
    assert _get(client, owner.headers, tid).get_json()["ticket"]["status"] == "open"


def test_visitor_token_does_not_open_agent_endpoints(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    for path in (
        "/api/v1/auth/me",
        "/api/v1/sites",
        "/api/v1/agents",
        f"/api/v1/sites/{site['id']}",
    ):
        f.assert_error(client.get(path, headers=visitor.headers), 403, "forbidden")


def test_unknown_ticket_is_not_found(client: FlaskClient) -> None:
    owner = f.signup(client)
    for tid in ("0" * 26, "nope", str(uuid.uuid4())):
        f.assert_error(_get(client, owner.headers, tid), 404, "not_found")
        f.assert_error(_patch(client, owner.headers, tid, status="open"), 404, "not_found")


def test_a_visitor_sees_the_assignees_name_but_never_their_email(client: FlaskClient) -> None:
    owner = f.signup(client, name="Olive Owner")
    site = f.create_site(client, owner)
    visitor, ticket = _ticket_for_new_visitor(client, site)
    r = _patch(client, owner.headers, ticket["id"], assignee_id=owner.agent["id"])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["ticket"]["assignee"]["email"] == owner.agent["email"]
    seen = client.get(f"/api/v1/tickets/{ticket['id']}", headers=visitor.headers).get_json()
    assert seen["ticket"]["assignee"]["name"] == "Olive Owner"
    assert seen["ticket"]["assignee"]["email"] == ""
    session = f.widget_session(client, site, visitor.token)
    r = client.post(
        "/api/v1/widget/session",
        json={"site_key": site["site_key"], "visitor_token": session.token},
    )
    assert owner.agent["email"] not in r.get_data(as_text=True)
