"""Calibrating a site's thresholds against a wrong-answer budget (not for best accuracy).

Given labelled messages (the entry that should answer, or ``HANDOFF``), pick the answer
threshold and margin that answer the most messages right while answering wrongly at most
``budget`` of all messages; the suggestion band starts ``SUGGEST_BAND`` below the answer
threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.bot.decision import Thresholds
from app.bot.index import KnowledgeIndex, Match
from app.bot.phrases import asks_about_bot, asks_for_person

HANDOFF = "HANDOFF"
SUGGEST_BAND = 0.10
ANSWER_GRID = [x / 100 for x in range(20, 96)]
MARGIN_GRID = [m / 200 for m in range(0, 41)]


@dataclass(frozen=True)
class Labelled:
    text: str
    expected: str  # an entry id, or HANDOFF


@dataclass(frozen=True)
class Calibration:
    thresholds: Thresholds
    answered_right: int
    answered_wrong: int
    messages: int


def calibrate(index: KnowledgeIndex, labelled: list[Labelled], budget: float) -> Calibration:
    """The thresholds with the most right answers whose wrong answers stay within budget."""
    searched: list[tuple[Labelled, list[Match]]] = [
        (
            row,
            []
            if asks_for_person(row.text) or asks_about_bot(row.text)
            else index.search(row.text, 2),
        )
        for row in labelled
    ]
    allowed = int(budget * len(labelled) + 1e-9)
    best: Calibration | None = None
    for answer_at in ANSWER_GRID:
        for margin in MARGIN_GRID:
            right = wrong = 0
            for row, matches in searched:
                if not matches:
                    continue
                gap = matches[0].score - (matches[1].score if len(matches) > 1 else 0.0)
                if matches[0].score >= answer_at and gap >= margin:
                    if matches[0].entry.id == row.expected:
                        right += 1
                    else:
                        wrong += 1
            if wrong <= allowed and (best is None or right > best.answered_right):
                suggest = round(max(0.0, answer_at - SUGGEST_BAND), 2)
                best = Calibration(
                    Thresholds(answer_at, margin, suggest), right, wrong, len(labelled)
                )
    if best is None:  # pragma: no cover - the top of the grid answers nothing, so never
        raise ValueError("no thresholds fit the budget")
    return best
