"""Sites and their install snippet."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from app.api import EndpointDoc, endpoint, json_body, reply
from app.auth.permissions import can_see_site_secret
from app.auth.principal import Principal
from app.auth.web import current_principal
from app.models import Site
from app.schemas.base import dump_datetime
from app.schemas.sites import (
    InstallOut,
    SiteEnvelope,
    SiteIn,
    SiteListOut,
    SiteOut,
    SitePatchIn,
    SiteWithSecretOut,
)
from app.services import sites


def site_json(principal: Principal, site: Site) -> dict[str, Any]:
    """A site as the caller may see it: with ``site_secret`` for owners and admins only."""
    data = {
        "id": site.id,
        "name": site.name,
        "site_key": site.site_key,
        "allowed_origins": site.allowed_origins,
        "settings": sites.site_settings(site),
        "installed": site.first_visitor_at is not None,
        "installed_at": dump_datetime(site.first_visitor_at),
        "site_secret": site.site_secret,
    }
    schema = SiteWithSecretOut() if can_see_site_secret(principal) else SiteOut()
    return schema.dump(data)  # type: ignore[no-any-return]


@endpoint(
    "/sites",
    "GET",
    EndpointDoc("The workspace's sites", "sites", response=SiteListOut, errors=(401,)),
)
def list_sites() -> tuple[Response, int]:
    principal = current_principal()
    return reply(
        SiteListOut(), {"sites": [site_json(principal, s) for s in sites.list_sites(principal)]}
    )


@endpoint(
    "/sites",
    "POST",
    EndpointDoc(
        "Create a site (owners and admins); the reply carries its secret",
        "sites",
        auth="manager",
        body=SiteIn,
        response=SiteEnvelope,
        status=201,
        errors=(401, 403, 422),
    ),
)
def create_site() -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(SiteIn())
    site = sites.create_site(principal, data["name"], data["allowed_origins"], data.get("settings"))
    return reply(SiteEnvelope(), {"site": site_json(principal, site)}, 201)


@endpoint(
    "/sites/<site_id>",
    "GET",
    EndpointDoc("One site", "sites", response=SiteEnvelope, errors=(401, 404)),
)
def get_site(site_id: str) -> tuple[Response, int]:
    principal = current_principal()
    return reply(SiteEnvelope(), {"site": site_json(principal, sites.get_site(principal, site_id))})


@endpoint(
    "/sites/<site_id>",
    "PATCH",
    EndpointDoc(
        "Rename a site, set its allowed origins or merge its settings (owners and admins)",
        "sites",
        auth="manager",
        body=SitePatchIn,
        response=SiteEnvelope,
        errors=(401, 403, 404, 422),
    ),
)
def update_site(site_id: str) -> tuple[Response, int]:
    principal = current_principal()
    data = json_body(SitePatchIn())
    site = sites.update_site(principal, site_id, data)
    return reply(SiteEnvelope(), {"site": site_json(principal, site)})


@endpoint(
    "/sites/<site_id>/install",
    "GET",
    EndpointDoc(
        "The script tag to paste into the site's pages",
        "sites",
        response=InstallOut,
        errors=(401, 404),
    ),
)
def install(site_id: str) -> tuple[Response, int]:
    principal = current_principal()
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    snippet = sites.install_snippet(principal, site_id, base)
    site = sites.get_site(principal, site_id)
    return reply(InstallOut(), {"snippet": snippet, "site_key": site.site_key})
