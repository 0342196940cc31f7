"""OpenID Connect single sign-on through the real server against a local provider
(``oidc-provider-mock`` on loopback): redirect, callback, the console cookie session, and
refusals (unknown, unverified or deactivated e-mail)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from oidc_provider_mock import run_server_in_thread

from tests import factories as f
from tests.live import Api, Server

CLIENT_ID = "parley-console"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def sso_server(pg_url: str, provider: str) -> Iterator[Server]:
    server = Server(
        {
            "DATABASE_URL": pg_url,
            "OIDC_ISSUER": provider,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": "not-a-real-secret",
            "OIDC_PROVIDER_NAME": "Acme SSO",
        }
    ).start()
    yield server
    server.stop()


def _provider_user(provider: str, email: str, verified: bool = True) -> None:
    claims = {"email": email, "email_verified": verified, "name": "From SSO"}
    r = requests.put(f"{provider}/users/{email}", json=claims, timeout=10)
    assert r.status_code == 204, r.text


def _sign_in(server: Server, email: str) -> tuple[requests.Session, requests.Response]:
    """Follow the flow as a browser does, choosing ``email`` on the provider's page."""
    browser = requests.Session()
    start = browser.get(f"{server.url}/api/v1/auth/oidc/login", allow_redirects=False)
    assert start.status_code == 302, start.text
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [f"{server.url}/api/v1/auth/oidc/callback"]
    assert "openid" in query["scope"][0].split() and query["state"] and query["nonce"]
    chosen = browser.post(authorize, data={"sub": email}, allow_redirects=False)
    assert chosen.status_code == 302, chosen.text
    back = chosen.headers["Location"]
    assert back.startswith(f"{server.url}/api/v1/auth/oidc/callback?")
    return browser, browser.get(back, allow_redirects=False)


def test_agent_signs_in_and_the_cookie_session_works(sso_server: Server, provider: str) -> None:
    api = Api(sso_server.url)
    owner = api.signup()
    status = requests.get(f"{sso_server.url}/api/v1/auth/oidc", timeout=10).json()
    assert status == {"enabled": True, "provider_name": "Acme SSO"}
    email = owner["agent"]["email"]
    _provider_user(provider, email)
    browser, done = _sign_in(sso_server, email)
    assert done.status_code == 302, done.text
    assert done.headers["Location"].endswith("/console/")
    me = browser.get(f"{sso_server.url}/api/v1/auth/me", timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["agent"]["id"] == owner["agent"]["id"]
    csrf = me.json()["csrf_token"]
    assert csrf
    # Cookie writes work with the session's CSRF token, as after a password log-in.
    r = browser.patch(
        f"{sso_server.url}/api/v1/agents/me",
        json={"availability": "away"},
        headers={"X-CSRF-Token": csrf},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    r = browser.patch(
        f"{sso_server.url}/api/v1/agents/me", json={"availability": "online"}, timeout=10
    )
    assert r.status_code == 403


def test_unknown_email_gets_a_refusal_page_and_no_session(
    sso_server: Server, provider: str
) -> None:
    email = "nobody-here@example.com"
    _provider_user(provider, email)
    browser, done = _sign_in(sso_server, email)
    assert done.status_code == 403
    assert done.headers["Content-Type"].startswith("text/html")
    assert "Sign-in refused" in done.text
    assert browser.get(f"{sso_server.url}/api/v1/auth/me", timeout=10).status_code == 401


def test_unverified_email_is_not_trusted(sso_server: Server, provider: str) -> None:
    owner = Api(sso_server.url).signup()
    email = owner["agent"]["email"]
    _provider_user(provider, email, verified=False)
    browser, done = _sign_in(sso_server, email)
    assert done.status_code == 401
    assert browser.get(f"{sso_server.url}/api/v1/auth/me", timeout=10).status_code == 401


def test_deactivated_agent_is_refused(sso_server: Server, provider: str) -> None:
    api = Api(sso_server.url)
    owner = api.signup()
    agent = api.add_agent(owner["token"], "Former")
    api.call("PATCH", f"/agents/{agent['agent']['id']}", owner["token"], json={"active": False})
    _provider_user(provider, agent["agent"]["email"])
    _, done = _sign_in(sso_server, agent["agent"]["email"])
    assert done.status_code == 403


def test_a_forged_callback_is_refused(sso_server: Server) -> None:
    browser = requests.Session()
    r = browser.get(
        f"{sso_server.url}/api/v1/auth/oidc/callback?code=made-up&state=made-up",
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 401
    assert browser.get(f"{sso_server.url}/api/v1/auth/me", timeout=10).status_code == 401


def test_without_configuration_sso_is_off(client: FlaskClient) -> None:
    assert client.get("/api/v1/auth/oidc").get_json() == {"enabled": False, "provider_name": None}
    f.assert_error(client.get("/api/v1/auth/oidc/login"), 404, "not_found")
    f.assert_error(client.get("/api/v1/auth/oidc/callback?code=x&state=y"), 404, "not_found")
