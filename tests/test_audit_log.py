"""The audit log (GET /workspace/audit): who assigned, resolved, invited, changed settings.

Each action goes through the public API, then the log must show it with its actor and
target; agents may not read it; one workspace never sees another's entries; pages chain.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.limits import AUDIT_PAGE_MAX
from app.models import Agent, AuditEntry
from tests import factories as f

AUDIT = "/api/v1/workspace/audit"


def _entries(client: FlaskClient, who: f.Owner, **query: Any) -> list[dict[str, Any]]:
    r = client.get(AUDIT, headers=who.headers, query_string=query)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["entries"]  # type: ignore[no-any-return]


def _found(entries: list[dict[str, Any]], action: str, actor: str | None, target: str) -> dict:
    """The newest entry with this action, actor id (None: system) and target id."""
    for entry in entries:
        actor_id = entry["actor"]["id"] if entry["actor"] else None
        if entry["action"] == action and actor_id == actor and entry["target"]["id"] == target:
            return entry  # type: ignore[no-any-return]
    raise AssertionError(f"no {action} by {actor} on {target} in {[e['action'] for e in entries]}")


def _patch_ticket(client: FlaskClient, who: f.Owner, ticket_id: str, **body: Any) -> None:
    r = client.patch(f"/api/v1/tickets/{ticket_id}", headers=who.headers, json=body)
    assert r.status_code == 200, r.get_json()


def test_each_audited_action_is_logged_with_its_actor_and_target(
    app: Flask, client: FlaskClient
) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    owner = f.signup(client, name="Olive Owner")
    me = owner.agent["id"]
    agent = f.add_agent(client, owner, name="Alex Agent")
    agent_id = agent.agent["id"]
    site = f.create_site(client, owner)
    r = client.patch(
        f"/api/v1/sites/{site['id']}",
        headers=owner.headers,
        json={"name": "Shop 2", "settings": {"title": "Help"}},
    )
    assert r.status_code == 200
    r = client.patch(
        "/api/v1/workspace", headers=owner.headers, json={"routing": {"mode": "manual"}}
    )
    assert r.status_code == 200
    ticket = f.start_ticket(client, f.widget_session(client, site))["id"]
    _patch_ticket(client, agent, ticket, assignee_id=agent_id)
    _patch_ticket(client, agent, ticket, status="pending")
    _patch_ticket(client, agent, ticket, status="resolved")
    _patch_ticket(client, owner, ticket, status="open")
    _patch_ticket(client, owner, ticket, assignee_id=None)
    canned = client.post(
        "/api/v1/canned-responses",
        headers=agent.headers,
        json={"shortcut": "hi", "body": "Hello there, how can I help?"},
    ).get_json()["canned_response"]
    r = client.delete(f"/api/v1/canned-responses/{canned['id']}", headers=agent.headers)
    assert r.status_code == 204
    faq = client.post(
        f"/api/v1/sites/{site['id']}/faq",
        headers=owner.headers,
        json={"question": "Where is my order?", "answer": "On its way."},
    ).get_json()["entry"]
    hook = client.post(
        f"/api/v1/sites/{site['id']}/webhooks",
        headers=owner.headers,
        json={"url": "http://127.0.0.1:9/hook", "events": ["ticket.created"]},
    ).get_json()["webhook"]
    r = client.patch(f"/api/v1/agents/{agent_id}", headers=owner.headers, json={"role": "admin"})
    assert r.status_code == 200
    r = client.patch(f"/api/v1/agents/{agent_id}", headers=owner.headers, json={"active": False})
    assert r.status_code == 200

    log = _entries(client, owner, limit=200)
    _found(log, "agent.invited", me, agent_id)
    _found(log, "agent.login", agent_id, agent_id)
    assert _found(log, "site.created", me, site["id"])["target"]["type"] == "site"
    updated = _found(log, "site.updated", me, site["id"])
    assert updated["details"]["changed"] == ["name", "settings.title"]
    workspace_id = client.get("/api/v1/workspace", headers=owner.headers).get_json()["workspace"]
    workspace = _found(log, "settings.updated", me, workspace_id["id"])
    assert workspace["details"]["routing"]["mode"] == "manual"
    assigned = _found(log, "ticket.assigned", agent_id, ticket)
    assert assigned["details"] == {"from": None, "to": agent_id}
    assert assigned["actor"]["name"] == "Alex Agent"
    assert _found(log, "ticket.status_changed", agent_id, ticket)["details"]["to"] == "pending"
    assert _found(log, "ticket.resolved", agent_id, ticket)["details"]["from"] == "pending"
    assert _found(log, "ticket.reopened", me, ticket)["details"]["to"] == "open"
    _found(log, "ticket.unassigned", me, ticket)
    ops = {
        (e["details"]["op"], e["actor"]["id"])
        for e in log
        if e["action"] == "canned.changed" and e["target"]["id"] == canned["id"]
    }
    assert ops == {("created", agent_id), ("deleted", agent_id)}
    _found(log, "faq.changed", me, faq["id"])
    _found(log, "webhook.changed", me, hook["id"])
    assert _found(log, "agent.role_changed", me, agent_id)["details"] == {
        "from": "agent",
        "to": "admin",
    }
    _found(log, "agent.deactivated", me, agent_id)
    # Never a secret or a body.
    text = json.dumps(log)
    assert site["site_secret"] not in text
    assert hook["secret"] not in text
    assert "Hello there" not in text and "On its way" not in text


def test_tickets_handed_back_at_deactivation_are_logged_as_the_deactivator(
    client: FlaskClient,
) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    ticket = f.start_ticket(client, f.widget_session(client, site))["id"]
    agent = f.add_agent(client, owner)
    _patch_ticket(client, owner, ticket, assignee_id=agent.agent["id"])
    r = client.patch(
        f"/api/v1/agents/{agent.agent['id']}", headers=owner.headers, json={"active": False}
    )
    assert r.status_code == 200
    log = _entries(client, owner, action="ticket.")
    assert sorted(e["action"] for e in log) == ["ticket.assigned", "ticket.unassigned"]
    assert {e["actor"]["id"] for e in log} == {owner.agent["id"]}
    unassigned = _found(log, "ticket.unassigned", owner.agent["id"], ticket)
    assert unassigned["details"] == {"from": agent.agent["id"]}
    assert _found(
        _entries(client, owner), "agent.deactivated", owner.agent["id"], agent.agent["id"]
    )
    # Nothing here was done by the system (routing is manual-free: nobody is online).
    assert _entries(client, owner, actor="system") == []


def test_agents_and_visitors_cannot_read_the_audit_log(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    admin = f.add_agent(client, owner, role="admin")
    visitor = f.widget_session(client, f.create_site(client, owner))
    f.assert_error(client.get(AUDIT, headers=agent.headers), 403, "forbidden")
    f.assert_error(client.get(AUDIT, headers=visitor.headers), 403, "forbidden")
    f.assert_error(client.get(AUDIT), 401, "unauthorized")
    assert _entries(client, admin)  # admins read it


def test_another_workspaces_entries_never_show(client: FlaskClient) -> None:
    a = f.signup(client, workspace="A")
    b = f.signup(client, workspace="B")
    site_a = f.create_site(client, a, name="Site A")
    site_b = f.create_site(client, b, name="Site B")
    a_log, b_log = _entries(client, a), _entries(client, b)
    assert [e["target"]["id"] for e in a_log if e["action"] == "site.created"] == [site_a["id"]]
    assert [e["target"]["id"] for e in b_log if e["action"] == "site.created"] == [site_b["id"]]
    assert not {e["id"] for e in a_log} & {e["id"] for e in b_log}
    # Filtering by the other workspace's agent finds nothing either.
    assert _entries(client, a, actor=b.agent["id"]) == []
    assert _entries(client, a, target_id=site_b["id"]) == []


def test_pages_chain_with_before_and_filters_apply(client: FlaskClient) -> None:
    owner = f.signup(client)
    for n in range(7):
        r = client.post(
            "/api/v1/canned-responses",
            headers=owner.headers,
            json={"shortcut": f"s{n}", "body": f"Reply {n}"},
        )
        assert r.status_code == 201
    everything = _entries(client, owner, action="canned.changed")
    assert len(everything) == 7
    seen: list[str] = []
    before = None
    for _ in range(10):
        query: dict[str, Any] = {"action": "canned.changed", "limit": 3}
        if before:
            query["before"] = before
        page = client.get(AUDIT, headers=owner.headers, query_string=query).get_json()
        assert len(page["entries"]) <= 3
        seen += [e["id"] for e in page["entries"]]
        assert page["has_more"] is (page["next_before"] is not None)
        before = page["next_before"]
        if not before:
            break
    assert seen == [e["id"] for e in everything]
    assert len(set(seen)) == 7
    assert _entries(client, owner, actor=owner.agent["id"], action="canned.changed")
    # A refused action leaves no entry: the entry commits with the action or not at all.
    r = client.post(
        "/api/v1/canned-responses", headers=owner.headers, json={"shortcut": "s0", "body": "x"}
    )
    assert r.status_code == 409
    assert len(_entries(client, owner, action="canned.changed")) == 7


def test_bad_filters_are_invalid(client: FlaskClient) -> None:
    owner = f.signup(client)
    for query in (
        {"before": "nope"},
        {"limit": 0},
        {"action": "ticket.exploded"},
        {"actor": "someone"},
        {"unknown": "1"},
    ):
        f.assert_error(client.get(AUDIT, headers=owner.headers, query_string=query), 422, "invalid")


def test_a_page_holds_at_most_audit_page_max_entries(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    with app.app_context():
        workspace_id = db.session.get(Agent, owner.agent["id"]).workspace_id
        db.session.add_all(
            AuditEntry(
                workspace_id=workspace_id, action="canned.changed", details={"op": "created"}
            )
            for _ in range(AUDIT_PAGE_MAX + 5)
        )
        db.session.commit()
    r = client.get(AUDIT, headers=owner.headers, query_string={"limit": 100000})
    assert r.status_code == 200  # clamped, not refused
    page = r.get_json()
    assert len(page["entries"]) == AUDIT_PAGE_MAX and page["has_more"] is True
    rest = _entries(client, owner, before=page["next_before"], limit=100000)
    assert len(rest) == 5  # a sign-up itself leaves no entry
