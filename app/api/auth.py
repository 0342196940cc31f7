"""Sign-up, log-in, log-out and the current agent."""

from __future__ import annotations

from flask import Response, current_app, redirect, request, url_for
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from app.api import EndpointDoc, endpoint, json_body, reply
from app.api.rate_limits import client_address
from app.auth import oidc
from app.auth.web import (
    bearer_token,
    csrf_token,
    current_principal,
    end_console_session,
    start_console_session,
)
from app.errors import Forbidden, ParleyError, Unauthorized
from app.schemas.agents import AuthOut, LoginIn, MeOut, OidcStatusOut, SignupIn
from app.services import accounts, login_throttle
from app.services.rate_limits import rate_limits
from app.services.views import agent_view


@endpoint(
    "/auth/signup",
    "POST",
    EndpointDoc(
        "Create a workspace and its owner",
        "auth",
        auth="none",
        body=SignupIn,
        response=AuthOut,
        status=201,
        errors=(409, 422),
    ),
)
def signup() -> tuple[Response, int]:
    data = json_body(SignupIn())
    result = accounts.signup(data["workspace_name"], data["name"], data["email"], data["password"])
    return reply(AuthOut(), {"agent": agent_view(result.agent), "token": result.token}, 201)


@endpoint(
    "/auth/login",
    "POST",
    EndpointDoc(
        "Log in: a bearer token, and the console's session cookie",
        "auth",
        auth="none",
        body=LoginIn,
        response=AuthOut,
        errors=(401, 422, 429),
    ),
)
def login() -> tuple[Response, int]:
    data = json_body(LoginIn())
    result = login_throttle.login(
        rate_limits(),
        data["email"],
        data["password"],
        address=client_address(),
        console_session=True,
    )
    csrf = start_console_session(accounts.agent_principal(result.agent, result.console_token_id))
    return reply(
        AuthOut(), {"agent": agent_view(result.agent), "token": result.token, "csrf_token": csrf}
    )


@endpoint(
    "/auth/logout",
    "POST",
    EndpointDoc(
        "Revoke the calling token, or end the cookie session", "auth", response=None, errors=(401,)
    ),
)
def logout() -> tuple[Response, int]:
    principal = current_principal()
    accounts.logout(principal)
    if bearer_token() is None:
        end_console_session()
    return Response(status=204), 204


@endpoint(
    "/auth/me", "GET", EndpointDoc("The calling agent", "auth", response=MeOut, errors=(401,))
)
def me() -> tuple[Response, int]:
    principal = current_principal()
    agent = accounts.get_agent(principal)
    csrf = csrf_token() if bearer_token() is None and request.cookies else None
    return reply(MeOut(), {"agent": agent_view(agent), "csrf_token": csrf})


@endpoint(
    "/auth/oidc",
    "GET",
    EndpointDoc(
        "Whether single sign-on (OpenID Connect) is on, and the provider's name",
        "auth",
        auth="none",
        response=OidcStatusOut,
    ),
)
def oidc_status() -> tuple[Response, int]:
    enabled = oidc.oidc_enabled()
    body = {"enabled": enabled, "provider_name": oidc.provider_name() if enabled else None}
    return reply(OidcStatusOut(), body)


@endpoint(
    "/auth/oidc/login",
    "GET",
    EndpointDoc(
        "Single sign-on: a 302 to the provider's sign-in page",
        "auth",
        auth="none",
        response=None,
        errors=(404,),
    ),
)
def oidc_login() -> Response:
    return oidc.redirect_to_provider(_callback_url())


@endpoint(
    "/auth/oidc/callback",
    "GET",
    EndpointDoc(
        "Single sign-on: the provider returns here; sets the console session, 302 to /console/ "
        "(an unknown e-mail gets a 403 page)",
        "auth",
        auth="none",
        response=None,
        errors=(401, 403, 404),
    ),
)
def oidc_callback() -> BaseResponse:
    try:
        email = oidc.verified_email()
        result = accounts.console_session_for_email(email)
    except (Unauthorized, Forbidden) as error:
        return _refusal_page(error)
    start_console_session(accounts.agent_principal(result.agent, result.console_token_id))
    return redirect("/console/", code=302)


def _callback_url() -> str:
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return f"{str(public).rstrip('/')}/api/v1/auth/oidc/callback"
    return url_for("api.oidc_callback", _external=True)


def _refusal_page(error: ParleyError) -> Response:
    """A plain page the browser shows instead of the console (the message is escaped)."""
    html = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Sign-in refused</title>"
        f"<h1>Sign-in refused</h1><p>{escape(error.message)}</p>"
        '<p><a href="/console/">Back to the sign-in page</a></p></html>'
    )
    return Response(html, status=error.status, mimetype="text/html")
