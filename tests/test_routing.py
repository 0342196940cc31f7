"""Routing on both databases: the in-process presence says who is online (as a socket's
heartbeat would), and the routing pass assigns round-robin within capacity."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.events import publish
from app.realtime.runtime import runtime
from app.services.presence import Subject
from tests import factories as f


def _online(app: Flask, agent: f.Owner, workspace_id: str) -> None:
    """The agent's console connected: its first heartbeat."""
    with app.app_context():
        subject = Subject("agent", agent.agent["id"], workspace_id)
        runtime().presence.heartbeat(subject, f"sid-{agent.agent['id']}", "online")
    publish.wait_idle()  # the routing pass a presence change starts runs in the background


def _assignee(client: FlaskClient, who: f.Owner, ticket_id: str) -> Any:
    ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=who.headers).get_json()["ticket"]
    return ticket["assignee"]["id"] if ticket["assignee"] else None


def _workspace_id(client: FlaskClient, who: f.Owner) -> str:
    return str(client.get("/api/v1/workspace", headers=who.headers).get_json()["workspace"]["id"])


def test_round_robin_within_capacity(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    ws = _workspace_id(client, owner)
    client.patch("/api/v1/workspace", headers=owner.headers, json={"routing": {"capacity": 2}})
    ann, bob = f.add_agent(client, owner, name="Ann"), f.add_agent(client, owner, name="Bob")
    site = f.create_site(client, owner)
    _online(app, ann, ws)
    _online(app, bob, ws)
    made = [f.start_ticket(client, f.widget_session(client, site), f"Q{i}")["id"] for i in range(5)]
    got = [_assignee(client, owner, t) for t in made]
    a, b = ann.agent["id"], bob.agent["id"]
    assert got[:4] in ([a, b, a, b], [b, a, b, a])  # alternating
    assert got[4] is None  # both at capacity 2
    # Capacity freed by a resolve: the waiting ticket goes to that agent.
    r = client.patch(
        f"/api/v1/tickets/{made[1]}", headers=owner.headers, json={"status": "resolved"}
    )
    assert r.status_code == 200
    assert _assignee(client, owner, made[4]) == got[1]


def test_oldest_waiting_ticket_goes_first_when_an_agent_comes_online(
    app: Flask, client: FlaskClient
) -> None:
    owner = f.signup(client)
    ws = _workspace_id(client, owner)
    client.patch("/api/v1/workspace", headers=owner.headers, json={"routing": {"capacity": 1}})
    site = f.create_site(client, owner)
    older = f.start_ticket(client, f.widget_session(client, site), "First")["id"]
    newer = f.start_ticket(client, f.widget_session(client, site), "Second")["id"]
    assert _assignee(client, owner, older) is None
    _online(app, owner, ws)
    assert _assignee(client, owner, older) == owner.agent["id"]
    assert _assignee(client, owner, newer) is None
    history = client.get(f"/api/v1/tickets/{older}/messages", headers=owner.headers)
    events = [m["body"] for m in history.get_json()["messages"] if m["kind"] == "event"]
    assert events == ["Routing assigned Olive Owner"]


def test_manual_mode_and_inactive_or_away_agents_get_nothing(
    app: Flask, client: FlaskClient
) -> None:
    owner = f.signup(client)
    ws = _workspace_id(client, owner)
    away = f.add_agent(client, owner, name="Away")
    gone = f.add_agent(client, owner, name="Gone")
    client.patch(
        f"/api/v1/agents/{gone.agent['id']}", headers=owner.headers, json={"active": False}
    )
    client.patch("/api/v1/agents/me", headers=away.headers, json={"availability": "away"})
    site = f.create_site(client, owner)
    _online(app, away, ws)
    _online(app, gone, ws)
    waiting = f.start_ticket(client, f.widget_session(client, site))["id"]
    assert _assignee(client, owner, waiting) is None
    client.patch("/api/v1/workspace", headers=owner.headers, json={"routing": {"mode": "manual"}})
    _online(app, owner, ws)
    assert _assignee(client, owner, waiting) is None
    client.patch("/api/v1/workspace", headers=owner.headers, json={"routing": {"mode": "auto"}})
    assert _assignee(client, owner, waiting) == owner.agent["id"]


def test_routing_stays_in_the_workspace(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    stranger = f.signup(client, workspace="Other")
    _online(app, stranger, _workspace_id(client, stranger))
    site = f.create_site(client, owner)
    ticket = f.start_ticket(client, f.widget_session(client, site))["id"]
    assert _assignee(client, owner, ticket) is None


def test_a_deactivated_agents_tickets_go_to_someone_online(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    ws = _workspace_id(client, owner)
    leaving = f.add_agent(client, owner, name="Leaving")
    site = f.create_site(client, owner)
    _online(app, leaving, ws)
    ticket = f.start_ticket(client, f.widget_session(client, site))["id"]
    assert _assignee(client, owner, ticket) == leaving.agent["id"]
    _online(app, owner, ws)
    r = client.patch(
        f"/api/v1/agents/{leaving.agent['id']}", headers=owner.headers, json={"active": False}
    )
    assert r.status_code == 200
    assert _assignee(client, owner, ticket) == owner.agent["id"]
    history = client.get(f"/api/v1/tickets/{ticket}/messages", headers=owner.headers)
    events = [m["body"] for m in history.get_json()["messages"] if m["kind"] == "event"]
    assert events == [
        "Routing assigned Leaving",
        "Olive Owner unassigned the ticket",
        "Routing assigned Olive Owner",
    ]


def test_only_the_first_waiting_visitors_are_told_their_place(
    app: Flask, client: FlaskClient, monkeypatch: Any
) -> None:
    from app.extensions import socketio
    from app.services import routing

    monkeypatch.setattr(routing, "MAX_QUEUE_NOTICES", 2)
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitors = [f.widget_session(client, site) for _ in range(3)]
    sockets = [socketio.test_client(app, auth={"visitor_token": v.token}) for v in visitors]
    try:
        for visitor in visitors:
            f.start_ticket(client, visitor)
        heard = [[e["args"][0] for e in s.get_received() if e["name"] == "queue"] for s in sockets]
    finally:
        for s in sockets:
            s.disconnect()
    # After the third ticket's pass: places 1 and 2 are told, the third is past the bound.
    assert heard[0][-1]["position"] == 1 and heard[1][-1]["position"] == 2
    assert heard[2] == []
