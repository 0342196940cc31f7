"""Security headers every response carries (a page may set stricter ones of its own)."""

from __future__ import annotations

from flask import Flask, Response, request

#: Pages that are not meant to be framed (everything but the widget frame, which sets its own
#: ``frame-ancestors`` from the site's allowed origins).
_DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
#: Powerful browser features no Parley page uses, off for the page and anything it frames.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if "Content-Security-Policy" not in headers and response.mimetype in (
            "application/json",
            "text/html",
        ):
            headers["Content-Security-Policy"] = _DEFAULT_CSP
            headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path.startswith("/api/"):
            # Answers depend on who asks: never stored by shared caches.
            response.cache_control.private = True
            response.cache_control.no_store = True
            response.vary.add("Cookie")
            response.vary.add("Authorization")
        return response
