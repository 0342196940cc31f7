"""Malformed Engine.IO / Socket.IO packets: dropped at decoding, logged in one line each.

python-engineio logs every packet it cannot decode (invalid JSON, an integer of more than
100 digits, a lying attachment count, an unknown packet type) with a full traceback. The
packet is dropped and the connection lives on, so a traceback only lets any client flood the
log with 30 lines per frame; one warning line says what happened.

python-socketio decodes an event whose name is not a string (``42[{"a":1}]``, ``42[]``) and
fails later, in the task that dispatches it, where the error escapes as an unhandled
exception; ``CheckedPacket`` refuses such an event while decoding instead.

python-engineio answers a long-polling POST that is too large or carries a packet a client
never sends (OPEN, PING, NOOP, an unknown type) by closing the session and then waiting for
the client to collect the CLOSE packet: with no GET pending, that request never ends, and
each one holds a connection of the server. ``PollingGuard`` refuses such a POST up front.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from socketio import packet

#: What decoding a client's packet raises; anything else keeps its traceback.
_INPUT_ERRORS = (ValueError, TypeError, IndexError, KeyError, RecursionError)
_MAX_DETAIL_CHARS = 200
#: What python-engineio logs when a WebSocket message or a polling POST fails to decode.
_DECODING_FAILED = ("message handler error", "post request handler error")


class _MalformedPacketFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.msg in _DECODING_FAILED and isinstance(error, _INPUT_ERRORS):
            record.msg = "dropped a malformed packet: %s: %s"
            record.args = (type(error).__name__, str(error)[:_MAX_DETAIL_CHARS])
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


_FILTER = _MalformedPacketFilter()


def quiet_malformed_packets() -> None:
    """Log a dropped packet as one warning line instead of a traceback (idempotent)."""
    logger = logging.getLogger("engineio.server")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


class CheckedPacket(packet.Packet):  # type: ignore[misc]
    """A Socket.IO packet whose event, once decoded, is a list starting with a string name."""

    def decode(self, encoded_packet: Any) -> int:
        attachments = int(super().decode(encoded_packet) or 0)
        if self.packet_type in (packet.EVENT, packet.BINARY_EVENT):
            data = self.data
            if not (isinstance(data, list) and data and isinstance(data[0], str)):
                raise ValueError("an event must be a list that starts with its name")
        return attachments


#: Engine.IO packet types a client sends over long polling: CLOSE, PONG, MESSAGE, UPGRADE,
#: and "b" for a base64 binary MESSAGE.
_CLIENT_PACKET_TYPES = frozenset("1345b")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PollingGuard:
    """WSGI middleware in front of Engine.IO's long-polling POSTs (see the module docstring)."""

    def __init__(self, app: WsgiApp, max_bytes: int, path: str = "/socket.io") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path = path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") != "POST" or not str(
            environ.get("PATH_INFO", "")
        ).startswith(self.path):
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(start_response, "400 BAD REQUEST")
        if length > self.max_bytes:
            return _refuse(start_response, "413 REQUEST ENTITY TOO LARGE")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if not _client_payload(body):
            return _refuse(start_response, "400 BAD REQUEST")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _client_payload(body: bytes) -> bool:
    """True if every packet of the payload is one a client may send (or the body is empty)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not text or all(p[:1] in _CLIENT_PACKET_TYPES for p in text.split("\x1e"))


def _refuse(start_response: Callable[..., Any], status: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Cache-Control", "no-store")])
    return [status.split(" ", 1)[1].capitalize().encode()]
