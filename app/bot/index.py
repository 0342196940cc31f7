"""A site's knowledge-base index: every entry's question, alternatives and answer, searchable
by meaning (sentence embeddings) and by surface (character n-gram TF-IDF)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.bot import embedding
from app.bot.lexical import LexicalIndex

#: How much the semantic score counts in the blend (the rest is lexical). Tuned on the
#: tuning half of evaluation/bot (docs/BOT.md).
SEMANTIC_WEIGHT = 0.8
#: An answer text matches less directly than a question does: its scores are scaled by this.
ANSWER_WEIGHT = 0.85


@dataclass(frozen=True)
class KbEntry:
    """What the index needs of one FAQ entry."""

    id: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    external_id: str | None = None


@dataclass(frozen=True)
class Match:
    entry: KbEntry
    score: float


@dataclass
class KnowledgeIndex:
    """Built once per knowledge-base version; ``search`` is read-only and thread-safe."""

    entries: list[KbEntry]
    model: str | None = None
    _starts: np.ndarray = field(init=False, repr=False)
    _doc_weight: np.ndarray = field(init=False, repr=False)
    _vectors: np.ndarray = field(init=False, repr=False)
    _lexical: LexicalIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        docs: list[str] = []
        weights: list[float] = []
        starts: list[int] = []
        for entry in self.entries:
            starts.append(len(docs))
            texts = [entry.question, *entry.alternatives]
            docs += texts
            weights += [1.0] * len(texts)
            docs.append(entry.answer)
            weights.append(ANSWER_WEIGHT)
        self._starts = np.asarray(starts, dtype=np.intp)
        self._doc_weight = np.asarray(weights, dtype=np.float32)
        self._lexical = LexicalIndex(docs)
        self._vectors = (
            embedding.embed_passages(docs, self.model) if docs else np.zeros((0, 1), np.float32)
        )

    def search(self, text: str, limit: int = 3) -> list[Match]:
        """The best ``limit`` entries for ``text``, best first, one score each in [0, 1]."""
        if not self.entries:
            return []
        semantic = self._vectors @ embedding.embed_query(text, self.model)
        lexical = self._lexical.scores(text)
        blended = SEMANTIC_WEIGHT * np.clip(semantic, 0, 1) + (1 - SEMANTIC_WEIGHT) * lexical
        per_entry = np.maximum.reduceat(blended * self._doc_weight, self._starts)
        best = np.argsort(-per_entry)[:limit]
        return [Match(self.entries[i], float(per_entry[i])) for i in best]
