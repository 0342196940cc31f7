"""The widget frame's session: who the visitor is, the site's look, and their history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.principal import Principal
from app.auth.tokens import identity_hash_matches, read_visitor_token
from app.auth.visitors import issue_visitor_token, visitor_erased
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.lib.ids import looks_like_id, new_id
from app.lib.timeutil import utcnow
from app.models import Site, Ticket, Visitor
from app.services import presence_store, site_cache, ticket_state
from app.services.business_hours import opening
from app.services.site_cache import PublicSite
from app.services.sites import site_settings
from app.services.transaction import write_transaction
from app.services.views import TicketView, VisitorView, ticket_views, visitor_view
from app.services.visitors import note_first_visit

#: How many of a returning visitor's tickets the session brings back.
SESSION_TICKETS = 20


@dataclass
class WidgetSession:
    visitor_token: str
    visitor: VisitorView
    site: dict[str, Any]
    tickets: list[TicketView]


def start_widget_session(
    site_key: str,
    *,
    visitor_token: str | None = None,
    identity: dict[str, Any] | None = None,
    page: dict[str, Any] | None = None,
    user_agent: str | None = None,
) -> WidgetSession:
    """Resume or begin a visitor's session on a site.

    An anonymous newcomer gets a token for a fresh id and no row is stored until its first
    message. A verified identity (HMAC ``user_hash``) maps to the same visitor every time.
    """
    site = site_by_key(site_key)
    visitor_id = _token_visitor(visitor_token, site["id"]) or new_id()
    if identity:
        if not identity_hash_matches(
            _site_secret(site["id"]), identity["external_id"], identity["user_hash"]
        ):
            raise Forbidden("The identity's user_hash does not match.")
        try:
            visitor_id = _identified_visitor(site, visitor_id, identity)
        except IntegrityError:
            # The same person identified in another tab at the same moment: now it exists.
            visitor_id = _identified_visitor(site, visitor_id, identity)

    visitor = _touch(visitor_id, page, user_agent)
    if not site["installed"]:
        _note_installed(site)
    viewer = Principal(
        kind="visitor", workspace_id=site["workspace_id"], id=visitor_id, site_id=site["id"]
    )
    tickets = list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.visitor_id == visitor_id)
            .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
            .limit(SESSION_TICKETS)
        )
    )
    status = presence_store.statuses("visitor", [visitor_id]).get(visitor_id, "offline")
    settings = site["settings"]
    hours = opening(settings.get("business_hours"), utcnow())
    return WidgetSession(
        visitor_token=issue_visitor_token(site["id"], visitor_id),
        visitor=visitor_view(visitor, visitor_id, site["id"], status),
        site={
            "name": site["name"],
            "settings": settings,
            "online": site_cache.agents_online(site["workspace_id"]),
            "open": hours.open,
            "next_open_at": hours.next_open_at,
        },
        tickets=ticket_views(viewer, tickets),
    )


def update_visitor(
    principal: Principal, changes: dict[str, Any], user_agent: str | None = None
) -> VisitorView:
    """Store what a visitor tells about itself: its pre-chat answers, an e-mail, its page.

    ``changes`` may hold ``name`` and ``email`` (``None`` clears them), ``fields``, the
    answers to the site's other pre-chat fields (a name that is not one of those fields is
    refused), and ``page``, where the widget is (the frame sends it once its first message
    stored the visitor: a session start does not store newcomers). The visitor's row is
    created if this comes before its first message. Agents
    see the change on the visitor's unresolved ticket, if it has one.
    """
    if not principal.is_visitor or principal.site_id is None:
        raise Forbidden("Only a visitor may change itself.")
    if not changes:
        raise Invalid("Nothing to change: send name, email, fields and/or page.")
    try:
        visitor = _update_visitor(principal, changes, user_agent)
    except IntegrityError:
        # Its first message stored the row at the same moment: now it exists.
        visitor = _update_visitor(principal, changes, user_agent)
    status = presence_store.statuses("visitor", [visitor.id]).get(visitor.id, "offline")
    return visitor_view(visitor, visitor.id, visitor.site_id, status)


def _update_visitor(
    principal: Principal, changes: dict[str, Any], user_agent: str | None
) -> Visitor:
    answers: dict[str, str] = changes.get("fields") or {}
    with write_transaction() as session:
        site = session.get(Site, principal.site_id)
        if site is None:
            raise NotFound("Site not found.")
        configured = site_settings(site).get("prechat_fields") or []
        custom = {str(field["name"]) for field in configured} - {"name", "email"}
        unknown = sorted(set(answers) - custom)
        if unknown:
            problems = {name: ["Not a pre-chat field of this site."] for name in unknown}
            raise Invalid("Some fields are invalid.", fields={"fields": problems})
        visitor = ticket_state.ensure_visitor(session, principal)
        if "name" in changes:
            visitor.name = changes["name"]
        if "email" in changes:
            visitor.email = changes["email"]
        if answers:
            visitor.attributes = {**(visitor.attributes or {}), **answers}
        page = changes.get("page") or {}
        if page.get("url"):
            visitor.current_url = page["url"]
        if page.get("title") is not None:
            visitor.page_title = page["title"]
        if page.get("referrer") is not None:
            visitor.referrer = page["referrer"]
        if page and user_agent:
            visitor.user_agent = user_agent[:500]
        visitor.last_seen_at = utcnow()
        active = ticket_state.active_ticket(principal.id)
        if active is not None:
            ticket_state.announce_ticket(session, active)
    return visitor


def _token_visitor(visitor_token: str | None, site_id: str) -> str | None:
    """The visitor id a valid token of this site names (others are simply ignored)."""
    claims = read_visitor_token(current_app.config["SECRET_KEY"], visitor_token)
    if claims is None or claims[0] != site_id or not looks_like_id(claims[1]):
        return None
    # A stored visitor was not erased (``db.session.get`` is what ``_touch`` reads next, so
    # it costs nothing more); one with no row may have been: then it starts afresh.
    if db.session.get(Visitor, claims[1]) is None and visitor_erased(claims[1]):
        return None
    return claims[1]


def _site_secret(site_id: str) -> str:
    """The HMAC secret of identity checks: read when needed, never cached."""
    secret = db.session.scalar(select(Site.site_secret).where(Site.id == site_id))
    if secret is None:
        raise NotFound("Unknown site key.")
    return str(secret)


def _note_installed(site: PublicSite) -> None:
    """The site's first widget session marks it installed; its cached copy then goes."""
    row = db.session.get(Site, site["id"])
    if row is None:
        return
    note_first_visit(row)
    site_cache.forget_site(None, site["site_key"])


def _identified_visitor(site: PublicSite, visitor_id: str, identity: dict[str, Any]) -> str:
    """The visitor for a verified external id: the known one, or this one, now identified."""
    with write_transaction() as session:
        known = session.scalar(
            select(Visitor).where(
                Visitor.site_id == site["id"], Visitor.external_id == identity["external_id"]
            )
        )
        if known is None:
            current = session.get(Visitor, visitor_id)
            if current is not None and current.external_id not in (None, identity["external_id"]):
                visitor_id = new_id()  # an anonymous token of another person: start afresh
                current = None
            if current is None:
                current = Visitor(
                    id=visitor_id, workspace_id=site["workspace_id"], site_id=site["id"]
                )
                session.add(current)
            known = current
            known.external_id = identity["external_id"]
        known.verified = True
        if identity.get("name"):
            known.name = identity["name"]
        if identity.get("email"):
            known.email = identity["email"]
        return str(known.id)


def _touch(visitor_id: str, page: dict[str, Any] | None, user_agent: str | None) -> Visitor | None:
    """Record where a stored visitor is now; anonymous newcomers are not stored."""
    visitor = db.session.get(Visitor, visitor_id)
    if visitor is None:
        return None
    with write_transaction() as session:
        visitor = session.get(Visitor, visitor_id)
        if visitor is None:
            return None
        visitor.last_seen_at = utcnow()
        if page:
            if page.get("url"):
                visitor.current_url = page["url"]
            if page.get("title") is not None:
                visitor.page_title = page["title"]
            if page.get("referrer") is not None:
                visitor.referrer = page["referrer"]
        if user_agent:
            visitor.user_agent = user_agent[:500]
    return visitor


def site_by_key(site_key: str) -> PublicSite:
    """The site a widget is served for, by its public key (``not_found`` if unknown).

    Read through the cache: plain data, without the site's secret.
    """
    site = site_cache.public_site(site_key)
    if site is None:
        raise NotFound("Unknown site key.")
    return site
