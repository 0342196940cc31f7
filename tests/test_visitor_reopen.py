"""A visitor writing to a resolved ticket reopens it, unless another one is already open."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests import factories as f


def test_visitor_message_to_resolved_ticket_reopens_it(client: FlaskClient) -> None:
    owner = f.signup(client)
    visitor = f.widget_session(client, f.create_site(client, owner))
    ticket = f.start_ticket(client, visitor, "first")
    r = client.patch(
        f"/api/v1/tickets/{ticket['id']}", headers=owner.headers, json={"status": "resolved"}
    )
    assert r.status_code == 200, r.get_json()

    r = f.send(client, visitor.headers, ticket["id"], "one more thing")
    assert r.status_code == 201, r.get_json()
    r = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers)
    assert r.get_json()["ticket"]["status"] == "open"


def test_visitor_message_to_resolved_ticket_while_another_is_open_is_a_conflict(
    client: FlaskClient,
) -> None:
    owner = f.signup(client)
    visitor = f.widget_session(client, f.create_site(client, owner))
    old = f.start_ticket(client, visitor, "first")
    r = client.patch(
        f"/api/v1/tickets/{old['id']}", headers=owner.headers, json={"status": "resolved"}
    )
    assert r.status_code == 200, r.get_json()
    current = f.start_ticket(client, visitor, "second")
    assert current["id"] != old["id"]

    r = f.send(client, visitor.headers, old["id"], "back to the old one")
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["error"]["code"] == "conflict"
    r = client.get(f"/api/v1/tickets/{old['id']}/messages", headers=owner.headers)
    assert [m["body"] for m in r.get_json()["messages"]][-1] != "back to the old one"
    r = client.get(f"/api/v1/tickets/{old['id']}", headers=owner.headers)
    assert r.get_json()["ticket"]["status"] == "resolved"
