"""Character n-gram TF-IDF over words: robust to typos and inflections, numpy only.

Each document becomes a bag of character 3- to 4-grams of its words (padded with spaces,
so word starts and ends count); weights are sublinear tf times smoothed idf, and
documents are L2-normalised. Queries are scored through an inverted index, so a query
costs about the number of postings of its own n-grams, not the size of the knowledge base.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from app.bot.text import words

_N_SIZES = (3, 4)


def _grams(text: str) -> Counter[str]:
    grams: Counter[str] = Counter()
    for word in words(text):
        padded = f" {word} "
        for n in _N_SIZES:
            for i in range(max(1, len(padded) - n + 1)):
                grams[padded[i : i + n]] += 1
    return grams


class LexicalIndex:
    """Cosine similarity between a query and each document, in TF-IDF n-gram space."""

    def __init__(self, documents: list[str]) -> None:
        self.size = len(documents)
        bags = [_grams(doc) for doc in documents]
        df: Counter[str] = Counter()
        for bag in bags:
            df.update(bag.keys())
        self._idf = {g: math.log((1 + self.size) / (1 + d)) + 1.0 for g, d in df.items()}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc, bag in enumerate(bags):
            weights = {g: (1 + math.log(c)) * self._idf[g] for g, c in bag.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for g, w in weights.items():
                postings[g].append((doc, w / norm))
        self._postings = {
            g: (
                np.fromiter((d for d, _ in rows), dtype=np.int32, count=len(rows)),
                np.fromiter((w for _, w in rows), dtype=np.float32, count=len(rows)),
            )
            for g, rows in postings.items()
        }

    def scores(self, query: str) -> np.ndarray:
        """Cosine similarity of ``query`` to every document (0 where nothing is shared)."""
        out = np.zeros(self.size, dtype=np.float32)
        bag = _grams(query)
        weights = {g: (1 + math.log(c)) * self._idf[g] for g, c in bag.items() if g in self._idf}
        if not weights:
            return out
        # Unknown n-grams still count in the query's norm: a query mostly made of words the
        # knowledge base never uses should not look like a strong match.
        rare = math.log(1 + self.size) + 1.0
        unknown = sum(((1 + math.log(c)) * rare) ** 2 for g, c in bag.items() if g not in self._idf)
        norm = math.sqrt(sum(w * w for w in weights.values()) + unknown) or 1.0
        for gram, weight in weights.items():
            docs, doc_weights = self._postings[gram]
            np.add.at(out, docs, doc_weights * (weight / norm))
        return out
