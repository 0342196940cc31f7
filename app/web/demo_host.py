"""The demo host page: a fake shop on a second origin that embeds the widget like a customer.

``python wsgi.py`` (so ``make run``) serves it from the same process, next to the app, on
``PORT + 1``: ``DEMO_PORT`` sets another port and ``0`` turns it off; with ``PUBLIC_URL`` set
(a deployment) it is off unless ``DEMO_PORT`` is given. See ``app/server.py``. It is a plain
WSGI callable, not part of the Flask app, because it must be another origin than the app it
embeds. ``parley demo`` adds its origin to the demo site's allowed origins and prints it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from typing import Any

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Outfitters: a demo shop with the Parley widget</title>
<style>
  body {{ margin: 0; font: 16px/1.5 Georgia, serif; color: #1f2937; background: #f5f5f4; }}
  header {{ background: #1c1917; color: #fafaf9; padding: 18px 32px; display: flex;
           justify-content: space-between; align-items: center; }}
  header b {{ font-size: 22px; letter-spacing: .5px; }}
  main {{ max-width: 960px; margin: 32px auto; padding: 0 24px; }}
  .note {{ background: #fef9c3; border: 1px solid #fde68a; padding: 12px 16px;
          border-radius: 8px; font: 14px/1.5 system-ui, sans-serif; }}
  .grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
          gap: 20px; margin-top: 24px; }}
  .card {{ background: #fff; border-radius: 10px; padding: 18px;
          box-shadow: 0 1px 3px rgba(0, 0, 0, .1); }}
  .card .img {{ height: 120px; border-radius: 6px; margin-bottom: 12px; }}
  button {{ font: inherit; padding: 8px 14px; border-radius: 6px; border: 1px solid #1c1917;
           background: #fff; cursor: pointer; }}
  code {{ font-size: 13px; word-break: break-all; }}
</style>
<script>
  // The optional stub: calls made before the widget has loaded are queued and replayed.
  window.Parley = window.Parley || {{q: []}};
  ["open", "close", "toggle", "identify", "setLocale", "on"].forEach(function (m) {{
    Parley[m] = Parley[m] || function () {{ Parley.q.push([m].concat([].slice.call(arguments))); }};
  }});
</script>
</head>
<body>
<header><b>Northwind Outfitters</b><button type="button" id="help"
  onclick="Parley.open()">Need help? Chat with us</button></header>
<main>
<p class="note">This is a demo customer site on its own origin. The chat button in the corner
is Parley's widget, loaded from <code>{app_origin}</code> by one script tag:<br>
<code>{shown}</code><br>Log in to the API as an agent (see the README) to answer.</p>
<h1>Autumn collection</h1>
<div class="grid">
  <div class="card"><div class="img" style="background:#b45309"></div>
    <h3>Trail jacket</h3><p>Waterproof, breathable, 129 €</p></div>
  <div class="card"><div class="img" style="background:#15803d"></div>
    <h3>Wool beanie</h3><p>Merino, one size, 24 €</p></div>
  <div class="card"><div class="img" style="background:#1d4ed8"></div>
    <h3>Canvas backpack</h3><p>28 litres, 89 €</p></div>
</div>
</main>
{snippet}
</body>
</html>
"""


def widget_snippet(app_url: str, site_key: str) -> str:
    """The script tag a customer pastes: the same one ``GET /sites/{id}/install`` gives."""
    src = html.escape(app_url.rstrip("/") + "/widget.js", quote=True)
    return (
        f'<script src="{src}" data-site-key="{html.escape(site_key, quote=True)}" async></script>'
    )


def demo_host_app(app_url: str, site_key: str) -> WsgiApp:
    """A WSGI app answering ``GET /`` with the shop page that embeds the widget of ``app_url``."""
    snippet = widget_snippet(app_url, site_key)
    body = _PAGE.format(
        app_origin=html.escape(app_url.rstrip("/")), shown=html.escape(snippet), snippet=snippet
    ).encode()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if environ.get("PATH_INFO", "/") not in ("/", "/index.html"):
            return _plain(start_response, "404 Not Found", b"Not found. The demo shop is at /.\n")
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", b"GET only.\n")
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [b""] if method == "HEAD" else [body]

    return app


def _plain(start_response: StartResponse, status: str, text: bytes) -> list[bytes]:
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text)))]
    )
    return [text]


def demo_port(config: Mapping[str, Any]) -> int | None:
    """The demo host page's port, or ``None`` when it is off.

    ``DEMO_PORT`` if set (``0`` is off); else ``PORT + 1`` for a local run. With
    ``PUBLIC_URL`` set (a deployment, where processes often sit on consecutive ports) it is
    off unless ``DEMO_PORT`` asks for it.
    """
    raw = config.get("DEMO_PORT")
    if raw in (None, ""):
        if config.get("PUBLIC_URL"):
            return None
        return int(config.get("PORT") or 5000) + 1
    try:
        port = int(raw)
    except (TypeError, ValueError):
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(f"DEMO_PORT must be a port number (0 turns it off), not {raw!r}")
    return port or None


def app_url(config: Mapping[str, Any]) -> str:
    """Where browsers reach the app: ``PUBLIC_URL``, else the local address it serves on."""
    public = config.get("PUBLIC_URL")
    if public:
        return str(public).rstrip("/")
    return f"http://127.0.0.1:{config.get('PORT') or 5000}"


def demo_url(config: Mapping[str, Any]) -> str | None:
    """The demo host page's address (this machine), or ``None`` when it is turned off."""
    port = demo_port(config)
    return f"http://127.0.0.1:{port}/" if port else None
