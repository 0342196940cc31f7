"""Managing agents (PATCH /agents/{id}), the workspace's settings and canned responses."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests import factories as f


def _patch_agent(client: FlaskClient, who: f.Owner, agent_id: str, **body: Any) -> Any:
    return client.patch(f"/api/v1/agents/{agent_id}", headers=who.headers, json=body)


# -- agents ---------------------------------------------------------------------------------------


def test_owner_renames_and_promotes_an_agent(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    r = _patch_agent(client, owner, agent.agent["id"], name="Alexandra", role="admin")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["agent"]["name"] == "Alexandra"
    assert r.get_json()["agent"]["role"] == "admin"
    assert r.get_json()["agent"]["active"] is True
    listed = client.get("/api/v1/agents", headers=owner.headers).get_json()["agents"]
    assert {a["id"]: a["role"] for a in listed}[agent.agent["id"]] == "admin"


def test_deactivated_agent_is_logged_out_and_cannot_log_in(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    assert client.get("/api/v1/auth/me", headers=agent.headers).status_code == 200
    r = _patch_agent(client, owner, agent.agent["id"], active=False)
    assert r.status_code == 200
    assert r.get_json()["agent"]["active"] is False
    f.assert_error(client.get("/api/v1/auth/me", headers=agent.headers), 401, "unauthorized")
    f.assert_error(f.login(client, agent.agent["email"]), 401, "unauthorized")
    r = _patch_agent(client, owner, agent.agent["id"], active=True)
    assert r.get_json()["agent"]["active"] is True
    assert f.login(client, agent.agent["email"]).status_code == 200


def test_deactivated_agent_cannot_be_assigned(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    site = f.create_site(client, owner)
    ticket = f.start_ticket(client, f.widget_session(client, site))
    _patch_agent(client, owner, agent.agent["id"], active=False)
    r = client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        headers=owner.headers,
        json={"assignee_id": agent.agent["id"]},
    )
    f.assert_error(r, 404, "not_found")


def test_the_last_owner_cannot_be_demoted_or_deactivated(client: FlaskClient) -> None:
    owner = f.signup(client)
    second = f.add_agent(client, owner, role="owner")
    # Two owners: one may step down; then the other is the last.
    r = _patch_agent(client, second, owner.agent["id"], role="admin")
    assert r.status_code == 200, r.get_json()
    f.assert_error(_patch_agent(client, second, second.agent["id"], role="agent"), 409, "conflict")
    promoted = f.add_agent(client, second, role="admin")
    f.assert_error(
        _patch_agent(client, promoted, second.agent["id"], active=False), 403, "forbidden"
    )
    still = client.get("/api/v1/auth/me", headers=second.headers).get_json()["agent"]
    assert still["role"] == "owner" and still["active"] is True


def test_nobody_deactivates_itself(client: FlaskClient) -> None:
    owner = f.signup(client)
    f.add_agent(client, owner, role="owner")
    f.assert_error(_patch_agent(client, owner, owner.agent["id"], active=False), 403, "forbidden")


def test_admin_cannot_touch_owners_or_grant_owner(client: FlaskClient) -> None:
    owner = f.signup(client)
    admin = f.add_agent(client, owner, role="admin")
    agent = f.add_agent(client, owner)
    f.assert_error(_patch_agent(client, admin, owner.agent["id"], name="X"), 403, "forbidden")
    f.assert_error(_patch_agent(client, admin, agent.agent["id"], role="owner"), 403, "forbidden")
    r = _patch_agent(client, admin, agent.agent["id"], role="admin")
    assert r.status_code == 200


def test_agent_role_cannot_manage_agents(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    other = f.add_agent(client, owner)
    f.assert_error(_patch_agent(client, agent, other.agent["id"], name="Y"), 403, "forbidden")


def test_agents_of_another_workspace_are_not_found(client: FlaskClient) -> None:
    owner = f.signup(client)
    stranger = f.signup(client, workspace="Other")
    f.assert_error(_patch_agent(client, owner, stranger.agent["id"], name="Z"), 404, "not_found")
    f.assert_error(_patch_agent(client, owner, "nope", name="Z"), 404, "not_found")


def test_agent_patch_validates_its_body(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    aid = agent.agent["id"]
    f.assert_error(_patch_agent(client, owner, aid), 422, "invalid")
    f.assert_error(_patch_agent(client, owner, aid, role="boss"), 422, "invalid")
    f.assert_error(_patch_agent(client, owner, aid, active="no"), 422, "invalid")
    f.assert_error(_patch_agent(client, owner, aid, name=""), 422, "invalid")
    f.assert_error(_patch_agent(client, owner, aid, email="x@example.com"), 422, "invalid")


# -- workspace ------------------------------------------------------------------------------------


def test_workspace_shows_default_routing_and_owner_changes_it(client: FlaskClient) -> None:
    owner = f.signup(client, workspace="Acme")
    agent = f.add_agent(client, owner)
    r = client.get("/api/v1/workspace", headers=agent.headers)
    assert r.status_code == 200
    ws = r.get_json()["workspace"]
    assert ws["name"] == "Acme"
    assert ws["routing"] == {"mode": "auto", "capacity": 5}
    r = client.patch(
        "/api/v1/workspace",
        headers=owner.headers,
        json={"name": "Acme Ltd", "routing": {"mode": "manual"}},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["workspace"] == {
        "id": ws["id"],
        "name": "Acme Ltd",
        "routing": {"mode": "manual", "capacity": 5},
    }
    r = client.patch("/api/v1/workspace", headers=owner.headers, json={"routing": {"capacity": 2}})
    assert r.get_json()["workspace"]["routing"] == {"mode": "manual", "capacity": 2}


def test_workspace_patch_is_for_managers_and_validated(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    f.assert_error(
        client.patch("/api/v1/workspace", headers=agent.headers, json={"name": "X"}),
        403,
        "forbidden",
    )
    for body in (
        {},
        {"routing": {"mode": "random"}},
        {"routing": {"capacity": 0}},
        {"routing": {"capacity": 101}},
        {"routing": {"capacity": "3"}},
        {"name": ""},
    ):
        r = client.patch("/api/v1/workspace", headers=owner.headers, json=body)
        f.assert_error(r, 422, "invalid")
    r = client.patch(
        "/api/v1/workspace", headers=owner.headers, json={"routing": {"capacity": 100}}
    )
    assert r.status_code == 200


# -- canned responses -----------------------------------------------------------------------------


def _canned(client: FlaskClient, who: f.Owner, **body: Any) -> Any:
    return client.post("/api/v1/canned-responses", headers=who.headers, json=body)


def test_canned_responses_crud(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner)
    r = _canned(client, agent, shortcut="hello", title="Greeting", body="Hi! How can I help?")
    assert r.status_code == 201, r.get_json()
    made = r.get_json()["canned_response"]
    assert made["shortcut"] == "hello" and made["title"] == "Greeting"
    _canned(client, owner, shortcut="bye", body="Have a nice day")
    listed = client.get("/api/v1/canned-responses", headers=agent.headers).get_json()
    assert [c["shortcut"] for c in listed["canned_responses"]] == ["bye", "hello"]
    assert listed["canned_responses"][0]["title"] == ""
    r = client.patch(
        f"/api/v1/canned-responses/{made['id']}",
        headers=owner.headers,
        json={"body": "Hello there"},
    )
    assert r.status_code == 200
    assert r.get_json()["canned_response"]["body"] == "Hello there"
    assert r.get_json()["canned_response"]["shortcut"] == "hello"
    r = client.delete(f"/api/v1/canned-responses/{made['id']}", headers=agent.headers)
    assert r.status_code == 204
    listed = client.get("/api/v1/canned-responses", headers=agent.headers).get_json()
    assert [c["shortcut"] for c in listed["canned_responses"]] == ["bye"]


def test_canned_shortcut_is_unique_and_validated(client: FlaskClient) -> None:
    owner = f.signup(client)
    _canned(client, owner, shortcut="refund", body="Refunds take 5 days.")
    f.assert_error(_canned(client, owner, shortcut="refund", body="Again"), 409, "conflict")
    other = _canned(client, owner, shortcut="other", body="x").get_json()["canned_response"]
    r = client.patch(
        f"/api/v1/canned-responses/{other['id']}",
        headers=owner.headers,
        json={"shortcut": "refund"},
    )
    f.assert_error(r, 409, "conflict")
    for body in (
        {"shortcut": "Has Space", "body": "x"},
        {"shortcut": "UPPER", "body": "x"},
        {"shortcut": "a" * 33, "body": "x"},
        {"shortcut": "", "body": "x"},
        {"shortcut": "ok"},
        {"shortcut": "ok", "body": "x" * 5001},
        {"shortcut": "ok", "body": "x", "title": "t" * 201},
    ):
        f.assert_error(_canned(client, owner, **body), 422, "invalid")
    assert _canned(client, owner, shortcut="a" * 32, body="x" * 5000).status_code == 201
    # Another workspace may use the same shortcut.
    stranger = f.signup(client, workspace="Other")
    assert _canned(client, stranger, shortcut="refund", body="Ours").status_code == 201


def test_canned_responses_are_per_workspace(client: FlaskClient) -> None:
    owner = f.signup(client)
    stranger = f.signup(client, workspace="Other")
    made = _canned(client, owner, shortcut="mine", body="Ours").get_json()["canned_response"]
    listed = client.get("/api/v1/canned-responses", headers=stranger.headers).get_json()
    assert listed["canned_responses"] == []
    url = f"/api/v1/canned-responses/{made['id']}"
    f.assert_error(client.delete(url, headers=stranger.headers), 404, "not_found")
    f.assert_error(
        client.patch(url, headers=stranger.headers, json={"body": "Stolen"}), 404, "not_found"
    )


def test_canned_responses_need_an_agent(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    f.assert_error(client.get("/api/v1/canned-responses"), 401, "unauthorized")
    r = client.get("/api/v1/canned-responses", headers=visitor.headers)
    assert r.status_code in (401, 403)


def test_a_workspace_has_a_bounded_number_of_canned_responses(
    client: FlaskClient, monkeypatch: Any
) -> None:
    from app.services import canned

    monkeypatch.setattr(canned, "MAX_CANNED_RESPONSES", 2)
    owner = f.signup(client)
    assert _canned(client, owner, shortcut="one", body="1").status_code == 201
    assert _canned(client, owner, shortcut="two", body="2").status_code == 201
    f.assert_error(_canned(client, owner, shortcut="three", body="3"), 409, "conflict")
