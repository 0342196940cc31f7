"""The console cookie's transport security: Secure whenever the browser came over TLS.

TLS usually ends at a reverse proxy, so the app sees plain HTTP. With ``TRUSTED_PROXIES=N``
(the number of proxies in front of the app) Werkzeug's ``ProxyFix`` takes the scheme, host
and client address from the ``X-Forwarded-*`` headers those proxies set; without it the
headers are ignored, because any client could send them. The session cookie is then marked
``Secure`` when the request was HTTPS (directly or per the trusted proxy), or always with
``SESSION_COOKIE_SECURE=1`` / an ``https://`` ``PUBLIC_URL`` (app/config.py).
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


class TlsAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, ``Secure`` on every response to an HTTPS request."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if super().get_cookie_secure(app):
            return True
        return has_request_context() and request.is_secure


def register(app: Flask) -> None:
    """Use the TLS-aware session cookie; trust ``TRUSTED_PROXIES`` proxies' forwarded headers.

    Call after Socket.IO is set up, so the proxy fix also runs before its handshakes.
    """
    app.session_interface = TlsAwareSessionInterface()
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
