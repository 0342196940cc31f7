"""The client examples in docs/PROTOCOL.md run against a live server, in Node and Python."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.live import ROOT, Api, Server

EXAMPLES = ROOT / "examples"


def _expect(output: str) -> None:
    lines = output.lower().splitlines()  # Python prints True, JS prints true
    assert any(line.startswith("ack true seq 1 ticket ") for line in lines), output
    assert "resend duplicate true seq 1" in lines, output
    assert "new 1 hello from" in output.lower(), output

    assert "sync 1" in lines, output


@pytest.fixture
def site_key(live_server: Server) -> str:
    api = Api(live_server.url)
    owner = api.signup()
    return str(api.site(owner["token"])["site_key"])


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_python_example_chats(live_server: Server, site_key: str, transport: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "python_client.py"), live_server.url, site_key, transport],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    _expect(result.stdout)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_js_example_chats(live_server: Server, site_key: str, transport: str) -> None:
    node = shutil.which("node")
    assert node, "Node.js is required (make test installs the example's packages)"
    assert (EXAMPLES / "js" / "node_modules" / "socket.io-client").exists(), "run make setup"
    result = subprocess.run(
        [node, str(EXAMPLES / "js" / "client.mjs"), live_server.url, site_key, transport],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    _expect(result.stdout)
