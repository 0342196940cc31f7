"""The idempotent demo workspace that ``make run`` creates."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from marshmallow import ValidationError
from sqlalchemy import select

from app.auth.passwords import hash_password
from app.models import Agent, CannedResponse, FaqEntry, Site, Workspace
from app.schemas.base import normalize_origin
from app.services.transaction import write_transaction

DEMO_SITE_KEY = "demo-site-key"

_FAQ = [
    (
        "refunds",
        "How do I get a refund?",
        "You can ask for a refund within 30 days from Settings > Billing > Refund.",
        ["Can I get my money back?", "refund policy"],
    ),
    (
        "hours",
        "When are you open?",
        "Our team answers from 9:00 to 17:00, Monday to Friday.",
        ["opening hours"],
    ),
    (
        "password",
        "How do I reset my password?",
        "Click 'Forgot password' on the sign-in page and follow the e-mail we send you.",
        ["I forgot my password", "reset password"],
    ),
]


@dataclass(frozen=True)
class Demo:
    agent_id: str
    site_id: str
    site_key: str


def ensure_demo(
    email: str,
    password: str,
    workspace_name: str,
    base_url: str,
    demo_page_url: str | None = None,
) -> Demo:
    """Create the demo owner, a second agent, a site, FAQ and canned replies if absent.

    The site may be framed by the app's own origin and by the demo host page's
    (``demo_page_url``); origins missing from an existing demo site are added, once.
    """
    with write_transaction() as session:
        owner = session.scalar(select(Agent).where(Agent.email == email))
        if owner is None:
            workspace = Workspace(name=workspace_name, settings={})
            session.add(workspace)
            session.flush()
            owner = Agent(
                workspace_id=workspace.id,
                name="Dana Demo",
                email=email,
                password_hash=hash_password(password),
                role="owner",
            )
            session.add(owner)
            session.add(
                Agent(
                    workspace_id=workspace.id,
                    name="Sam Support",
                    email="sam@parley.local",
                    password_hash=hash_password(password),
                    role="agent",
                )
            )
            session.flush()
        site = session.scalar(
            select(Site).where(Site.workspace_id == owner.workspace_id).order_by(Site.created_at)
        )
        wanted = [o for o in (_origin(base_url), _origin(demo_page_url)) if o]
        if site is not None:
            # Served on another port or PUBLIC_URL now: the demo host page must still embed it.
            missing = [o for o in wanted if o not in (site.allowed_origins or [])]
            if missing:
                site.allowed_origins = [*(site.allowed_origins or []), *missing]
        if site is None:
            site = Site(
                workspace_id=owner.workspace_id,
                name="Demo site",
                site_key=DEMO_SITE_KEY,
                site_secret="demo-secret-" + owner.id,
                allowed_origins=list(dict.fromkeys(wanted)),
                settings={"bot_enabled": True},
            )
            session.add(site)
            session.flush()
            for key, question, answer, alternatives in _FAQ:
                session.add(
                    FaqEntry(
                        workspace_id=owner.workspace_id,
                        site_id=site.id,
                        external_id=key,
                        question=question,
                        answer=answer,
                        alternatives=alternatives,
                    )
                )
            for shortcut, body in (
                ("hello", "Hi! Thanks for reaching out. How can I help?"),
                ("bye", "Glad I could help. Have a great day!"),
            ):
                session.add(
                    CannedResponse(workspace_id=owner.workspace_id, shortcut=shortcut, body=body)
                )
        return Demo(agent_id=owner.id, site_id=site.id, site_key=site.site_key)


def _origin(url: str | None) -> str | None:
    """The web origin of ``url``, if it has one."""
    if not url:
        return None
    parts = urlsplit(url)
    try:
        return normalize_origin(f"{parts.scheme}://{parts.netloc}")
    except ValidationError:
        return None


__all__ = ["Demo", "ensure_demo"]
