"""The embeddable widget's files: the loader, the frame page and its hashed assets.

Transport only. The files come from ``widget/dist/`` (built by ``npm run build`` in
``widget/``, which ``make`` runs); ``manifest.json`` there names the content-hashed assets of
the frame. Without a build every route answers 503 ``unavailable`` instead of failing.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.errors import NotFound
from app.services.widget import site_by_key
from app.web.builds import BuildCache, hashed_asset

bp = Blueprint("widget", __name__)

#: The loader's URL never changes, so browsers keep it only briefly and then revalidate.
LOADER_MAX_AGE_S = 300
#: The launcher's look (colour, position, locale) changes rarely: browsers keep it 5 minutes.
LOOK_MAX_AGE_S = 300

MAX_SITE_KEY_CHARS = 64

_FRAME_HTML = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="parley"></div>
<script src="{js}"></script>
</body>
</html>
"""


@dataclass(frozen=True)
class Build:
    """What one ``npm run build`` produced: the loader's bytes and the frame's asset names."""

    folder: str
    loader: bytes
    loader_etag: str
    frame_js: str
    frame_css: str
    assets: frozenset[str]
    #: The visitors' push service worker (sites copy it to their own origin), if built.
    service_worker: bytes | None = None


def dist_folder() -> str:
    return _builds.folder()


def current_build() -> Build:
    """The build in ``widget/dist``, re-read when its manifest changes; 503 if there is none."""
    return _builds.current()


def _read_build(folder: str, manifest_path: str) -> Build:
    with open(manifest_path, encoding="utf-8") as handle:
        manifest: dict[str, Any] = json.load(handle)
    with open(os.path.join(folder, manifest["loader"]), "rb") as handle:
        loader = handle.read()
    assets = frozenset(str(name) for name in manifest["assets"])
    worker: bytes | None = None
    if manifest.get("service_worker"):
        with open(os.path.join(folder, str(manifest["service_worker"])), "rb") as handle:
            worker = handle.read()
    for name in assets:
        if not os.path.isfile(os.path.join(folder, "assets", name)):
            raise ValueError(f"missing asset {name}")
    return Build(
        folder=folder,
        loader=loader,
        loader_etag=str(manifest["loader_hash"]),
        frame_js=str(manifest["frame_js"]),
        frame_css=str(manifest["frame_css"]),
        assets=assets,
        service_worker=worker,
    )


@bp.get("/widget.js")
def loader() -> Response:
    """The script tag's loader: a stable URL, cached briefly and revalidated by ETag."""
    build = current_build()
    response = Response(build.loader, mimetype="text/javascript")
    response.set_etag(build.loader_etag)
    response.cache_control.public = True
    response.cache_control.max_age = LOADER_MAX_AGE_S
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.make_conditional(request)  # 304 when the browser's copy is current
    return response


@bp.get("/widget/sw.js")
def service_worker() -> Response:
    """The service worker a site serves from its own origin to offer visitors web push
    (docs/NOTIFICATIONS.md): a file to copy, so any page may fetch it."""
    build = current_build()
    if build.service_worker is None:
        raise NotFound("This build has no service worker.")
    response = Response(build.service_worker, mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = LOADER_MAX_AGE_S
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/widget/look")
def look() -> Response:
    """The launcher's colour, position and locale, for a browser whose frame never ran (the
    loader asks once, then keeps what the frame tells it). Public: any page may read it."""
    site_key = request.args.get("site_key", "")
    if not site_key or len(site_key) > MAX_SITE_KEY_CHARS:
        raise NotFound("Unknown site key.")
    settings = site_by_key(site_key)["settings"]
    response = jsonify(
        color=settings.get("color"),
        position=settings.get("position"),
        locale=settings.get("locale"),
    )
    response.cache_control.public = True
    response.cache_control.max_age = LOOK_MAX_AGE_S
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/widget/frame")
def frame() -> Response:
    """The page inside the widget's iframe; only the site's allowed origins may frame it."""
    build = current_build()
    site_key = request.args.get("site_key", "")
    if not site_key or len(site_key) > MAX_SITE_KEY_CHARS:
        raise NotFound("Unknown site key.")
    site = site_by_key(site_key)
    settings = site["settings"]
    lang = str(settings.get("locale") or "en").split("-")[0]
    page = _FRAME_HTML.format(
        lang=html.escape(lang, quote=True),
        title=html.escape(str(settings.get("title") or site["name"]), quote=True),
        css=html.escape(f"/widget/assets/{build.frame_css}", quote=True),
        js=html.escape(f"/widget/assets/{build.frame_js}", quote=True),
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = frame_policy(
        list(site["allowed_origins"]), request.host
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.cache_control.no_cache = True
    response.cache_control.private = True
    return response


@bp.get("/widget/assets/<path:name>")
def asset(name: str) -> Response:
    """A content-hashed file of the frame app: immutable, cached for a year."""
    build = current_build()
    return hashed_asset(build.folder, build.assets, name, "widget")


def frame_policy(allowed_origins: list[str], host: str) -> str:
    """The frame's CSP: our own scripts, styles and sockets only; framed by the site's origins.

    An empty ``allowed_origins`` lets any page frame the widget (CONTRACT section 6).
    """
    ancestors = [o for o in allowed_origins if o and not any(c in o for c in " ;,'\"\t\r\n")]
    sockets = f" ws://{host} wss://{host}" if host and _plain_host(host) else ""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self'{sockets}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors " + (" ".join(ancestors) if ancestors else "*"),
        )
    )


def _plain_host(host: str) -> bool:
    return all(c.isalnum() or c in ".-:[]" for c in host)


_builds: BuildCache[Build] = BuildCache("WIDGET_DIST", "widget", _read_build)
