"""Real server processes and real Socket.IO clients for the real-time tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import engineio.payload
import requests
import socketio

# python-engineio's client aborts a long-polling response that carries more than 16 packets
# (a guard against hostile servers). A busy ticket easily queues more between two polls,
# so a polling client that follows a group room must allow more; the JS client has no cap.
engineio.payload.Payload.max_decode_packets = 1000


ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_pair() -> int:
    """A free port whose successor is free too (the app and its demo host page)."""
    for _ in range(100):
        port = free_port()
        if port >= 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


def demo_database(folder: Path, port: int) -> str:
    """A SQLite database migrated and given the demo, as ``make run`` does for ``PORT``."""
    url = f"sqlite:///{folder}/parley.db"
    flask = Path(sys.executable).with_name("flask")
    base = [str(flask)] if flask.exists() else [sys.executable, "-m", "flask"]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ASYNC_MODE": "threading",
        "PORT": str(port),
        "DEMO_PORT": "",
        "PUBLIC_URL": "",
        "REDIS_URL": "",
        "FLASK_SKIP_DOTENV": "1",
    }
    for args in (["db", "upgrade"], ["parley", "demo"]):
        done = subprocess.run(
            [*base, "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    return url


class Server:
    """``python wsgi.py`` on a free loopback port, with its log kept for failures."""

    def __init__(
        self,
        env: dict[str, str],
        async_mode: str = "eventlet",
        command: list[str] | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.command = [
            c.replace("{port}", str(self.port)) for c in command or [sys.executable, "wsgi.py"]
        ]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"parley-server-{self.port}.log"
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "ASYNC_MODE": async_mode,
            "SECRET_KEY": "live-test-secret",
            "PRESENCE_TTL_S": "4",
            "PRESENCE_SWEEP_S": "1",
            "SOCKET_REVALIDATE_S": "1",
            "PYTHONUNBUFFERED": "1",
            "DEMO_PORT": "0",  # no demo host page unless a test asks for it
            **env,
        }
        if "REDIS_URL" not in env:
            self.env.pop("REDIS_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


class Api:
    """REST calls against a live server."""

    def __init__(self, url: str) -> None:
        self.url = url + "/api/v1"

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)
        assert r.status_code < 300, (r.status_code, r.text)
        return r.json() if r.content else None

    def signup(self, workspace: str = "Acme") -> dict[str, Any]:
        email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
        return self.call(
            "POST",
            "/auth/signup",
            json={  # type: ignore[no-any-return]
                "workspace_name": workspace,
                "name": "Olive Owner",
                "email": email,
                "password": PASSWORD,
            },
        )

    def add_agent(self, owner_token: str, name: str = "Alex Agent") -> dict[str, Any]:
        email = f"agent-{uuid.uuid4().hex[:10]}@example.com"
        self.call(
            "POST",
            "/agents",
            owner_token,
            json={"name": name, "email": email, "password": PASSWORD, "role": "agent"},
        )
        r = requests.post(
            self.url + "/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def site(self, owner_token: str, **settings: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"name": "Shop", "allowed_origins": ["https://shop.example"]}
        if settings:
            body["settings"] = settings
        return self.call("POST", "/sites", owner_token, json=body)["site"]  # type: ignore[no-any-return]

    def visitor(self, site: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"site_key": site["site_key"]}
        if token:
            body["visitor_token"] = token
        return self.call("POST", "/widget/session", json=body)  # type: ignore[no-any-return]


@dataclass
class Client:
    """A python-socketio client that records every event it receives."""

    url: str
    auth: dict[str, Any] | None
    transports: list[str]
    headers: dict[str, str] | None = None
    events: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._on_disconnect)
        self.disconnect_reasons: list[str] = []

    def _on_disconnect(self, reason: Any = None) -> None:
        self.disconnect_reasons.append(str(reason))

    def _record(self, event: str, data: Any = None) -> None:
        with self._cond:
            self.events.append((event, data))
            self._cond.notify_all()

    def connect(self) -> Client:
        self.sio.connect(
            self.url,
            auth=self.auth,
            transports=self.transports,
            headers=self.headers or {},
            wait_timeout=10,
        )
        return self

    def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        return self.sio.call(event, data, timeout=timeout)

    def emit(self, event: str, data: Any = None) -> None:
        self.sio.emit(event, data)

    def send(
        self,
        body: str,
        ticket_id: str | None = None,
        client_id: str | None = None,
        kind: str = "text",
    ) -> Any:
        payload: dict[str, Any] = {
            "client_id": client_id or uuid.uuid4().hex,
            "body": body,
            "kind": kind,
        }
        if ticket_id:
            payload["ticket_id"] = ticket_id
        return self.call("message:send", payload)

    def of(self, event: str) -> list[Any]:
        with self._cond:
            return [d for e, d in self.events if e == event]

    def wait_for(
        self, event: str, predicate: Callable[[Any], bool] = lambda d: True, timeout: float = 10
    ) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e, d in self.events:
                    if e == event and predicate(d):
                        return d
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no {event} matching in {timeout}s; got "
                        f"{[e for e, _ in self.events][-20:]}"
                    )
                self._cond.wait(remaining)

    def messages(self) -> list[dict[str, Any]]:
        return [d["message"] for d in self.of("message:new")]

    def disconnect(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def settle(seconds: float = 0.3) -> None:
    """Give in-flight events a moment when asserting that something did NOT arrive."""
    time.sleep(seconds)
