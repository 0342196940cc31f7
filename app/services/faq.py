"""The site's knowledge base: FAQ entries the bot answers from (CRUD and import)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.permissions import require_agent, require_manager
from app.auth.principal import Principal
from app.bot import cache
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.lib.ids import looks_like_id
from app.lib.timeutil import utcnow
from app.limits import MAX_FAQ_ENTRIES, MAX_FAQ_IMPORT_ENTRIES
from app.models import FaqEntry, Site
from app.services import audit
from app.services.sites import get_site
from app.services.transaction import write_transaction

#: CSV columns; ``alternatives`` holds several phrasings separated by ``|``.
CSV_COLUMNS = ("question", "answer", "alternatives", "external_id")


def list_faq(principal: Principal, site_id: str) -> list[FaqEntry]:
    """The site's entries, oldest first (any agent of the workspace)."""
    require_agent(principal)
    site = get_site(principal, site_id)
    return _entries(site)


def create_faq(principal: Principal, site_id: str, data: dict[str, Any]) -> FaqEntry:
    """A new entry (owners and admins)."""
    require_manager(principal)
    with write_transaction() as session:
        site = get_site(principal, site_id)
        _check_room(site, 1)
        if data.get("external_id") and _by_external_id(site, [data["external_id"]]):
            raise Conflict("An entry with this external_id exists; import replaces it.")
        entry = FaqEntry(workspace_id=site.workspace_id, site_id=site.id)
        _fill(entry, data)
        session.add(entry)
        session.flush()
        _audit(session, principal, site, "created", entry.id)
    cache.forget(site.id)
    return entry


def update_faq(principal: Principal, site_id: str, faq_id: str, data: dict[str, Any]) -> FaqEntry:
    """Replace an entry's question, answer, alternatives and external_id (owners and admins)."""
    require_manager(principal)
    with write_transaction() as session:
        site = get_site(principal, site_id)
        entry = _entry(site, faq_id)
        new_external = data.get("external_id")
        if (
            new_external
            and new_external != entry.external_id
            and _by_external_id(site, [new_external])
        ):
            raise Conflict("Another entry has this external_id.")
        _fill(entry, data)
        _audit(session, principal, site, "updated", entry.id)
    cache.forget(site.id)
    return entry


def delete_faq(principal: Principal, site_id: str, faq_id: str) -> None:
    """Remove an entry (owners and admins)."""
    require_manager(principal)
    with write_transaction() as session:
        site = get_site(principal, site_id)
        entry = _entry(site, faq_id)
        _audit(session, principal, site, "deleted", entry.id)
        session.delete(entry)
    cache.forget(site.id)


def import_faq(
    principal: Principal, site_id: str, rows: list[dict[str, Any]]
) -> tuple[int, int, list[FaqEntry]]:
    """Add entries in one transaction; a row whose ``external_id`` exists replaces that entry.
    Returns ``(created, updated, entries)`` in the order of the rows."""
    require_manager(principal)
    keys = [r["external_id"] for r in rows if r.get("external_id")]
    if len(keys) != len(set(keys)):
        raise Invalid(
            "external_id repeats within the import.", fields={"external_id": ["Repeated."]}
        )
    with write_transaction() as session:
        site = get_site(principal, site_id)
        existing = {e.external_id: e for e in _by_external_id(site, keys)}
        new_rows = sum(1 for r in rows if r.get("external_id") not in existing)
        _check_room(site, new_rows)
        out: list[FaqEntry] = []
        for row in rows:
            entry = existing.get(row.get("external_id")) or FaqEntry(
                workspace_id=site.workspace_id, site_id=site.id
            )
            _fill(entry, row)
            session.add(entry)
            out.append(entry)
        counts = {"created": new_rows, "updated": len(rows) - new_rows}
        _audit(session, principal, site, "imported", None, counts)
    cache.forget(site.id)
    return new_rows, len(rows) - new_rows, out


def parse_faq_csv(raw: bytes) -> list[dict[str, Any]]:
    """CSV rows (header ``question,answer[,alternatives][,external_id]``) as import rows."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("The CSV file must be UTF-8.") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "question" not in header or "answer" not in header or set(header) - set(CSV_COLUMNS):
        raise Invalid(
            "The CSV header must be question,answer and optionally alternatives,external_id."
        )
    rows: list[dict[str, Any]] = []
    try:
        for record in reader:
            if len(rows) >= MAX_FAQ_IMPORT_ENTRIES:
                raise Invalid(f"An import holds at most {MAX_FAQ_IMPORT_ENTRIES} entries.")
            clean = {k.strip(): (v or "") for k, v in record.items() if k is not None}
            row: dict[str, Any] = {"question": clean["question"], "answer": clean["answer"]}
            alternatives = [a.strip() for a in clean.get("alternatives", "").split("|")]
            row["alternatives"] = [a for a in alternatives if a]
            if clean.get("external_id", "").strip():
                row["external_id"] = clean["external_id"].strip()
            rows.append(row)
    except csv.Error as exc:
        raise Invalid(f"The CSV file could not be read: {exc}.") from exc
    return rows


def knowledge_version(site: Site) -> tuple[int, str]:
    """What identifies the current state of a site's entries (count, newest change)."""
    count, newest = db.session.execute(
        select(func.count(FaqEntry.id), func.max(FaqEntry.updated_at)).where(
            FaqEntry.workspace_id == site.workspace_id, FaqEntry.site_id == site.id
        )
    ).one()
    return int(count), str(newest)


def site_entries(site: Site) -> list[FaqEntry]:
    """Every entry of a site (for the bot's index; the caller checked access)."""
    return _entries(site)


def _entries(site: Site) -> list[FaqEntry]:
    return list(
        db.session.scalars(
            select(FaqEntry)
            .where(FaqEntry.workspace_id == site.workspace_id, FaqEntry.site_id == site.id)
            .order_by(FaqEntry.created_at, FaqEntry.id)
        )
    )


def _audit(
    session: Session,
    principal: Principal,
    site: Site,
    op: str,
    entry_id: str | None,
    counts: dict[str, int] | None = None,
) -> None:
    target = ("faq_entry", entry_id) if entry_id else ("site", site.id)
    details = {"op": op, "site_id": site.id, **(counts or {})}
    audit.record(session, principal, "faq.changed", *target, details)


def _entry(site: Site, faq_id: str) -> FaqEntry:
    entry = db.session.get(FaqEntry, faq_id) if looks_like_id(faq_id) else None
    if entry is None or entry.site_id != site.id or entry.workspace_id != site.workspace_id:
        raise NotFound("FAQ entry not found.")
    return entry


def _by_external_id(site: Site, keys: list[str]) -> list[FaqEntry]:
    if not keys:
        return []
    return list(
        db.session.scalars(
            select(FaqEntry).where(
                FaqEntry.workspace_id == site.workspace_id,
                FaqEntry.site_id == site.id,
                FaqEntry.external_id.in_(keys),
            )
        )
    )


def _check_room(site: Site, adding: int) -> None:
    count = db.session.scalar(
        select(func.count(FaqEntry.id)).where(
            FaqEntry.workspace_id == site.workspace_id, FaqEntry.site_id == site.id
        )
    )
    if int(count or 0) + adding > MAX_FAQ_ENTRIES:
        raise Invalid(f"A site holds at most {MAX_FAQ_ENTRIES} FAQ entries.")


def _fill(entry: FaqEntry, data: dict[str, Any]) -> None:
    entry.question = data["question"]
    entry.answer = data["answer"]
    entry.alternatives = list(data.get("alternatives") or [])
    entry.external_id = data.get("external_id") or None
    entry.updated_at = utcnow()
