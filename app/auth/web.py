"""Authenticating HTTP requests: bearer tokens, visitor tokens, the console cookie and CSRF."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import g, request, session
from flask_login import UserMixin, current_user, login_user, logout_user

from app.auth.principal import Principal
from app.auth.tokens import AGENT_TOKEN_PREFIX
from app.auth.visitors import visitor_principal
from app.errors import Forbidden, Unauthorized
from app.extensions import login_manager

CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ConsoleUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's user: a console session backed by a revocable token row."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        return self.principal.token_id or ""


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load_console_user(token_id: str) -> ConsoleUser | None:
    from app.services.accounts import authenticate_token

    principal = authenticate_token(token_id=token_id, kind="session")
    return ConsoleUser(principal) if principal else None


def start_console_session(principal: Principal) -> str:
    """Log the console in with a cookie; returns the CSRF token its writes must send."""
    session.clear()
    login_user(ConsoleUser(principal))
    token = secrets.token_urlsafe(32)
    session["csrf"] = token
    return token


def end_console_session() -> None:
    logout_user()
    session.clear()


def csrf_token() -> str | None:
    value = session.get("csrf")
    return value if isinstance(value, str) else None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_principal(*, visitors: bool = False) -> Principal:
    """Who is calling: an agent (bearer or cookie) or, where allowed, a visitor."""
    cached: Principal | None = g.get("parley_principal")
    if cached is not None:
        return cached if visitors or cached.is_agent else _refuse_visitor()
    principal = _resolve(visitors)
    g.parley_principal = principal
    return principal


def principal_from_auth(auth: Any) -> Principal | None:
    """The principal of a Socket.IO ``auth`` dict or the console cookie of the handshake.

    An ``auth`` dict that names a token is judged by that token alone, never by the cookie
    (``{"token": null}`` is no token). The cookie counts only with an ``Origin`` header,
    which Engine.IO has matched to our own origin: a same-origin polling GET or another
    site's script tag sends none, so such a handshake cannot ride an agent's session.
    """
    from app.services.accounts import authenticate_token

    if isinstance(auth, dict) and ("token" in auth or "visitor_token" in auth):
        token = auth.get("token")
        if isinstance(token, str) and token.startswith(AGENT_TOKEN_PREFIX):
            return authenticate_token(token, kind="bearer")
        visitor_token = auth.get("visitor_token")
        if isinstance(visitor_token, str):
            return visitor_principal(visitor_token)
        return None
    if not request.headers.get("Origin"):
        return None
    user = current_user
    if user is not None and user.is_authenticated and isinstance(user, ConsoleUser):
        return user.principal
    return None


def _resolve(visitors: bool) -> Principal:
    from app.services.accounts import authenticate_token

    raw = bearer_token()
    if raw is not None:
        if raw.startswith(AGENT_TOKEN_PREFIX):
            principal = authenticate_token(raw, kind="bearer")
        else:
            # A valid visitor token on an agent-only endpoint is forbidden, not unauthenticated.
            principal = visitor_principal(raw)
        if principal is None:
            raise Unauthorized("The token is invalid, expired or revoked.")
        if principal.is_visitor and not visitors:
            _refuse_visitor()
        return principal
    user = current_user
    if user is not None and user.is_authenticated and isinstance(user, ConsoleUser):
        _check_csrf()
        return user.principal
    raise Unauthorized("Authentication required.")


def _refuse_visitor() -> Principal:
    raise Forbidden("Visitors may not do this.")


def _check_csrf() -> None:
    """Cookie-authenticated writes need the session's CSRF token and a same-origin Origin."""
    if request.method in _SAFE_METHODS:
        return
    expected = csrf_token()
    sent = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("Missing or wrong CSRF token.")
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise Forbidden("Cross-origin request refused.")
