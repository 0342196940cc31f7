"""The FAQ bot's decisions over a site's knowledge base (``POST /sites/{id}/bot/ask``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.auth.permissions import require_agent, require_manager
from app.auth.principal import Principal
from app.bot import cache
from app.bot.calibrate import HANDOFF, Labelled, calibrate
from app.bot.decision import DEFAULT_THRESHOLDS, Decision, Thresholds, decide
from app.bot.index import KbEntry, KnowledgeIndex
from app.errors import Invalid
from app.extensions import db
from app.lib.timeutil import utcnow
from app.models import BotSettings, FaqEntry, Site
from app.services import audit, faq
from app.services.sites import get_site
from app.services.transaction import write_transaction


def ask_bot(principal: Principal, site_id: str, text: str) -> Decision:
    """What the bot would do with ``text`` on this site: the same decision as a live chat."""
    require_agent(principal)
    site = get_site(principal, site_id)
    return decide_for_site(site, text)


def decide_for_site(site: Site, text: str) -> Decision:
    """The decision for one message on ``site`` (the caller checked access)."""
    return decide(site_index(site), text, site_thresholds(site))


def site_index(site: Site) -> KnowledgeIndex:
    """The site's index, rebuilt when its entries changed (in this process or another)."""
    return cache.index_for(
        site.id,
        faq.knowledge_version(site),
        lambda: [kb_entry(e) for e in faq.site_entries(site)],
    )


def site_thresholds(site: Site) -> Thresholds:
    """The site's own thresholds, else the calibrated defaults (docs/BOT.md)."""
    row = _settings_row(site)
    return DEFAULT_THRESHOLDS if row is None or row.calibration is None else _thresholds(row)


def kb_entry(entry: FaqEntry) -> KbEntry:
    return KbEntry(
        id=entry.id,
        question=entry.question,
        answer=entry.answer,
        alternatives=tuple(entry.alternatives or ()),
        external_id=entry.external_id,
    )


def get_bot_settings(principal: Principal, site_id: str) -> BotSettingsView:
    """The site's thresholds (any agent of the workspace)."""
    require_agent(principal)
    site = get_site(principal, site_id)
    return _view(site, _settings_row(site))


def update_bot_settings(
    principal: Principal, site_id: str, data: dict[str, float]
) -> BotSettingsView:
    """Set the site's thresholds by hand (owners and admins)."""
    require_manager(principal)
    with write_transaction() as session:
        site = get_site(principal, site_id)
        row = _store(
            site,
            Thresholds(data["answer_threshold"], data["margin"], data["suggest_threshold"]),
            {"source": "manual"},
        )
        audit.record(session, principal, "settings.updated", "site", site.id, _audited(row))
    return _view(site, row)


def calibrate_bot(
    principal: Principal, site_id: str, messages: list[dict[str, str]], budget: float
) -> BotSettingsView:
    """Calibrate and store the site's thresholds on its own labelled messages: the most right
    answers with wrong answers at most ``budget`` of the messages (owners and admins)."""
    require_manager(principal)
    site = get_site(principal, site_id)
    index = site_index(site)
    if not index.entries:
        raise Invalid("The site has no FAQ entries to calibrate on.")
    by_key = {e.id: e.id for e in index.entries}
    by_key.update({e.external_id: e.id for e in index.entries if e.external_id})
    labelled = []
    for n, message in enumerate(messages):
        expected = message["expected"]
        if expected != HANDOFF and expected not in by_key:
            raise Invalid(
                "expected must be an entry's id or external_id, or HANDOFF.",
                fields={"messages": {str(n): {"expected": ["Unknown entry."]}}},
            )
        labelled.append(Labelled(message["text"], by_key.get(expected, HANDOFF)))
    try:
        result = calibrate(index, labelled, budget)
    except ValueError as exc:  # every threshold answers wrongly more than the budget allows
        raise Invalid(
            "No thresholds keep wrong answers within the budget: raise wrong_answer_budget "
            "or check the labels.",
            fields={"wrong_answer_budget": ["Too small for these messages."]},
        ) from exc
    summary = {
        "source": "calibration",
        "wrong_answer_budget": budget,
        "messages": result.messages,
        "answered_right": result.answered_right,
        "answered_wrong": result.answered_wrong,
    }
    with write_transaction() as session:
        site = get_site(principal, site_id)
        row = _store(site, result.thresholds, summary)
        audit.record(session, principal, "settings.updated", "site", site.id, _audited(row))
    return _view(site, row)


@dataclass(frozen=True)
class BotSettingsView:
    answer_threshold: float
    margin: float
    suggest_threshold: float
    calibrated: bool
    calibration: dict[str, Any] | None


def _settings_row(site: Site) -> BotSettings | None:
    return db.session.scalar(
        select(BotSettings).where(
            BotSettings.workspace_id == site.workspace_id, BotSettings.site_id == site.id
        )
    )


def settings_row(site: Site, *, create: bool = False) -> BotSettings | None:
    """The site's settings row (created with the default thresholds when asked)."""
    row = _settings_row(site)
    if row is None and create:
        t = DEFAULT_THRESHOLDS
        row = BotSettings(
            workspace_id=site.workspace_id,
            site_id=site.id,
            answer_threshold=t.answer,
            margin=t.margin,
            suggest_threshold=t.suggest,
            updated_at=utcnow(),
        )
        db.session.add(row)
    return row


def _store(site: Site, thresholds: Thresholds, calibration: dict[str, Any] | None) -> BotSettings:
    row = settings_row(site, create=True) or BotSettings()  # never None when creating
    row.answer_threshold = thresholds.answer
    row.margin = thresholds.margin
    row.suggest_threshold = thresholds.suggest
    row.calibration = calibration
    row.updated_at = utcnow()
    return row


def _audited(row: BotSettings) -> dict[str, Any]:
    """The audit log's record of new thresholds."""
    source = (row.calibration or {}).get("source")
    t = _thresholds(row)
    return {
        "area": "bot",
        "source": source,
        "answer": t.answer,
        "margin": t.margin,
        "suggest": t.suggest,
    }


def _view(site: Site, row: BotSettings | None) -> BotSettingsView:
    calibration = row.calibration if row is not None else None
    t = _thresholds(row) if row is not None and calibration is not None else DEFAULT_THRESHOLDS
    return BotSettingsView(t.answer, t.margin, t.suggest, calibration is not None, calibration)


def _thresholds(row: BotSettings) -> Thresholds:
    return Thresholds(row.answer_threshold, row.margin, row.suggest_threshold)
