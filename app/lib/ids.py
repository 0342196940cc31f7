"""Opaque, time-ordered string ids (ULID layout, lowercase Crockford base32)."""

from __future__ import annotations

import os
import time
from typing import TypeGuard

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LENGTH = 26


def new_id() -> str:
    """A 26-character id: 48 bits of milliseconds then 80 random bits."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(ID_LENGTH):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def looks_like_id(value: object) -> TypeGuard[str]:
    """True for strings shaped like an id; anything else can never name a row."""
    return isinstance(value, str) and len(value) == ID_LENGTH and all(c in _ALPHABET for c in value)
