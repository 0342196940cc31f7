from __future__ import annotations

from flask.testing import FlaskClient

from tests import factories as f


def test_visitor_message_opens_ticket_that_agents_see(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "Where is my order?")
    assert ticket["status"] == "open"
    assert ticket["last_seq"] == 1
    r = client.get("/api/v1/tickets", headers=owner.headers)
    assert r.status_code == 200
    listed = r.get_json()["tickets"]
    assert [t["id"] for t in listed] == [ticket["id"]]
    assert listed[0]["last_message"]["body"] == "Where is my order?"
    assert listed[0]["unread_count"] == 1
