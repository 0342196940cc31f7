"""Build data through the public API, the way users do."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@dataclass
class Owner:
    agent: dict[str, Any]
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class VisitorSession:
    token: str
    visitor: dict[str, Any]
    site_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signup(
    client: FlaskClient,
    workspace: str = "Acme",
    name: str = "Olive Owner",
    email: str | None = None,
) -> Owner:
    email = email or f"owner{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"
    r = client.post(
        "/api/v1/auth/signup",
        json={"workspace_name": workspace, "name": name, "email": email, "password": PASSWORD},
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    return Owner(agent=body["agent"], token=body["token"])


def add_agent(
    client: FlaskClient, owner: Owner, role: str = "agent", name: str = "Alex Agent"
) -> Owner:
    email = f"agent{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"
    r = client.post(
        "/api/v1/agents",
        headers=owner.headers,
        json={"name": name, "email": email, "password": PASSWORD, "role": role},
    )
    assert r.status_code == 201, r.get_json()
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    client.delete_cookie("parley_session")
    return Owner(agent=r.get_json()["agent"], token=r.get_json()["token"])


def create_site(
    client: FlaskClient,
    owner: Owner,
    name: str = "Shop",
    origins: list[str] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "allowed_origins": origins or ["https://shop.example"]}
    if settings:
        body["settings"] = settings
    r = client.post("/api/v1/sites", headers=owner.headers, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["site"]  # type: ignore[no-any-return]


def widget_session(
    client: FlaskClient, site: dict[str, Any], token: str | None = None, **extra: Any
) -> VisitorSession:
    body: dict[str, Any] = {"site_key": site["site_key"], **extra}
    if token:
        body["visitor_token"] = token
    r = client.post("/api/v1/widget/session", json=body)
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    return VisitorSession(
        token=data["visitor_token"], visitor=data["visitor"], site_key=site["site_key"]
    )


def user_hash(site: dict[str, Any], external_id: str) -> str:
    return hmac.new(site["site_secret"].encode(), external_id.encode(), hashlib.sha256).hexdigest()


def start_ticket(
    client: FlaskClient, visitor: VisitorSession, body: str = "Hello, I need help"
) -> dict[str, Any]:
    """A visitor's first message opens a ticket; returns the ticket."""
    r = client.post(
        "/api/v1/tickets",
        headers=visitor.headers,
        json={"client_id": uuid.uuid4().hex, "body": body},
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()["ticket"]  # type: ignore[no-any-return]


def send(
    client: FlaskClient,
    headers: dict[str, str],
    ticket_id: str,
    body: str,
    client_id: str | None = None,
    kind: str = "text",
) -> Any:
    return client.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        headers=headers,
        json={"client_id": client_id or uuid.uuid4().hex, "body": body, "kind": kind},
    )


def assert_error(r: Any, status: int, code: str) -> dict[str, Any]:
    """The response is the contract's JSON error with this status and code; returns the error."""
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    assert r.is_json, r.get_data(as_text=True)[:500]
    error = r.get_json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error  # type: ignore[no-any-return]


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})
