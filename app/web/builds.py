"""A front end's build (``widget/dist``, ``agent_console/dist``), read from its manifest.

Both front ends are served the same way: the files come from ``<folder>/dist/``, whose
``manifest.json`` names the content-hashed assets; the build is read again when the
manifest changes; without a build every route answers 503 ``unavailable``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from flask import Response, current_app, send_from_directory

from app.errors import NotFound, Unavailable

B = TypeVar("B")


class BuildCache(Generic[B]):
    """The build of one front end, cached per folder until its manifest changes."""

    def __init__(self, config_key: str, source: str, read: Callable[[str, str], B]) -> None:
        self.config_key, self.source, self._read = config_key, source, read
        self._cache: dict[str, tuple[float, B]] = {}
        self._lock = threading.Lock()

    def folder(self) -> str:
        configured = current_app.config.get(self.config_key)
        if configured:
            return str(configured)
        return os.path.join(os.path.dirname(current_app.root_path), self.source, "dist")

    def current(self) -> B:
        """The build in the folder, re-read when its manifest changes; 503 if there is none."""
        folder = self.folder()
        manifest_path = os.path.join(folder, "manifest.json")
        try:
            mtime = os.stat(manifest_path).st_mtime
        except OSError:
            raise Unavailable(
                f"The {self.source} front end is not built: run `make setup` "
                f"(or `npm ci && npm run build` in {self.source}/)."
            ) from None
        with self._lock:
            cached = self._cache.get(folder)
            if cached and cached[0] == mtime:
                return cached[1]
        try:
            build = self._read(folder, manifest_path)
        except (OSError, ValueError, KeyError) as exc:
            raise Unavailable(
                f"The {self.source} build is incomplete: rebuild it (npm run build)."
            ) from exc
        with self._lock:
            self._cache[folder] = (mtime, build)
        return build


#: Hashed assets change name when their content changes: cached for a year.
ASSET_MAX_AGE_S = 365 * 24 * 3600


def hashed_asset(folder: str, assets: frozenset[str], name: str, what: str) -> Response:
    """A content-hashed file of a build: immutable, cached for a year; 404 if not listed."""
    if name not in assets:
        raise NotFound(f"No such {what} asset.")
    response = send_from_directory(os.path.join(folder, "assets"), name, max_age=ASSET_MAX_AGE_S)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
