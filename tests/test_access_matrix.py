"""The REST access-control matrix: every ``/api/v1`` route, called by each of nine principals.

One world per backend (two workspaces, each with an owner, an admin and an agent; sites A1
and A2 in workspace A, B1 in B; a ticket of visitor V on A1, another visitor of A1, a
visitor of A2 and one of B1). Every call carries a valid body, so a refusal comes from
access control and not from validation. A route of ``app.url_map`` without a row fails the
test, and so does a success that carries something its caller may not see.

Hiding existence: a ticket, site, visitor or agent the caller may not see is ``not_found``
(CONTRACT "Conventions" and docs/PROTOCOL.md "A ticket you may not see is not_found"); a
caller of the wrong kind or role is ``forbidden`` whatever the id, so that leaks nothing.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from tests import factories as f
from tests.conftest import clear_database

API = "/api/v1"
#: The columns: who calls.
PRINCIPALS = (
    "anonymous",
    "visitor",  # the ticket's visitor (site A1)
    "visitor_same_site",  # another visitor of A1
    "visitor_other_site",  # a visitor of A2, same workspace
    "visitor_other_workspace",  # a visitor of B1
    "agent",  # role agent in A
    "agent_other_workspace",  # the OWNER of B: only tenant scoping can stop it
    "admin",  # role admin in A
    "owner",  # role owner in A
)
VISITORS = PRINCIPALS[1:5]
STRANGER_VISITORS = PRINCIPALS[2:5]
A_AGENTS = ("agent", "admin", "owner")

#: Rules outside /api/v1 that need no login (the console's page logs in through the API).
PUBLIC_PAGES = {
    "/console",
    "/console/",
    "/console/assets/<path:name>",
    "/console/sw.js",
    "/healthz",
    "/readyz",
    "/static/<path:filename>",
    "/widget.js",
    "/widget/assets/<path:name>",
    "/widget/frame",
    "/widget/look",
    "/widget/sw.js",
}


# -- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    client: FlaskClient
    tokens: dict[str, str | None]
    ids: dict[str, str]
    sites: dict[str, dict[str, Any]]
    #: Strings each principal must never find in a successful answer.
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    login_email: str = ""

    def as_owner(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.client.open(
            API + path, method=method, headers=f.bearer(self.tokens["owner"]), **kwargs
        )  # type: ignore[arg-type]
        assert r.status_code < 300, (method, path, r.status_code, r.get_data(as_text=True))
        return r.get_json(silent=True)


def _push_keys() -> dict[str, str]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return {"p256dh": b64(point), "auth": b64(uuid.uuid4().bytes)}


def app_client_without_cookies(client: FlaskClient) -> FlaskClient:
    return client.application.test_client(use_cookies=False)


def _build_world(client: FlaskClient) -> World:
    owner_a, owner_b = f.signup(client, "Alpha"), f.signup(client, "Beta")
    admin_a = f.add_agent(client, owner_a, role="admin", name="Ada Admin")
    agent_a = f.add_agent(client, owner_a, role="agent", name="Alex Agent")
    login_agent = f.add_agent(client, owner_a, role="agent", name="Lou Login")
    f.add_agent(client, owner_b, role="admin")
    f.add_agent(client, owner_b, role="agent")
    a1 = f.create_site(client, owner_a, "A1", ["https://a1.example"])
    a2 = f.create_site(client, owner_a, "A2", ["https://a2.example"])
    b1 = f.create_site(client, owner_b, "B1", ["https://b1.example"])
    visitor = f.widget_session(client, a1)
    same_site = f.widget_session(client, a1)
    other_site = f.widget_session(client, a2)
    other_ws = f.widget_session(client, b1)
    ticket = f.start_ticket(client, visitor, "my order 1234 never arrived")
    note = f"internal-note-{uuid.uuid4().hex}"
    assert f.send(client, agent_a.headers, ticket["id"], note, kind="note").status_code == 201
    w = World(
        client=app_client_without_cookies(client),
        tokens={
            "anonymous": None,
            "visitor": visitor.token,
            "visitor_same_site": same_site.token,
            "visitor_other_site": other_site.token,
            "visitor_other_workspace": other_ws.token,
            "agent": agent_a.token,
            "agent_other_workspace": owner_b.token,
            "admin": admin_a.token,
            "owner": owner_a.token,
        },
        ids={
            "ticket": ticket["id"],
            "visitor": visitor.visitor["id"],
            "agent": agent_a.agent["id"],
            "admin": admin_a.agent["id"],
            "owner": owner_a.agent["id"],
            "A1": a1["id"],
            "A2": a2["id"],
            "B1": b1["id"],
        },
        sites={"A1": a1, "A2": a2, "B1": b1},
        login_email=login_agent.agent["email"],
    )
    w.as_owner(
        "POST",
        f"/sites/{a1['id']}/faq",
        json={"question": "Where is my order?", "answer": "On its way.", "external_id": "order"},
    )
    w.as_owner("PUT", f"/sites/{a1['id']}/bot/webhook", json={"url": "http://127.0.0.1:9/bot"})
    bot_secret = w.as_owner("GET", f"/sites/{a1['id']}/bot/webhook")
    hook = w.as_owner(
        "POST",
        f"/sites/{a1['id']}/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["ticket.created"]},
    )
    canned = w.as_owner("POST", "/canned-responses", json={"shortcut": "hello", "body": "Hello!"})
    w.ids["webhook"] = hook["webhook"]["id"]
    w.ids["temp_agent"] = _fresh_agent(w)
    w.ids["canned"] = canned["canned_response"]["id"]

    workspace_a = {
        "ticket id": w.ids["ticket"],
        "visitor id": w.ids["visitor"],
        "agent id": w.ids["agent"],
        "admin id": w.ids["admin"],
        "owner id": w.ids["owner"],
        "canned id": w.ids["canned"],
        "webhook id": w.ids["webhook"],
        "note": note,
        "ticket text": "my order 1234",
    }
    secret_values = {
        "A1 site_secret": a1["site_secret"],
        "A2 site_secret": a2["site_secret"],
        "B1 site_secret": b1["site_secret"],
    }
    secret_values |= {
        f"bot {k}": str(v) for k, v in (bot_secret or {}).items() if "secret" in k and v
    }
    # Visitors of A's sites may see A's agents (an assignee, who is online); site ids are public
    # (the widget session, which only needs the site key, answers with them).
    a_people = {
        k: v for k, v in workspace_a.items() if k not in ("agent id", "admin id", "owner id")
    }
    w.secrets = {
        "anonymous": workspace_a | secret_values,
        "visitor": secret_values
        | {
            "note": note,
            "other visitor id": same_site.visitor["id"],
            "A2 visitor id": other_site.visitor["id"],
        },
        "visitor_same_site": a_people | secret_values,
        "visitor_other_site": a_people | secret_values,
        "visitor_other_workspace": workspace_a | secret_values,
        "agent": secret_values,  # only owners and admins see site and bot secrets
        "agent_other_workspace": workspace_a,
        "admin": {},
        "owner": {},
    }
    return w


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    # PostgreSQL only: about 550 calls take most of a minute on CI; access rules are in
    # Python, the same on both backends (tests/test_api_* cover SQLite's queries).
    url = request.getfixturevalue("pg_url")
    app: Flask = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            "PUBLIC_URL": "http://parley.test",
            "PUSH_ALLOW_PRIVATE": True,
            "WEBHOOK_ALLOW_PRIVATE": True,
            "RATE_LIMITS_ENABLED": False,  # nine callers from one address; limits have tests
        }
    )
    with app.app_context():
        clear_database()
    # The world's client keeps no cookies: a login must not turn anonymous calls into console ones.
    w = _build_world(app.test_client())
    yield w
    # Deliveries to the world's webhooks (a closed port) would retry past the test.
    w.as_owner("DELETE", f"/sites/{w.ids['A1']}/webhooks/{w.ids['webhook']}")
    with app.app_context():
        clear_database()
        db.session.remove()
        db.engine.dispose()


# -- expectations -------------------------------------------------------------------------------


def cells(default: int, **by_principal: int) -> dict[str, int]:
    return {p: by_principal.get(p, default) for p in PRINCIPALS}


def everyone(status: int) -> dict[str, int]:
    return cells(status)


def agents(ok: int, *, agent: int | None = None, other_ws: int | None = None) -> dict[str, int]:
    """Agent-only: anonymous 401, visitors 403, the role ``agent`` and B's owner as given."""
    return cells(
        ok,
        anonymous=401,
        **{v: 403 for v in VISITORS},
        agent=ok if agent is None else agent,
        agent_other_workspace=ok if other_ws is None else other_ws,
    )


def managers(ok: int, *, other_ws: int = 404) -> dict[str, int]:
    """Owners and admins of A; an agent is forbidden; B's owner does not find A's object."""
    return agents(ok, agent=403, other_ws=other_ws)


def ticket_readers(ok: int, *, visitor: int | None = None) -> dict[str, int]:
    """V and A's agents; every other visitor and B's owner get not_found."""
    return cells(
        ok,
        anonymous=401,
        visitor=ok if visitor is None else visitor,
        **{v: 404 for v in STRANGER_VISITORS},
        agent_other_workspace=404,
    )


def visitors_only(ok: int, strangers: int) -> dict[str, int]:
    return cells(403, anonymous=401, visitor=ok, **{v: strangers for v in STRANGER_VISITORS})


Request = dict[str, Any]
Build = Callable[[World, str], Request]


@dataclass
class Row:
    method: str
    rule: str
    expect: dict[str, int]
    build: Build
    #: Statuses that count as the same success (e.g. a replaced rating answers 200, not 201).
    also_ok: tuple[int, ...] = ()
    #: False for logout, which would end the console session the cookie test runs on.
    by_cookie: bool = True
    #: Run by the owner before the row's first call and after its last one.
    before: Callable[[World], None] | None = None
    after: Callable[[World], None] | None = None


def _q() -> str:
    return uuid.uuid4().hex[:12]


def _fresh_agent(w: World) -> str:
    body = {
        "name": "Temp",
        "email": f"tmp-{_q()}@example.com",
        "password": f.PASSWORD,
        "role": "agent",
    }
    return str(w.as_owner("POST", "/agents", json=body)["agent"]["id"])


def _fresh_faq(w: World, who: str) -> str:
    body = {"question": f"Question {_q()}?", "answer": "An answer."}
    return str(w.as_owner("POST", f"/sites/{w.ids['A1']}/faq", json=body)["entry"]["id"])


def _fresh_webhook(w: World) -> str:
    body = {"url": "http://127.0.0.1:9/h", "events": ["ticket.created"]}
    return str(w.as_owner("POST", f"/sites/{w.ids['A1']}/webhooks", json=body)["webhook"]["id"])


def _fresh_canned(w: World) -> str:
    body = {"shortcut": f"c{_q()}", "body": "Thanks!"}
    return str(w.as_owner("POST", "/canned-responses", json=body)["canned_response"]["id"])


def _fresh_token(w: World, who: str) -> str | None:
    """Logout revokes the token it is called with: agents log in again for it."""
    if who not in ("agent", "admin", "owner", "agent_other_workspace"):
        return w.tokens[who]
    me = w.client.get(API + "/auth/me", headers=f.bearer(str(w.tokens[who]))).get_json()
    # Every world agent has the factories' password.
    r = f.login(w.client, me["agent"]["email"])
    assert r.status_code == 200, r.get_json()
    return str(r.get_json()["token"])


def _resolve(w: World) -> None:
    w.as_owner("PATCH", f"/tickets/{w.ids['ticket']}", json={"status": "resolved"})


def _reopen(w: World) -> None:
    w.as_owner("PATCH", f"/tickets/{w.ids['ticket']}", json={"status": "open"})


def _fresh_visitor(w: World) -> str:
    """A visitor of A1 with a ticket (a stored row), for the erasure row."""
    session = w.client.post(API + "/widget/session", json={"site_key": w.sites["A1"]["site_key"]})
    token = session.get_json()["visitor_token"]
    r = w.client.post(API + "/tickets", headers=f.bearer(token), json=_text("erase me"))
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["ticket"]["visitor"]["id"])


def _doomed_webhook(w: World) -> str:
    """The webhook the deletion row works on: the same one until a call deletes it (a site
    holds few webhooks)."""
    if "doomed_webhook" not in w.ids:
        w.ids["doomed_webhook"] = _fresh_webhook(w)
    return w.ids["doomed_webhook"]


def _gone(w: World) -> None:
    w.ids.pop("doomed_webhook", None)


def _doomed_visitor(w: World) -> str:
    """The visitor the erasure row works on: the same one until a call erases it."""
    if "doomed" not in w.ids:
        w.ids["doomed"] = _fresh_visitor(w)
    return w.ids["doomed"]


def _erased(w: World, body: Any) -> None:
    w.ids.pop("doomed", None)


def _site(w: World, tail: str = "") -> str:
    return f"/sites/{w.ids['A1']}{tail}"


def _ticket(w: World, tail: str = "") -> str:
    return f"/tickets/{w.ids['ticket']}{tail}"


def _text(body: str = "hello") -> dict[str, str]:
    return {"client_id": uuid.uuid4().hex, "body": body}


ROWS: list[Row] = [
    # -- public ---------------------------------------------------------------------------------
    Row("GET", "/openapi.json", everyone(200), lambda w, who: {"path": "/openapi.json"}),
    Row("GET", "/auth/oidc", everyone(200), lambda w, who: {"path": "/auth/oidc"}),
    # Single sign-on is off in this world: both steps are not_found for everyone.
    Row("GET", "/auth/oidc/login", everyone(404), lambda w, who: {"path": "/auth/oidc/login"}),
    Row(
        "GET", "/auth/oidc/callback", everyone(404), lambda w, who: {"path": "/auth/oidc/callback"}
    ),
    Row(
        "POST",
        "/auth/signup",
        everyone(201),
        lambda w, who: {
            "path": "/auth/signup",
            "json": {
                "workspace_name": "New",
                "name": "New Owner",
                "email": f"new-{_q()}@example.com",
                "password": f.PASSWORD,
            },
        },
    ),
    Row(
        "POST",
        "/auth/login",
        everyone(200),
        lambda w, who: {
            "path": "/auth/login",
            "json": {"email": w.login_email, "password": f.PASSWORD},
        },
    ),
    Row(
        "GET",
        "/push/vapid-public-key",
        everyone(200),
        lambda w, who: {"path": "/push/vapid-public-key"},
    ),
    Row(
        "POST",
        "/widget/session",
        everyone(200),
        lambda w, who: {"path": "/widget/session", "json": {"site_key": w.sites["A1"]["site_key"]}},
    ),
    # The bring-your-own bot authenticates with the site's bot secret, which no principal holds.
    Row(
        "POST",
        "/sites/<site_id>/bot/replies",
        everyone(401),
        lambda w, who: {
            "path": _site(w, "/bot/replies"),
            "json": {"ticket_id": w.ids["ticket"], "client_id": _q(), "body": "Hi"},
        },
        by_cookie=False,  # the cookie is no credential here, so CSRF does not apply
    ),
    # -- the caller itself ----------------------------------------------------------------------
    Row("GET", "/auth/me", agents(200), lambda w, who: {"path": "/auth/me"}),
    Row(
        "POST",
        "/auth/logout",
        agents(204),
        lambda w, who: {"path": "/auth/logout", "token": _fresh_token(w, who)},
        by_cookie=False,
    ),
    Row(
        "PATCH",
        "/agents/me",
        agents(200),
        lambda w, who: {"path": "/agents/me", "json": {"availability": "online"}},
    ),
    # -- workspace ------------------------------------------------------------------------------
    Row("GET", "/agents", agents(200), lambda w, who: {"path": "/agents"}),
    Row(
        "POST",
        "/agents",
        managers(201, other_ws=201),
        lambda w, who: {
            "path": "/agents",
            "json": {
                "name": "New",
                "email": f"n-{_q()}@example.com",
                "password": f.PASSWORD,
                "role": "agent",
            },
        },
    ),
    Row(
        "PATCH",
        "/agents/<agent_id>",
        managers(200),
        lambda w, who: {"path": f"/agents/{w.ids['temp_agent']}", "json": {"name": "Renamed"}},
    ),
    Row("GET", "/workspace", agents(200), lambda w, who: {"path": "/workspace"}),
    Row(
        "PATCH",
        "/workspace",
        managers(200, other_ws=200),
        lambda w, who: {"path": "/workspace", "json": {"routing": {"mode": "manual"}}},
    ),
    Row("GET", "/canned-responses", agents(200), lambda w, who: {"path": "/canned-responses"}),
    Row(
        "POST",
        "/canned-responses",
        agents(201),
        lambda w, who: {
            "path": "/canned-responses",
            "json": {"shortcut": f"s{_q()}", "body": "Hi"},
        },
    ),
    Row(
        "PATCH",
        "/canned-responses/<canned_id>",
        agents(200, other_ws=404),
        lambda w, who: {
            "path": f"/canned-responses/{w.ids['canned']}",
            "json": {"body": "Hello again"},
        },
    ),
    Row(
        "DELETE",
        "/canned-responses/<canned_id>",
        agents(204, other_ws=404),
        lambda w, who: {"path": f"/canned-responses/{_fresh_canned(w)}"},
    ),
    Row(
        "GET",
        "/reports",
        agents(200, other_ws=404),
        lambda w, who: {"path": f"/reports?from=2026-01-01&to=2026-12-31&site_id={w.ids['A1']}"},
    ),
    Row(
        "POST",
        "/push/subscriptions",
        cells(201, anonymous=401),
        lambda w, who: {
            "path": "/push/subscriptions",
            "json": {"endpoint": f"http://127.0.0.1:9/push/{_q()}", "keys": _push_keys()},
        },
    ),
    Row(
        "DELETE",
        "/push/subscriptions",
        cells(204, anonymous=401),
        lambda w, who: {
            "path": "/push/subscriptions",
            "json": {"endpoint": f"http://127.0.0.1:9/push/{_q()}"},
        },
    ),
    # -- sites ----------------------------------------------------------------------------------
    Row("GET", "/sites", agents(200), lambda w, who: {"path": "/sites"}),
    Row(
        "POST",
        "/sites",
        managers(201, other_ws=201),
        lambda w, who: {
            "path": "/sites",
            "json": {"name": "New", "allowed_origins": ["https://n.example"]},
        },
    ),
    Row("GET", "/sites/<site_id>", agents(200, other_ws=404), lambda w, who: {"path": _site(w)}),
    Row(
        "PATCH",
        "/sites/<site_id>",
        managers(200),
        lambda w, who: {"path": _site(w), "json": {"settings": {"title": "Help"}}},
    ),
    Row(
        "GET",
        "/sites/<site_id>/install",
        agents(200, other_ws=404),
        lambda w, who: {"path": _site(w, "/install")},
    ),
    Row(
        "POST",
        "/sites/<site_id>/bot/calibrate",
        managers(200),
        lambda w, who: {
            "path": _site(w, "/bot/calibrate"),
            "json": {"messages": [{"text": "Where is my order?", "expected": "order"}]},
        },
    ),
    Row(
        "POST",
        "/sites/<site_id>/bot/ask",
        agents(200, other_ws=404),
        lambda w, who: {"path": _site(w, "/bot/ask"), "json": {"text": "Where is my order?"}},
    ),
    Row(
        "GET",
        "/sites/<site_id>/bot/settings",
        agents(200, other_ws=404),
        lambda w, who: {"path": _site(w, "/bot/settings")},
    ),
    Row(
        "GET",
        "/sites/<site_id>/faq",
        agents(200, other_ws=404),
        lambda w, who: {"path": _site(w, "/faq")},
    ),
    Row(
        "POST",
        "/sites/<site_id>/faq",
        managers(201),
        lambda w, who: {
            "path": _site(w, "/faq"),
            "json": {"question": f"Q {_q()}?", "answer": "A."},
        },
    ),
    Row(
        "PUT",
        "/sites/<site_id>/faq/<faq_id>",
        managers(200),
        lambda w, who: {
            "path": _site(w, f"/faq/{_fresh_faq(w, who)}"),
            "json": {"question": f"Q {_q()}?", "answer": "B."},
        },
    ),
    Row(
        "DELETE",
        "/sites/<site_id>/faq/<faq_id>",
        managers(204),
        lambda w, who: {"path": _site(w, f"/faq/{_fresh_faq(w, who)}")},
    ),
    Row(
        "POST",
        "/sites/<site_id>/faq/import",
        managers(200),
        lambda w, who: {
            "path": _site(w, "/faq/import"),
            "json": [{"question": f"I {_q()}?", "answer": "C."}],
        },
    ),
    Row(
        "PUT",
        "/sites/<site_id>/bot/settings",
        managers(200),
        lambda w, who: {
            "path": _site(w, "/bot/settings"),
            "json": {"answer_threshold": 0.6, "margin": 0.05, "suggest_threshold": 0.4},
        },
    ),
    Row(
        "GET",
        "/sites/<site_id>/bot/webhook",
        managers(200),
        lambda w, who: {"path": _site(w, "/bot/webhook")},
    ),
    Row(
        "PUT",
        "/sites/<site_id>/bot/webhook",
        managers(200),
        lambda w, who: {
            "path": _site(w, "/bot/webhook"),
            "json": {"url": "http://127.0.0.1:9/bot"},
        },
    ),
    Row(
        "DELETE",
        "/sites/<site_id>/bot/webhook",
        managers(204),
        lambda w, who: {"path": _site(w, "/bot/webhook"), "after": _restore_bot_webhook},
    ),
    Row(
        "POST",
        "/sites/<site_id>/webhooks",
        managers(201),
        lambda w, who: {
            "path": _site(w, "/webhooks"),
            "json": {"url": "http://127.0.0.1:9/x", "events": ["ticket.created"]},
            "after_json": _delete_created_webhook,
        },
    ),
    Row(
        "GET",
        "/sites/<site_id>/webhooks",
        managers(200),
        lambda w, who: {"path": _site(w, "/webhooks")},
    ),
    Row(
        "DELETE",
        "/sites/<site_id>/webhooks/<webhook_id>",
        managers(204),
        lambda w, who: {"path": _site(w, f"/webhooks/{_doomed_webhook(w)}"), "after_ok": _gone},
    ),
    Row(
        "GET",
        "/sites/<site_id>/webhooks/<webhook_id>/deliveries",
        managers(200),
        lambda w, who: {"path": _site(w, f"/webhooks/{w.ids['webhook']}/deliveries")},
    ),
    # -- tickets --------------------------------------------------------------------------------
    Row("GET", "/tickets", cells(200, anonymous=401), lambda w, who: {"path": "/tickets"}),
    Row(
        "POST",
        "/tickets",
        cells(403, anonymous=401, **{v: 201 for v in VISITORS}),
        lambda w, who: {"path": "/tickets", "json": _text()},
    ),
    Row("GET", "/tickets/<ticket_id>", ticket_readers(200), lambda w, who: {"path": _ticket(w)}),
    Row(
        "PATCH",
        "/tickets/<ticket_id>",
        agents(200, other_ws=404),
        lambda w, who: {"path": _ticket(w), "json": {"status": "pending"}},
        after=_reopen,
    ),
    Row(
        "POST",
        "/tickets/<ticket_id>/participants",
        agents(200, other_ws=404),
        lambda w, who: {"path": _ticket(w, "/participants"), "json": {"agent_id": w.ids["admin"]}},
    ),
    Row(
        "DELETE",
        "/tickets/<ticket_id>/participants/<agent_id>",
        agents(200, other_ws=404),
        lambda w, who: {"path": _ticket(w, f"/participants/{w.ids['admin']}")},
    ),
    Row(
        "GET",
        "/tickets/<ticket_id>/messages",
        ticket_readers(200),
        lambda w, who: {"path": _ticket(w, "/messages")},
    ),
    Row(
        "POST",
        "/tickets/<ticket_id>/messages",
        ticket_readers(201),
        lambda w, who: {"path": _ticket(w, "/messages"), "json": _text("a reply")},
    ),
    Row(
        "POST",
        "/tickets/<ticket_id>/read",
        ticket_readers(200),
        lambda w, who: {"path": _ticket(w, "/read"), "json": {"seq": 1}},
    ),
    Row(
        "POST",
        "/tickets/<ticket_id>/rating",
        visitors_only(201, strangers=404),
        lambda w, who: {"path": _ticket(w, "/rating"), "json": {"score": 5}},
        also_ok=(200,),
        before=_resolve,
        after=_reopen,
    ),
    Row(
        "GET",
        "/visitors/<visitor_id>",
        agents(200, other_ws=404),
        lambda w, who: {"path": f"/visitors/{w.ids['visitor']}"},
    ),
    Row(
        "GET",
        "/visitors/<visitor_id>/export",
        managers(200),
        lambda w, who: {"path": f"/visitors/{w.ids['visitor']}/export"},
    ),
    Row(
        "DELETE",
        "/visitors/<visitor_id>",
        managers(200),
        lambda w, who: {"path": f"/visitors/{_doomed_visitor(w)}", "after_json": _erased},
    ),
    Row(
        "GET",
        "/workspace/audit",
        managers(200, other_ws=200),
        lambda w, who: {"path": "/workspace/audit"},
    ),
    Row(
        "PATCH",
        "/widget/visitor",
        cells(403, anonymous=401, **{v: 200 for v in VISITORS}),
        lambda w, who: {"path": "/widget/visitor", "json": {"name": "Vera Visitor"}},
    ),
]


def _restore_bot_webhook(w: World) -> None:
    w.as_owner("PUT", f"/sites/{w.ids['A1']}/bot/webhook", json={"url": "http://127.0.0.1:9/bot"})


def _delete_created_webhook(w: World, body: Any) -> None:
    """A site holds a few webhooks only: remove what a successful call created."""
    w.as_owner("DELETE", f"/sites/{w.ids['A1']}/webhooks/{body['webhook']['id']}")


# -- running it ---------------------------------------------------------------------------------

_ERROR_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}


def _call(
    w: World, row: Row, who: str, console: tuple[FlaskClient, dict[str, str]] | None = None
) -> tuple[int, str]:
    """Call ``row`` as ``who`` (with a bearer token, or through ``console``: a client holding
    the console cookie, and the headers to send); returns the status and what is wrong with
    the answer, if any."""
    req = row.build(w, who)
    client = w.client
    if console is not None:
        client, headers = console
    else:
        token = req["token"] if "token" in req else w.tokens[who]
        headers = f.bearer(token) if token else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if "json" in req:
        kwargs["json"] = req["json"]
    r = client.open(API + req["path"], method=row.method, **kwargs)
    problem = ""
    text = r.get_data(as_text=True)
    if r.status_code in _ERROR_CODES:
        code = (r.get_json(silent=True) or {}).get("error", {}).get("code")
        if code != _ERROR_CODES[r.status_code]:
            problem = f"error code {code!r}"
    elif r.status_code < 300:
        leaked = sorted(k for k, v in w.secrets[who].items() if v and v in text)
        if leaked:
            problem = f"leaked {leaked}"
        if "after_json" in req:
            req["after_json"](w, r.get_json())
        if "after_ok" in req:
            req["after_ok"](w)
    if "after" in req:
        req["after"](w)
    return r.status_code, problem


def _api_rules(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                found.add((method, rule.rule[len(API) :]))
    return found


def test_every_route_has_a_row_in_the_matrix(world: World) -> None:
    app = world.client.application
    rows = {(row.method, row.rule) for row in ROWS}
    missing = sorted(_api_rules(app) - rows)
    stale = sorted(rows - _api_rules(app))
    assert not missing, f"routes without an access-matrix row (add one): {missing}"
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"
    assert len(rows) == len(ROWS), "a route has two rows"
    others = {r.rule for r in app.url_map.iter_rules() if not r.rule.startswith(API + "/")}
    assert others <= PUBLIC_PAGES, (
        f"new non-API routes {sorted(others - PUBLIC_PAGES)}: decide who may open them"
    )


def test_every_principal_gets_exactly_what_it_may_on_every_route(world: World) -> None:
    wrong: list[str] = []
    for row in ROWS:
        if row.before:
            row.before(world)
        for who in PRINCIPALS:
            status, problem = _call(world, row, who)
            expected = row.expect[who]
            ok = status == expected or (expected in (200, 201) and status in row.also_ok)
            if not ok or problem:
                wrong.append(
                    f"{row.method} {row.rule} as {who}: got {status}, expected {expected}"
                    + (f" ({problem})" if problem else "")
                )
        if row.after:
            row.after(world)
    assert not wrong, "wrong cells:\n" + "\n".join(wrong)


def test_a_foreign_id_in_a_body_or_query_is_not_found(world: World) -> None:
    """Ids the caller names in a body or query are scoped to its workspace too."""
    w = world
    b_owner = w.tokens["agent_other_workspace"]
    me_b = w.client.get(API + "/auth/me", headers=f.bearer(str(b_owner))).get_json()["agent"]["id"]
    owner = f.bearer(str(w.tokens["owner"]))
    wrong: list[str] = []
    checks = [
        ("PATCH", _ticket(w), {"assignee_id": me_b}),
        ("POST", _ticket(w, "/participants"), {"agent_id": me_b}),
        ("DELETE", _ticket(w, f"/participants/{me_b}"), None),
        ("PATCH", f"/agents/{me_b}", {"name": "Hijacked"}),
        ("GET", f"/reports?from=2026-01-01&to=2026-01-31&site_id={w.ids['B1']}", None),
        ("GET", f"/sites/{w.ids['B1']}", None),
    ]
    for method, path, body in checks:
        kwargs: dict[str, Any] = {"headers": owner}
        if body is not None:
            kwargs["json"] = body
        r = w.client.open(API + path, method=method, **kwargs)
        if r.status_code != 404:
            wrong.append(f"{method} {path}: {r.status_code} {r.get_data(as_text=True)[:200]}")
    # Filters by a foreign site or agent find nothing rather than another tenant's tickets.
    for query in (f"site_id={w.ids['B1']}", f"assignee={me_b}"):
        r = w.client.get(f"{API}/tickets?{query}", headers=owner)
        if r.status_code != 200 or r.get_json()["tickets"]:
            wrong.append(f"GET /tickets?{query}: {r.status_code} {json.dumps(r.get_json())[:200]}")
    assert not wrong, "foreign ids accepted:\n" + "\n".join(wrong)


def test_a_calibration_no_threshold_can_satisfy_is_invalid_not_a_500(world: World) -> None:
    """Found by the matrix: a message that matches an entry word for word, labelled HANDOFF,
    with no budget for wrong answers, left calibrate() without a result (a 500)."""
    r = world.client.post(
        f"{API}/sites/{world.ids['A1']}/bot/calibrate",
        headers=f.bearer(str(world.tokens["owner"])),
        json={
            "messages": [{"text": "Where is my order?", "expected": "HANDOFF"}],
            "wrong_answer_budget": 0,
        },
    )
    f.assert_error(r, 422, "invalid")


def test_the_console_cookie_gets_the_bearer_answers_and_writes_need_its_csrf_token(
    world: World,
) -> None:
    """Agents also authenticate with the console's cookie: every route that needs a login
    answers the owner's cookie as it answers the owner's token, and a cookie write without
    the session's CSRF token, or from another origin, is forbidden."""
    console = world.client.application.test_client()  # keeps the cookie
    me = world.client.get(API + "/auth/me", headers=f.bearer(str(world.tokens["owner"])))
    r = f.login(console, me.get_json()["agent"]["email"])
    assert r.status_code == 200
    csrf = {"X-CSRF-Token": r.get_json()["csrf_token"]}
    wrong: list[str] = []
    for row in ROWS:
        if row.expect["anonymous"] != 401 or not row.by_cookie:
            continue
        if row.before:
            row.before(world)
        variants = [(csrf, row.expect["owner"])]
        if row.method != "GET":
            variants += [({}, 403), ({**csrf, "Origin": "https://evil.example"}, 403)]
        for headers, expected in variants:
            status, problem = _call(world, row, "owner", (console, headers))
            ok = status == expected or (expected in (200, 201) and status in row.also_ok)
            if not ok or problem:
                wrong.append(
                    f"{row.method} {row.rule} by cookie with {sorted(headers)}: got {status}, "
                    f"expected {expected}" + (f" ({problem})" if problem else "")
                )
        if row.after:
            row.after(world)
    assert not wrong, "wrong cells:\n" + "\n".join(wrong)
