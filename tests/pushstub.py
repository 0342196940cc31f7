"""A push service on loopback, for the web push tests.

It checks what a real push service checks (RFC 8292): the ``Authorization: vapid t=<JWT>,
k=<key>`` header, the JWT's ES256 signature under ``k``, ``aud`` = the endpoint's origin and
an ``exp`` in the next 24 hours; then it decrypts the aes128gcm body (RFC 8291) with the
subscription's private key, as the browser would. Each subscription (``Subscriber``) can be
told to answer with given statuses first (503, 429 + Retry-After, 410) or to hold a request
until released.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """One browser's subscription: its key pair, auth secret and what it received."""

    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str = ""
    #: Statuses (with optional headers) to answer before accepting, in order.
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    hold: threading.Event | None = None
    held: threading.Event = field(default_factory=threading.Event)

    @property
    def keys(self) -> dict[str, str]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(public), "auth": b64url(self.auth)}

    @property
    def subscription(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": self.keys}


class PushStub:
    """``with PushStub(vapid_public_key) as stub: sub = stub.subscriber()``."""

    def __init__(self, vapid_public_key: str | None = None) -> None:
        self.vapid_public_key = vapid_public_key
        self.subscribers: dict[str, Subscriber] = {}
        self.errors: list[str] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                stub._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PushStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        for sub in self.subscribers.values():
            if sub.hold is not None:
                sub.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def subscriber(self) -> Subscriber:
        token = b64url(os.urandom(12))
        sub = Subscriber(token, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        sub.endpoint = f"{self.origin}/push/{token}"
        self.subscribers[token] = sub
        return sub

    def wait_for(self, sub: Subscriber, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Wait until ``sub`` received ``count`` pushes; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(sub.received) >= count:
                return list(sub.received)
            time.sleep(0.05)
        raise AssertionError(
            f"{len(sub.received)} of {count} pushes after {timeout}s; errors: {self.errors}"
        )

    # -- the push service's side ------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        token = request.path.rsplit("/", 1)[-1]
        sub = self.subscribers.get(token)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        if sub is None:
            self._answer(request, 404)
            return
        with self.lock:
            sub.attempts += 1
            scripted = sub.script.pop(0) if sub.script else None
        if sub.hold is not None and not sub.hold.is_set():
            sub.held.set()
            sub.hold.wait(120)
            return  # the sender was killed meanwhile: nothing is delivered
        if scripted is not None:
            self._answer(request, scripted[0], scripted[1])
            return
        problem = self._check_vapid(request.headers.get("Authorization", ""), sub)
        if problem is None and request.headers.get("Content-Encoding") != "aes128gcm":
            problem = "Content-Encoding is not aes128gcm"
        if problem is None:
            try:
                plain = http_ece.decrypt(
                    body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm"
                )
                payload = json.loads(plain)
            except Exception as exc:  # the test fails on any error recorded here
                problem = f"cannot decrypt: {exc!r}"
        if problem is not None:
            self.errors.append(problem)
            self._answer(request, 403)
            return
        sub.received.append(
            {
                "payload": payload,
                "ttl": request.headers.get("TTL"),
                "topic": request.headers.get("Topic"),
                "urgency": request.headers.get("Urgency"),
            }
        )
        self._answer(request, 201)

    def _answer(
        self, request: BaseHTTPRequestHandler, status: int, headers: dict[str, str] | None = None
    ) -> None:
        request.send_response(status)
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def _check_vapid(self, header: str, sub: Subscriber) -> str | None:
        if not header.startswith("vapid "):
            return f"no vapid Authorization header: {header[:20]!r}"
        parts = dict(p.strip().split("=", 1) for p in header[len("vapid ") :].split(","))
        token, key = parts.get("t", ""), parts.get("k", "")
        if self.vapid_public_key and key != self.vapid_public_key:
            return "k is not the application server key the browser subscribed with"
        try:
            signing_input, _, signature = token.rpartition(".")
            head_b64, claims_b64 = signing_input.split(".")
            head, claims = json.loads(unb64url(head_b64)), json.loads(unb64url(claims_b64))
            raw = unb64url(signature)
            der = encode_dss_signature(
                int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
            )
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
            public.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "the VAPID JWT signature does not verify"
        except Exception as exc:
            return f"malformed VAPID token: {exc!r}"
        if head.get("alg") != "ES256":
            return f"alg is {head.get('alg')!r}"
        if claims.get("aud") != self.origin:
            return f"aud {claims.get('aud')!r} is not {self.origin}"
        now = time.time()
        if not now < float(claims.get("exp", 0)) <= now + 24 * 3600:
            return "exp is not within the next 24 hours"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return "sub is not a mailto: or https: URL"
        return None


class JobRecorder:
    """A job backend for in-process tests: jobs wait in a list until the test runs them,
    each in a fresh app context as a worker would; delayed ones only when asked to."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.jobs: list[tuple[str, tuple[Any, ...], float]] = []

    def enqueue(self, name: str, args: tuple[Any, ...], delay: float) -> None:
        self.jobs.append((name, args, delay))

    def delayed(self, name: str | None = None) -> list[tuple[str, tuple[Any, ...], float]]:
        return [j for j in self.jobs if j[2] > 0 and (name is None or j[0] == name)]

    def run(self, *, delayed: bool = False, rounds: int = 20) -> list[tuple[str, Any]]:
        """Run queued jobs (and the jobs they queue) until none is due; with ``delayed``,
        also those scheduled for later. Returns ``(name, result)`` per job run."""
        from app.jobs.runner import job_function

        results: list[tuple[str, Any]] = []
        for _ in range(rounds):
            due = [j for j in self.jobs if delayed or j[2] <= 0]
            if not due:
                break
            self.jobs = [j for j in self.jobs if j not in due]
            for name, args, _delay in due:
                with self.app.app_context():
                    results.append((name, job_function(name)(*args)))
            delayed = False
        return results
