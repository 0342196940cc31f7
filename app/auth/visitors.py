"""Visitor principals from signed visitor tokens."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.auth.principal import Principal
from app.auth.tokens import read_visitor_token, sign_visitor_token
from app.extensions import db
from app.lib.ids import looks_like_id
from app.models import ErasedVisitor, Site, Visitor


def issue_visitor_token(site_id: str, visitor_id: str) -> str:
    return sign_visitor_token(current_app.config["SECRET_KEY"], site_id, visitor_id)


def visitor_principal(raw_token: object, site: Site | None = None) -> Principal | None:
    """The visitor a token names, if it is valid (and for ``site``, when given)."""
    claims = read_visitor_token(current_app.config["SECRET_KEY"], raw_token)
    if claims is None:
        return None
    site_id, visitor_id = claims
    if not looks_like_id(site_id) or not looks_like_id(visitor_id):
        return None
    if site is None:
        site = db.session.get(Site, site_id)
    if site is None or site.id != site_id:
        return None
    row = db.session.execute(select(Visitor.name).where(Visitor.id == visitor_id)).first()
    if row is None and visitor_erased(visitor_id):
        return None
    name = row[0] if row is not None else None
    return Principal(
        kind="visitor",
        workspace_id=site.workspace_id,
        id=visitor_id,
        name=name or "Visitor",
        site_id=site.id,
    )


def visitor_erased(visitor_id: str) -> bool:
    """Whether this visitor's data was erased: its token is refused and its id never reused."""
    return db.session.get(ErasedVisitor, visitor_id) is not None
