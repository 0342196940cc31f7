"""Sites: create, read, update, and the install snippet."""

from __future__ import annotations

import copy
import html
import secrets
from typing import Any

from sqlalchemy import select

from app.auth.permissions import check_site, require_agent, require_manager
from app.auth.principal import Principal
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import utcnow
from app.models import Site
from app.schemas.sites import DEFAULT_SETTINGS
from app.services import audit, site_cache
from app.services.transaction import write_transaction


def site_settings(site: Site) -> dict[str, Any]:
    """The site's settings with defaults filled in."""
    merged = copy.deepcopy(DEFAULT_SETTINGS)
    merged.update(site.settings or {})
    return merged


def create_site(
    principal: Principal,
    name: str,
    allowed_origins: list[str],
    settings: dict[str, Any] | None = None,
) -> Site:
    """A new site with a fresh public key and secret (owners and admins)."""
    require_manager(principal)
    with write_transaction() as session:
        site = Site(
            workspace_id=principal.workspace_id,
            name=name,
            site_key=secrets.token_urlsafe(12),
            site_secret=secrets.token_hex(32),
            allowed_origins=_unique(allowed_origins),
            settings=dict(settings or {}),
        )
        session.add(site)
        session.flush()
        audit.record(session, principal, "site.created", "site", site.id, {"name": name})
        site_cache.forget_site(session, site.site_key)
    return site


def list_sites(principal: Principal) -> list[Site]:
    """The workspace's sites, oldest first."""
    require_agent(principal)
    return list(
        db.session.scalars(
            select(Site)
            .where(Site.workspace_id == principal.workspace_id)
            .order_by(Site.created_at, Site.id)
        )
    )


def get_site(principal: Principal, site_id: str) -> Site:
    """One site of the principal's workspace (a malformed id is simply not found)."""
    site = db.session.get(Site, site_id) if looks_like_id(site_id) else None
    return check_site(principal, site)


def update_site(principal: Principal, site_id: str, changes: dict[str, Any]) -> Site:
    """Rename, set allowed origins, or merge settings (owners and admins)."""
    require_manager(principal)
    with write_transaction() as session:
        site = get_site(principal, site_id)
        site_cache.forget_site(session, site.site_key)
        if "name" in changes:
            site.name = changes["name"]
        if "allowed_origins" in changes:
            site.allowed_origins = _unique(changes["allowed_origins"])
        if "settings" in changes:
            site.settings = {**(site.settings or {}), **changes["settings"]}
        site.updated_at = utcnow()
        audit.record(session, principal, "site.updated", "site", site.id, _changed(changes))
    return site


def install_snippet(principal: Principal, site_id: str, base_url: str) -> str:
    """The script tag a site owner pastes into every page."""
    site = get_site(principal, site_id)
    src = html.escape(base_url.rstrip("/") + "/widget.js", quote=True)
    key = html.escape(site.site_key, quote=True)
    return f'<script src="{src}" data-site-key="{key}" async></script>'


def _changed(changes: dict[str, Any]) -> dict[str, list[str]]:
    """What an update touched, for the audit log: field names and settings keys, no values."""
    fields = sorted(k for k in changes if k != "settings")
    fields += [f"settings.{k}" for k in sorted(changes.get("settings") or {})]
    return {"changed": fields}


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
