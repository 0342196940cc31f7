"""Log-in with brute-force throttling: failures counted per e-mail and per client address."""

from __future__ import annotations

from app.errors import Unauthorized
from app.services import accounts
from app.services.rate_limits import RateLimits


def login(
    limits: RateLimits, email: str, password: str, *, address: str, console_session: bool
) -> accounts.Session:
    """``accounts.login`` unless the e-mail or address failed too often (``Throttled``).

    A wrong password counts against both; a right one (while still allowed) clears the
    e-mail's count, so a few typos do not add up over the day.
    """
    limits.check_login(email, address)
    try:
        result = accounts.login(email, password, console_session=console_session)
    except Unauthorized:
        limits.login_failed(email, address)
        raise
    limits.login_succeeded(email)
    return result
