"""OpenID Connect single sign-on for agents, with Authlib's Flask client.

On when ``OIDC_ISSUER``, ``OIDC_CLIENT_ID`` and ``OIDC_CLIENT_SECRET`` are set. The
provider's metadata comes from its discovery document; the state and nonce live in the
Flask session between the redirect and the callback. Only a verified e-mail is trusted.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Response, current_app

from app.errors import NotFound, Unauthorized

_CLIENT = "parley_oidc"
_EXTENSION = "parley_oidc"


def oidc_enabled() -> bool:
    config = current_app.config
    return all(config.get(k) for k in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"))


def provider_name() -> str:
    return str(current_app.config.get("OIDC_PROVIDER_NAME") or "Single sign-on")


def _client() -> Any:
    """This app's Authlib client (one per app, built on first use)."""
    if not oidc_enabled():
        raise NotFound("Single sign-on is not configured.")
    oauth: OAuth | None = current_app.extensions.get(_EXTENSION)
    if oauth is None:
        config = current_app.config
        oauth = OAuth(current_app)
        oauth.register(
            _CLIENT,
            client_id=config["OIDC_CLIENT_ID"],
            client_secret=config["OIDC_CLIENT_SECRET"],
            server_metadata_url=str(config["OIDC_ISSUER"]).rstrip("/")
            + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile"},
        )
        current_app.extensions[_EXTENSION] = oauth
    return oauth.create_client(_CLIENT)


def redirect_to_provider(callback_url: str) -> Response:
    """The 302 to the provider's authorization page (state and nonce kept in the session)."""
    response: Response = _client().authorize_redirect(callback_url)
    return response


def verified_email() -> str:
    """Finish the callback: exchange the code, check the ID token, return its verified e-mail."""
    client = _client()
    try:
        token = client.authorize_access_token()
    except OAuthError as exc:
        raise Unauthorized("The sign-in with the provider failed.") from exc
    claims = dict(token.get("userinfo") or {})
    if "email" not in claims:
        claims.update(client.userinfo(token=token))
    email = claims.get("email")
    if not isinstance(email, str) or not email or claims.get("email_verified") is not True:
        raise Unauthorized("The provider did not confirm an e-mail address.")
    return email
