"""Cached reads of the widget's hot path: a site by its public key, and whether agents are on.

A site is cached as plain data (never its secret) under its ``site_key`` and forgotten after
every committed change (``forget_site``). The presence summary of a workspace lives a few
seconds and is forgotten whenever one of its agents' presence changes (``forget_presence``).
"""

from __future__ import annotations

import copy
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Agent, Site
from app.schemas.sites import DEFAULT_SETTINGS
from app.services import presence_store
from app.services.cache import cache, forget_after_commit

#: A site read through the cache is at most this old if a change bypassed the services.
SITE_TTL_S = 60.0
#: The "agents online" summary is at most this old if an invalidation was missed.
PRESENCE_TTL_S = 5.0


class PublicSite(TypedDict):
    """What the widget needs of a site: no secret, settings with defaults filled in."""

    id: str
    workspace_id: str
    name: str
    site_key: str
    allowed_origins: list[str]
    settings: dict[str, Any]
    installed: bool


def site_cache_key(site_key: str) -> str:
    return f"site:{site_key}"


def presence_cache_key(workspace_id: str) -> str:
    return f"online:{workspace_id}"


def public_site(site_key: str) -> PublicSite | None:
    """The site with this public key, or ``None`` (unknown keys are never cached)."""
    if not site_key:
        return None

    def load() -> PublicSite | None:
        site = db.session.scalar(select(Site).where(Site.site_key == site_key))
        return None if site is None else public_site_data(site)

    found: PublicSite | None = cache().get(site_cache_key(site_key), SITE_TTL_S, load)
    return found


def public_site_data(site: Site) -> PublicSite:
    settings = copy.deepcopy(DEFAULT_SETTINGS)
    settings.update(site.settings or {})
    return PublicSite(
        id=site.id,
        workspace_id=site.workspace_id,
        name=site.name,
        site_key=site.site_key,
        allowed_origins=list(site.allowed_origins or []),
        settings=settings,
        installed=site.first_visitor_at is not None,
    )


def forget_site(session: Session | None, *site_keys: str) -> None:
    """A site changed (or its key did): its cached copies go once ``session`` commits
    (at once when the change is already committed: ``session`` is ``None``)."""
    keys = [site_cache_key(k) for k in site_keys if k]
    if session is None:
        cache().forget(*keys)
    else:
        forget_after_commit(session, *keys)


def agents_online(workspace_id: str) -> bool:
    """Whether an active agent of the workspace is connected and chose to be online."""

    def load() -> dict[str, bool]:
        agents = db.session.execute(
            select(Agent.id, Agent.availability).where(
                Agent.workspace_id == workspace_id, Agent.is_active.is_(True)
            )
        ).all()
        live = presence_store.statuses("agent", [a.id for a in agents])
        online = any(live.get(a.id) == "online" and a.availability == "online" for a in agents)
        return {"online": online}

    summary = cache().get(presence_cache_key(workspace_id), PRESENCE_TTL_S, load)
    return bool(summary["online"])


def forget_presence(workspace_id: str) -> None:
    """An agent of the workspace came, went or changed availability."""
    cache().forget(presence_cache_key(workspace_id))
