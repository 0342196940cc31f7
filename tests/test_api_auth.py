"""Sign-up, log-in, tokens, the console cookie with its CSRF header, and roles."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from app.auth.tokens import hash_token
from app.extensions import db
from app.lib.timeutil import utcnow
from app.models import Agent, ApiToken, Site, Workspace
from tests import factories as f

COOKIE = "parley_session"


def _cookie_login(client: FlaskClient, email: str) -> dict[str, str]:
    r = f.login(client, email)
    assert r.status_code == 200, r.get_json()
    return {"X-CSRF-Token": r.get_json()["csrf_token"]}


# -- sign-up -------------------------------------------------------------------------------------


def test_signup_creates_workspace_and_owner_whose_token_works(
    app: Flask, client: FlaskClient
) -> None:
    r = client.post(
        "/api/v1/auth/signup",
        json={
            "workspace_name": "Acme Support",
            "name": "Olive Owner",
            "email": "Olive@Example.com",
            "password": f.PASSWORD,
        },
    )
    assert r.status_code == 201
    body = r.get_json()
    assert body["agent"]["role"] == "owner"
    assert body["agent"]["name"] == "Olive Owner"
    assert body["agent"]["email"] == "olive@example.com"
    assert set(body["agent"]) >= {"id", "name", "email", "role", "availability"}
    me = client.get("/api/v1/auth/me", headers=f.bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["agent"]["id"] == body["agent"]["id"]
    with app.app_context():
        agent = db.session.get(Agent, body["agent"]["id"])
        assert agent is not None
        workspace = db.session.get(Workspace, agent.workspace_id)
        assert workspace is not None and workspace.name == "Acme Support"


def test_signup_with_registered_email_is_a_conflict(client: FlaskClient) -> None:
    f.signup(client, email="taken@example.com")
    r = client.post(
        "/api/v1/auth/signup",
        json={
            "workspace_name": "Other",
            "name": "Someone",
            "email": "TAKEN@example.com",
            "password": f.PASSWORD,
        },
    )
    error = f.assert_error(r, 409, "conflict")
    assert "email" in error["fields"]


def test_signup_conflict_leaves_no_orphan_workspace(app: Flask, client: FlaskClient) -> None:
    f.signup(client, workspace="First", email="once@example.com")
    r = client.post(
        "/api/v1/auth/signup",
        json={
            "workspace_name": "Second",
            "name": "Someone",
            "email": "once@example.com",
            "password": f.PASSWORD,
        },
    )
    assert r.status_code == 409
    with app.app_context():
        names = list(db.session.scalars(select(Workspace.name)))
    assert names == ["First"]


def test_signup_rejects_short_password_and_bad_email(client: FlaskClient) -> None:
    r = client.post(
        "/api/v1/auth/signup",
        json={"workspace_name": "W", "name": "N", "email": "not-an-email", "password": "short"},
    )
    error = f.assert_error(r, 422, "invalid")
    assert {"email", "password"} <= set(error["fields"])


# -- log-in and log-out --------------------------------------------------------------------------


def test_login_with_right_password_returns_working_token(client: FlaskClient) -> None:
    owner = f.signup(client, email="login@example.com")
    r = f.login(client, "Login@Example.com")
    assert r.status_code == 200
    body = r.get_json()
    assert body["agent"]["id"] == owner.agent["id"]
    assert body["token"] != owner.token
    client.delete_cookie(COOKIE)
    me = client.get("/api/v1/auth/me", headers=f.bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["agent"]["email"] == "login@example.com"


def test_login_with_wrong_password_is_unauthorized(client: FlaskClient) -> None:
    f.signup(client, email="wrongpw@example.com")
    r = f.login(client, "wrongpw@example.com", "not the password")
    f.assert_error(r, 401, "unauthorized")
    assert client.get_cookie(COOKIE) is None or client.get("/api/v1/auth/me").status_code == 401


def test_login_with_unknown_email_is_unauthorized(client: FlaskClient) -> None:
    r = f.login(client, "nobody@example.com")
    f.assert_error(r, 401, "unauthorized")


def test_logout_revokes_the_bearer_token(client: FlaskClient) -> None:
    owner = f.signup(client)
    other = f.login(client, owner.agent["email"]).get_json()["token"]
    client.delete_cookie(COOKIE)
    r = client.post("/api/v1/auth/logout", headers=owner.headers)
    assert r.status_code in (200, 204)
    f.assert_error(client.get("/api/v1/auth/me", headers=owner.headers), 401, "unauthorized")
    f.assert_error(client.get("/api/v1/sites", headers=owner.headers), 401, "unauthorized")
    # Only the token it was called with: the agent's other token still works.
    assert client.get("/api/v1/auth/me", headers=f.bearer(other)).status_code == 200


def test_requests_without_credentials_are_unauthorized(client: FlaskClient) -> None:
    f.assert_error(client.get("/api/v1/auth/me"), 401, "unauthorized")
    f.assert_error(client.get("/api/v1/sites"), 401, "unauthorized")
    f.assert_error(
        client.get("/api/v1/auth/me", headers=f.bearer("pk_not-a-real-token")), 401, "unauthorized"
    )
    f.assert_error(
        client.get("/api/v1/auth/me", headers={"Authorization": "Basic dXNlcjpwdw=="}),
        401,
        "unauthorized",
    )


def test_expired_token_is_unauthorized(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    assert client.get("/api/v1/auth/me", headers=owner.headers).status_code == 200
    with app.app_context():
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(owner.token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    f.assert_error(client.get("/api/v1/auth/me", headers=owner.headers), 401, "unauthorized")


def test_token_is_stored_only_as_a_hash(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    login_token = f.login(client, owner.agent["email"]).get_json()["token"]
    with app.app_context():
        rows = list(db.session.scalars(select(ApiToken)))
        stored = [
            str(getattr(row, column.key)) for row in rows for column in ApiToken.__table__.columns
        ]
        hashes = {row.token_hash for row in rows}
    for raw in (owner.token, login_token):
        assert not any(raw in value for value in stored)
        assert hash_token(raw) in hashes


def test_password_is_stored_as_argon2id_hash(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    with app.app_context():
        agent = db.session.get(Agent, owner.agent["id"])
        assert agent is not None and agent.password_hash is not None
        assert agent.password_hash.startswith("$argon2id$")
        assert f.PASSWORD not in agent.password_hash


# -- the console cookie ----------------------------------------------------------------------------


def test_login_sets_console_cookie_that_authenticates_alone(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = f.login(client, owner.agent["email"])
    csrf = r.get_json()["csrf_token"]
    assert csrf
    assert client.get_cookie(COOKIE) is not None
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.get_json()["agent"]["id"] == owner.agent["id"]
    assert me.get_json()["csrf_token"] == csrf


def test_cookie_write_without_csrf_header_is_forbidden(app: Flask, client: FlaskClient) -> None:
    owner = f.signup(client)
    f.login(client, owner.agent["email"])
    r = client.post("/api/v1/sites", json={"name": "No CSRF", "allowed_origins": []})
    f.assert_error(r, 403, "forbidden")
    r = client.post(
        "/api/v1/sites",
        json={"name": "Wrong CSRF", "allowed_origins": []},
        headers={"X-CSRF-Token": "guessed"},
    )
    f.assert_error(r, 403, "forbidden")
    with app.app_context():
        assert db.session.scalar(select(Site.id)) is None


def test_cookie_write_with_csrf_token_from_login_succeeds(client: FlaskClient) -> None:
    owner = f.signup(client)
    headers = _cookie_login(client, owner.agent["email"])
    r = client.post("/api/v1/sites", json={"name": "With CSRF"}, headers=headers)
    assert r.status_code == 201, r.get_json()
    listed = client.get("/api/v1/sites", headers=owner.headers).get_json()["sites"]
    assert [s["name"] for s in listed] == ["With CSRF"]


def test_cookie_write_from_another_origin_is_forbidden(client: FlaskClient) -> None:
    owner = f.signup(client)
    headers = _cookie_login(client, owner.agent["email"])
    r = client.post(
        "/api/v1/sites",
        json={"name": "Cross"},
        headers={**headers, "Origin": "https://evil.example"},
    )
    f.assert_error(r, 403, "forbidden")


def test_cookie_logout_ends_the_session_even_for_a_replayed_cookie(client: FlaskClient) -> None:
    owner = f.signup(client)
    headers = _cookie_login(client, owner.agent["email"])
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    old_value = cookie.value
    # A cross-site form cannot log the agent out: the cookie alone is not enough.
    f.assert_error(client.post("/api/v1/auth/logout"), 403, "forbidden")
    assert client.get("/api/v1/auth/me").status_code == 200
    r = client.post("/api/v1/auth/logout", headers=headers)
    assert r.status_code in (200, 204)
    f.assert_error(client.get("/api/v1/auth/me"), 401, "unauthorized")
    client.set_cookie(COOKIE, old_value)
    f.assert_error(client.get("/api/v1/auth/me"), 401, "unauthorized")
    # The bearer token the agent got at sign-up is not touched.
    assert client.get("/api/v1/auth/me", headers=owner.headers).status_code == 200


# -- roles ---------------------------------------------------------------------------------------


def _new_agent(client: FlaskClient, creator: f.Owner, role: str) -> TestResponse:
    return client.post(
        "/api/v1/agents",
        headers=creator.headers,
        json={
            "name": f"New {role}",
            "email": f"new-{role}-{creator.agent['id']}@example.com",
            "password": f.PASSWORD,
            "role": role,
        },
    )


def test_agent_role_cannot_create_agents_or_sites(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner, role="agent")
    f.assert_error(_new_agent(client, agent, "agent"), 403, "forbidden")
    r = client.post("/api/v1/sites", headers=agent.headers, json={"name": "Mine"})
    f.assert_error(r, 403, "forbidden")
    names = [
        a["name"] for a in client.get("/api/v1/agents", headers=owner.headers).get_json()["agents"]
    ]
    assert "New agent" not in names


def test_agent_role_can_read_sites_and_agents(client: FlaskClient) -> None:
    owner = f.signup(client)
    f.create_site(client, owner, name="Readable")
    agent = f.add_agent(client, owner, role="agent")
    sites = client.get("/api/v1/sites", headers=agent.headers)
    assert sites.status_code == 200
    assert [s["name"] for s in sites.get_json()["sites"]] == ["Readable"]
    agents = client.get("/api/v1/agents", headers=agent.headers)
    assert agents.status_code == 200
    assert {a["id"] for a in agents.get_json()["agents"]} == {owner.agent["id"], agent.agent["id"]}


def test_admin_can_create_agents_and_admins_but_not_owners(client: FlaskClient) -> None:
    owner = f.signup(client)
    admin = f.add_agent(client, owner, role="admin")
    r = _new_agent(client, admin, "agent")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["agent"]["role"] == "agent"
    assert _new_agent(client, admin, "admin").status_code == 201
    f.assert_error(_new_agent(client, admin, "owner"), 403, "forbidden")
    r = client.post("/api/v1/sites", headers=admin.headers, json={"name": "Admin site"})
    assert r.status_code == 201


def test_owner_can_create_an_owner(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = _new_agent(client, owner, "owner")
    assert r.status_code == 201
    assert r.get_json()["agent"]["role"] == "owner"


def test_created_agent_defaults_to_role_agent_and_can_log_in(client: FlaskClient) -> None:
    owner = f.signup(client)
    r = client.post(
        "/api/v1/agents",
        headers=owner.headers,
        json={"name": "Default", "email": "default-role@example.com", "password": f.PASSWORD},
    )
    assert r.status_code == 201
    assert r.get_json()["agent"]["role"] == "agent"
    assert f.login(client, "default-role@example.com").status_code == 200


def test_agent_email_is_unique_across_workspaces(client: FlaskClient) -> None:
    first = f.signup(client, workspace="One")
    second = f.signup(client, workspace="Two")
    body = {"name": "Dup", "email": "dup@example.com", "password": f.PASSWORD, "role": "agent"}
    assert client.post("/api/v1/agents", headers=first.headers, json=body).status_code == 201
    r = client.post("/api/v1/agents", headers=second.headers, json=body)
    f.assert_error(r, 409, "conflict")


def test_agent_list_shows_only_own_workspace(client: FlaskClient) -> None:
    first = f.signup(client, workspace="One")
    second = f.signup(client, workspace="Two")
    f.add_agent(client, second, name="Their Agent")
    listed = client.get("/api/v1/agents", headers=first.headers).get_json()["agents"]
    assert [a["id"] for a in listed] == [first.agent["id"]]
