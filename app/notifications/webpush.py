"""Web Push with VAPID (RFC 8291 aes128gcm payloads, RFC 8292 VAPID) through pywebpush.

Keys come from ``VAPID_PRIVATE_KEY`` (raw P-256 scalar, base64url, as ``parley vapid-keys``
prints); without one, a key is generated once and kept in the instance folder so
``make run`` needs no set-up. The public key is always derived from the private one.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import time
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid
from pywebpush import WebPusher

from app.extensions import db
from app.limits import OUTGOING_TIMEOUT_S
from app.models import Delivery, PushSubscription
from app.notifications.outcome import Outcome, from_status
from app.notifications.outgoing import BlockedDestination, guarded_session
from app.notifications.payloads import push_payload

#: How long a push service keeps an undelivered push (the device may be asleep).
PUSH_TTL_S = 24 * 3600
#: VAPID tokens are valid this long (RFC 8292 allows at most 24 hours).
VAPID_TOKEN_S = 12 * 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def generate_private_key() -> str:
    """A new VAPID private key: the raw P-256 scalar, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def _instance_key() -> str:
    path = os.path.join(current_app.instance_path, "vapid_private_key")
    if not os.path.exists(path):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_private_key())
    with open(path) as handle:
        return handle.read().strip()


def private_key() -> str:
    """The configured VAPID private key, or this instance's generated one."""
    return str(current_app.config.get("VAPID_PRIVATE_KEY") or _instance_key())


@functools.lru_cache(maxsize=4)
def _vapid(private: str) -> Vapid:
    return Vapid.from_string(private_key=private)


def public_key() -> str:
    """The application server key browsers subscribe with (uncompressed point, base64url)."""
    key = _vapid(private_key()).public_key
    raw = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)


def vapid_headers(endpoint: str) -> dict[str, str]:
    """``Authorization: vapid t=<JWT>, k=<public key>`` for the endpoint's push service."""
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(time.time()) + VAPID_TOKEN_S,
        "sub": str(current_app.config.get("VAPID_SUBJECT") or "mailto:admin@localhost"),
    }
    return dict(_vapid(private_key()).sign(claims))


def send_push(delivery: Delivery) -> Outcome:
    """Encrypt and send one push; classify the push service's answer."""
    sub = db.session.get(PushSubscription, delivery.subscription_id)
    if sub is None:
        return Outcome("gone", None, "subscription deleted")
    payload = push_payload(delivery)
    if payload is None:
        return Outcome("failed", None, "ticket or message deleted")
    headers = vapid_headers(sub.endpoint)
    headers["Urgency"] = "high"
    headers["Topic"] = (delivery.ticket_id or "parley")[:32]
    info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
    session = guarded_session(allow_private=bool(current_app.config.get("PUSH_ALLOW_PRIVATE")))
    try:
        response = WebPusher(info, requests_session=session).send(
            json.dumps(payload, separators=(",", ":")),
            headers,
            ttl=PUSH_TTL_S,
            content_encoding="aes128gcm",
            timeout=OUTGOING_TIMEOUT_S,
        )
    except BlockedDestination:
        return Outcome("gone", None, "endpoint is not a public address")
    except requests.TooManyRedirects as exc:
        status = exc.response.status_code if exc.response is not None else None
        return Outcome("failed", status, "redirects are not followed")
    except (requests.ConnectionError, requests.Timeout) as exc:
        return Outcome("retry", None, type(exc).__name__)
    except (ValueError, TypeError) as exc:  # keys a browser would never send
        return Outcome("gone", None, f"bad subscription keys ({type(exc).__name__})")
    finally:
        session.close()
    if not isinstance(response, requests.Response):  # pragma: no cover - only with curl=True
        return Outcome("failed", None, "no response")
    return from_status(response.status_code, response.headers.get("Retry-After"), gone_on_404=True)
