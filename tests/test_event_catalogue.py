"""Every Socket.IO event of the catalogue has a payload schema and a handler, and is documented."""

from __future__ import annotations

from pathlib import Path

from app.events import names
from app.schemas.events import CLIENT_EVENT_SCHEMAS, SERVER_EVENT_SCHEMAS

PROTOCOL = (Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md").read_text()


def test_every_event_name_has_a_schema() -> None:
    assert set(names.SERVER_EVENTS) == set(SERVER_EVENT_SCHEMAS)
    assert set(names.CLIENT_EVENTS) == set(CLIENT_EVENT_SCHEMAS)


def test_every_client_event_has_a_handler() -> None:
    from app import create_app
    from app.extensions import socketio

    create_app(
        {
            "TESTING": True,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    handled = set(socketio.server.handlers["/"])

    assert set(names.CLIENT_EVENTS) <= handled


def test_every_event_is_documented_in_the_protocol() -> None:
    for event in set(names.SERVER_EVENTS) | set(names.CLIENT_EVENTS):
        assert f"`{event}`" in PROTOCOL, event
