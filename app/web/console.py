"""The agent console's files: the page at ``/console/`` and its content-hashed assets.

Transport only. The files come from ``agent_console/dist/`` (built by ``npm run build`` in
``agent_console/``, which ``make`` runs); ``manifest.json`` there names the hashed script and
stylesheet. The page carries a strict CSP: our own script and styles, no inline code, sockets
to this host only, frames (the widget preview) from this origin only, never framed itself.
Without a build every route answers 503 ``unavailable`` instead of failing.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, redirect, request, send_from_directory
from werkzeug.wrappers import Response as BaseResponse

from app.errors import NotFound
from app.web.builds import BuildCache, hashed_asset

bp = Blueprint("console", __name__)


_PAGE_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Parley console</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="app"></div>
<script src="{js}"></script>
</body>
</html>
"""


@dataclass(frozen=True)
class ConsoleBuild:
    """What one ``npm run build`` produced: the folder and the hashed asset names."""

    folder: str
    js: str
    css: str
    service_worker: str | None
    assets: frozenset[str]


def dist_folder() -> str:
    return _builds.folder()


def current_build() -> ConsoleBuild:
    """The build in ``agent_console/dist``, re-read when its manifest changes; else 503."""
    return _builds.current()


def _read_build(folder: str, manifest_path: str) -> ConsoleBuild:
    with open(manifest_path, encoding="utf-8") as handle:
        manifest: dict[str, Any] = json.load(handle)
    assets = frozenset(str(name) for name in manifest["assets"])
    for name in assets:
        if not os.path.isfile(os.path.join(folder, "assets", name)):
            raise ValueError(f"missing asset {name}")
    worker = manifest.get("service_worker")
    if worker is not None and not os.path.isfile(os.path.join(folder, str(worker))):
        raise ValueError("missing service worker")
    return ConsoleBuild(
        folder=folder,
        js=str(manifest["js"]),
        css=str(manifest["css"]),
        service_worker=str(worker) if worker else None,
        assets=assets,
    )


@bp.get("/console")
def console_root() -> BaseResponse:
    return redirect("/console/", code=308)


@bp.get("/console/")
def page() -> Response:
    """The single page of the console; it routes by the URL's fragment (``#/inbox/...``)."""
    build = current_build()
    body = _PAGE_HTML.format(
        css=html.escape(f"/console/assets/{build.css}", quote=True),
        js=html.escape(f"/console/assets/{build.js}", quote=True),
    )
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = console_policy(request.host)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.cache_control.no_cache = True
    response.cache_control.private = True
    return response


@bp.get("/console/assets/<path:name>")
def asset(name: str) -> Response:
    """A content-hashed file of the console: immutable, cached for a year."""
    build = current_build()
    return hashed_asset(build.folder, build.assets, name, "console")


@bp.get("/console/sw.js")
def service_worker() -> Response:
    """The console's service worker (web push): a stable URL inside the console's scope."""
    build = current_build()
    if not build.service_worker:
        raise NotFound("This console build has no service worker.")
    response = send_from_directory(build.folder, build.service_worker, max_age=0)
    response.mimetype = "text/javascript"
    response.cache_control.no_cache = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def console_policy(host: str) -> str:
    """No inline code, nothing from other origins; the widget preview frames our own pages."""
    sockets = f" ws://{host} wss://{host}" if host and _plain_host(host) else ""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self'{sockets}",
            "frame-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _plain_host(host: str) -> bool:
    return all(c.isalnum() or c in ".-:[]" for c in host)


_builds: BuildCache[ConsoleBuild] = BuildCache("CONSOLE_DIST", "agent_console", _read_build)
