"""The built widget (widget/dist, made by `make setup`) keeps its size budgets (issue 5)."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import pytest

DIST = Path(__file__).resolve().parent.parent / "widget" / "dist"
LOADER_BUDGET = 4 * 1024
FRAME_BUDGET = 40 * 1024  # the frame app with its Socket.IO client


def _gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


@pytest.fixture(scope="module")
def manifest() -> dict[str, object]:
    path = DIST / "manifest.json"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail("widget/dist is not built")
        pytest.skip("widget/dist is not built: run `make setup`")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_loader_is_at_most_4_kb_gzipped(manifest: dict[str, object]) -> None:
    size = _gzipped(DIST / str(manifest["loader"]))
    assert size <= LOADER_BUDGET, f"loader is {size} bytes gzipped"


def test_frame_app_with_socketio_is_at_most_40_kb_gzipped(manifest: dict[str, object]) -> None:
    assets = DIST / "assets"
    size = _gzipped(assets / str(manifest["frame_js"])) + _gzipped(
        assets / str(manifest["frame_css"])
    )
    assert size <= FRAME_BUDGET, f"frame app is {size} bytes gzipped"
    # It really carries the Socket.IO client (bundled: the frame's CSP allows only 'self').
    source = (assets / str(manifest["frame_js"])).read_text()
    assert "socket.io" in source


def test_frame_assets_have_content_hashed_names(manifest: dict[str, object]) -> None:
    for name in (manifest["frame_js"], manifest["frame_css"]):
        assert re.fullmatch(r"[a-z-]+-[A-Z0-9]{8,}\.(js|css)", str(name)), name
        assert str(name) in manifest["assets"]  # type: ignore[operator]


def test_loader_and_frame_render_no_html_from_data() -> None:
    """Data reaches the DOM only as text: the sources never assign innerHTML/outerHTML."""
    for source in (DIST.parent / "src").glob("*.js"):
        text = source.read_text()
        assert not re.search(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write)\b", text)
