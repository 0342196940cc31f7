"""Single sign-on in Chromium: the console's button, a local OpenID Connect provider
(``oidc-provider-mock`` on loopback) and back into the console with a cookie session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.console_support import console_built
from tests.live import Api, Server

__all__ = ["console_built"]
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def sso_server(pg_url: str, provider: str, console_built: None) -> Iterator[Server]:
    server = Server(
        {
            "DATABASE_URL": pg_url,
            "OIDC_ISSUER": provider,
            "OIDC_CLIENT_ID": "parley-console",
            "OIDC_CLIENT_SECRET": "not-a-real-secret",
            "OIDC_PROVIDER_NAME": "Acme SSO",
        }
    ).start()
    yield server
    server.stop()


def test_agent_signs_in_with_single_sign_on_and_can_work(
    sso_server: Server, provider: str, page: Page
) -> None:
    api = Api(sso_server.url)
    owner: dict[str, Any] = api.signup("Acme")
    email = owner["agent"]["email"]
    claims = {"email": email, "email_verified": True, "name": "From SSO"}
    assert requests.put(f"{provider}/users/{email}", json=claims, timeout=10).status_code == 204

    page.goto(sso_server.url + "/console/")
    button = page.get_by_role("link", name="Sign in with Acme SSO")
    expect(button).to_be_visible()
    button.click()
    page.locator('input[name="sub"]').fill(email)  # the provider's own sign-in page
    page.get_by_role("button", name="Authorize").click()

    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator(".topbar .me")).to_contain_text("Olive Owner")
    # The cookie session carries a CSRF token: a write from the console works.
    page.locator(".availability").click()
    expect(page.locator(".availability")).to_have_text("Away")
