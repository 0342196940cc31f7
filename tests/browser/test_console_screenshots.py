"""The console's documentation screenshots can be taken (into a temporary folder here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.console_screenshots import populate, take_console_screenshots
from tests.browser.console_support import console_built
from tests.live import Api, Server

__all__ = ["console_built"]


def test_console_screenshots_are_taken(
    console_built: None, app_server: Server, api: Api, browser: Any, tmp_path: Path
) -> None:
    _, visitors = populate(api, app_server.url)
    try:
        paths = take_console_screenshots(browser, app_server.url, tmp_path, visitors)
    finally:
        for client in visitors:
            client.disconnect()
    names = sorted(p.name for p in paths)
    assert names == [
        f"console-{n}.png" for n in sorted(["inbox", "login", "reports", "settings", "tablet"])
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5_000
