"""Sign-up, log-in, log-out and the current agent."""

from __future__ import annotations

from flask import Response, request

from app.api import EndpointDoc, endpoint, json_body, reply
from app.auth.web import (
    bearer_token,
    csrf_token,
    current_principal,
    end_console_session,
    start_console_session,
)
from app.schemas.agents import AuthOut, LoginIn, MeOut, SignupIn
from app.services import accounts
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
        errors=(401, 422),
    ),
)
def login() -> tuple[Response, int]:
    data = json_body(LoginIn())
    result = accounts.login(data["email"], data["password"], console_session=True)
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
