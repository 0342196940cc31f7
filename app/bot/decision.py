"""The bot's decision for one visitor message: answer, offer choices, or hand off."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.bot.index import KnowledgeIndex, Match
from app.bot.phrases import asks_about_bot, asks_for_person

Outcome = Literal["answer", "suggest", "handoff"]
#: Why the bot did not answer: the visitor asked for a person or about the bot, nothing
#: matched well enough, the matches were too close to call, or the site has no FAQ.
Reason = Literal["asked_for_person", "asked_about_bot", "no_match", "unsure", "no_knowledge"]


@dataclass(frozen=True)
class Thresholds:
    """Answer when the top score reaches ``answer`` and beats the runner-up by ``margin``;
    offer "Did you mean...?" when it reaches ``suggest``. Calibrated in docs/BOT.md."""

    answer: float = 0.40
    margin: float = 0.05
    suggest: float = 0.30


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    confidence: float
    match: Match | None = None
    reason: Reason | None = None
    suggestions: list[Match] = field(default_factory=list)

    @property
    def handoff(self) -> bool:
        """Whether the visitor should get a person rather than an answer (contract field)."""
        return self.outcome != "answer"


def decide(
    index: KnowledgeIndex, text: str, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Decision:
    """Person or bot questions hand off; a clear best match answers; a middle band suggests."""
    if asks_for_person(text):
        return Decision("handoff", 1.0, reason="asked_for_person")
    if asks_about_bot(text):
        return Decision("handoff", 1.0, reason="asked_about_bot")
    matches = index.search(text, limit=3)
    if not matches:
        return Decision("handoff", 0.0, reason="no_knowledge")
    top = matches[0]
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    confidence = round(top.score, 4)
    if top.score >= thresholds.answer and top.score - runner_up >= thresholds.margin:
        return Decision("answer", confidence, match=top)
    if top.score >= thresholds.suggest:
        close = [m for m in matches if m.score >= thresholds.suggest]
        return Decision("suggest", confidence, reason="unsure", suggestions=close)
    return Decision("handoff", confidence, reason="no_match")
