"""Agent bearer tokens (random, stored hashed) and signed visitor tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

AGENT_TOKEN_PREFIX = "pk_"  # noqa: S105 - a prefix, not a secret
AGENT_TOKEN_TTL = timedelta(days=30)
CONSOLE_SESSION_TTL = timedelta(days=14)
VISITOR_TOKEN_MAX_AGE_S = 400 * 24 * 3600
_VISITOR_SALT = "parley.visitor-token.v1"


def new_agent_token() -> str:
    """A fresh bearer token: 256 bits from the OS CSPRNG."""
    return AGENT_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def sign_visitor_token(secret_key: str, site_id: str, visitor_id: str) -> str:
    """A token binding one visitor id to one site (its audience), signed and timestamped."""
    return URLSafeTimedSerializer(secret_key, salt=_VISITOR_SALT).dumps(
        {"s": site_id, "v": visitor_id}
    )


def read_visitor_token(secret_key: str, raw: object) -> tuple[str, str] | None:
    """``(site_id, visitor_id)`` from a valid, unexpired token, else None."""
    if not isinstance(raw, str) or not raw or len(raw) > 512:
        return None
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_VISITOR_SALT).loads(
            raw, max_age=VISITOR_TOKEN_MAX_AGE_S
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    site_id, visitor_id = data.get("s"), data.get("v")
    if not isinstance(site_id, str) or not isinstance(visitor_id, str):
        return None
    return site_id, visitor_id


def identity_hash(site_secret: str, external_id: str) -> str:
    """The ``user_hash`` a site's back end computes: hex HMAC-SHA256(site_secret, external_id)."""
    return hmac.new(site_secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def identity_hash_matches(site_secret: str, external_id: str, user_hash: str) -> bool:
    """Constant-time check of a visitor's ``user_hash``."""
    expected = identity_hash(site_secret, external_id)
    return hmac.compare_digest(expected, user_hash.strip().lower())
