"""Encryption at rest of message bodies: the one place that seals and opens them.

Keys come from ``PARLEY_ENCRYPTION_KEYS``: ``kid:base64key`` items (32-byte keys) separated by
commas; the first seals, all open. A sealed value is text that names its key,
``pe1:<kid>:<base64url(nonce | AES-256-GCM ciphertext)>``, so rows under old and new keys (and
plaintext rows from before encryption) read side by side until ``parley rotate-keys`` has moved
them all to the first key. The associated data binds each value to its ticket and message id:
a value copied onto another row does not open.

Search cannot look into ciphertext, so each message also stores a blind index: a keyed hash
(HMAC-SHA256 under a key derived from the encryption key, truncated) of each of its normalized
words. A search hashes its words the same way under every key of the ring and matches them
by equality; prefix and substring matching inside a word are lost.

Key material is never logged nor put into an error message.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

#: The prefix of every sealed value (format version 1).
PREFIX = "pe1"
KEY_BYTES = 32
NONCE_BYTES = 12
#: Bytes of each word's HMAC kept in the blind index (64 bits: collisions only widen a search).
TERM_BYTES = 8
#: Words longer than this are indexed by their first characters only.
MAX_TERM_CHARS = 64
#: Words whose terms each key remembers (the hot path hashes mostly recurring words).
TERM_CACHE_SIZE = 16384
_KID = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_WORD = re.compile(r"[^\W_]+")
_EXTENSION_KEY = "parley.keyring"
_KEY_FILE = "encryption_keys"


class KeyConfigError(ValueError):
    """``PARLEY_ENCRYPTION_KEYS`` (or the instance key file) is malformed."""


class DecryptionError(RuntimeError):
    """A stored value cannot be opened: its key is not configured, or it is not ours."""


class Sealed(str):
    """A sealed column value, ready to store (the column type refuses plain text)."""

    __slots__ = ()


@dataclass(frozen=True)
class _Key:
    kid: str
    aead: AESGCM
    #: A word's blind-index term (HMAC under the derived index key), cached: most words recur.
    term: Callable[[str], str]


class KeyRing:
    """The configured keys: the first seals and indexes, every one opens and searches."""

    def __init__(self, spec: str) -> None:
        self.keys: dict[str, _Key] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            kid, _, encoded = item.partition(":")
            if not _KID.match(kid):
                raise KeyConfigError(
                    "PARLEY_ENCRYPTION_KEYS: each item is kid:base64key with a kid of 1 to 32"
                    " letters, digits or '-'."
                )
            if kid in self.keys:
                raise KeyConfigError(f"PARLEY_ENCRYPTION_KEYS: the key id {kid!r} appears twice.")
            raw = _decode_key(kid, encoded)
            self.keys[kid] = _Key(kid, AESGCM(raw), _term_function(_index_key(raw)))
        if not self.keys:
            raise KeyConfigError("PARLEY_ENCRYPTION_KEYS has no key.")
        self.current = next(iter(self.keys.values()))

    @property
    def current_kid(self) -> str:
        return self.current.kid

    def seal(self, ticket_id: str, message_id: str, text: str) -> Sealed:
        """``text`` encrypted under the current key, bound to its ticket and message."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.current.aead.encrypt(nonce, text.encode(), _aad(ticket_id, message_id))
        encoded = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return Sealed(f"{PREFIX}:{self.current.kid}:{encoded}")

    def open(self, ticket_id: str, message_id: str, stored: str) -> str:
        """The plaintext of a stored value; a value without our prefix is legacy plaintext."""
        if not is_sealed(stored):
            return stored
        _, kid, encoded = stored.split(":", 2)
        key = self.keys.get(kid)
        if key is None:
            raise DecryptionError(
                f"Message {message_id} is encrypted with key {kid!r}, which is not in"
                " PARLEY_ENCRYPTION_KEYS."
            )
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            plain = key.aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(ticket_id, message_id)
            )
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise DecryptionError(
                f"Message {message_id} does not decrypt with key {kid!r}: a different key under"
                " the same id, or a value altered or moved from another row."
            ) from exc
        return plain.decode()

    def terms(self, text: str) -> str:
        """The blind index of ``text`` under the current key: ``kid: t1 t2 ... ``."""
        hashed = sorted({self.current.term(word) for word in words(text)})
        return f"{self.current.kid}: {' '.join(hashed)} " if hashed else f"{self.current.kid}: "

    def query_terms(self, text: str) -> list[list[str]]:
        """The search words of ``text`` hashed under each key (one list per key)."""
        found = words(text)
        return [[key.term(w) for w in found] for key in self.keys.values()] if found else []

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{PREFIX}:{self.current.kid}:")


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX + ":") and stored.count(":") >= 2


def words(text: str) -> list[str]:
    """The distinct search words of ``text``: letters and digits, lower-cased, accents
    removed (``Café`` and ``cafe`` are one word), in order of appearance."""
    if text.isascii():
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return list(dict.fromkeys(w[:MAX_TERM_CHARS] for w in _WORD.findall(plain)))


def new_key_item() -> str:
    """A fresh ``kid:base64key`` item for ``PARLEY_ENCRYPTION_KEYS``."""
    kid = "k" + secrets.token_hex(4)
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def _term_function(index_key: bytes) -> Callable[[str], str]:
    @functools.lru_cache(maxsize=TERM_CACHE_SIZE)
    def term(word: str) -> str:
        return hmac.digest(index_key, word.encode(), "sha256")[:TERM_BYTES].hex()

    return term


def _aad(ticket_id: str, message_id: str) -> bytes:
    return f"parley/messages.body/{ticket_id}/{message_id}".encode()


def _decode_key(kid: str, encoded: str) -> bytes:
    try:
        text = encoded.strip().replace("-", "+").replace("_", "/")
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise KeyConfigError(
            f"PARLEY_ENCRYPTION_KEYS: the key {kid!r} is not {KEY_BYTES} bytes of base64"
            " (make one with `flask --app wsgi parley encryption-key`)."
        )
    return raw


def _index_key(raw: bytes) -> bytes:
    """The blind-index key of an encryption key: derived once, for a separate purpose."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"parley blind index v1"
    ).derive(raw)


# -- the app's key ring ----------------------------------------------------------------------


def init_app(app: Any) -> None:
    """Build the app's key ring from ``PARLEY_ENCRYPTION_KEYS``, else from a key file in the
    instance folder (made on first start, like the generated SECRET_KEY)."""
    spec = app.config.get("PARLEY_ENCRYPTION_KEYS")
    if not spec:
        spec = _instance_keys(app.instance_path)
        if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
            log.warning(
                "PARLEY_ENCRYPTION_KEYS is unset: message bodies are encrypted with the key in"
                " %s. Every app process must read the same key and losing it loses the"
                " messages: set PARLEY_ENCRYPTION_KEYS in production (docs/DEPLOYMENT.md).",
                os.path.join(app.instance_path, _KEY_FILE),
            )
    app.extensions[_EXTENSION_KEY] = KeyRing(spec)


def keyring() -> KeyRing:
    """The current app's key ring."""
    from flask import current_app

    ring: KeyRing = current_app.extensions[_EXTENSION_KEY]
    return ring


def _instance_keys(instance_path: str) -> str:
    path = os.path.join(instance_path, _KEY_FILE)
    if not os.path.exists(path):
        # Written aside then linked into place: a concurrent first start reads a whole file.
        temp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key_item() + "\n")
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    with open(path) as handle:
        return handle.read().strip()
