"""Encryption at rest: what the API stores in ``messages`` is ciphertext (and a blind index),
every reader still gets plaintext, and a wrong or missing key is an error, never garbage."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.lib import crypto
from tests import factories as f
from tests.conftest import clear_database

#: Words that must never reach the table in clear (each sent once, in a text or a note).
SECRET_WORDS = ("zebra", "parcel", "refund", "upset", "mañana")


def key_item(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def keyed_app(database_url: str, keys: str | None) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret-key",
            "PARLEY_ENCRYPTION_KEYS": keys,
        }
    )


@pytest.fixture
def keyed(database_url: str) -> Iterator[Flask]:
    app = keyed_app(database_url, key_item("ka"))
    with app.app_context():
        clear_database()
    yield app
    with app.app_context():
        clear_database()
        db.session.remove()
        db.engine.dispose()


def raw_rows(app: Flask) -> list[Any]:
    """The messages table as stored, read with plain SQL (no column type in between)."""
    with app.app_context():
        rows = db.session.execute(
            text("SELECT id, ticket_id, kind, body, search_terms FROM messages ORDER BY seq")
        ).all()
        db.session.remove()
    return list(rows)


def _conversation(client: FlaskClient) -> tuple[f.AgentSession, f.VisitorSession, str]:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    visitor = f.widget_session(client, site)
    ticket = f.start_ticket(client, visitor, "My parcel ZEBRA-7 never arrived")
    for body, kind in (("Refund approved", "text"), ("Customer sounds upset", "note")):
        r = f.send(client, owner.headers, ticket["id"], body, kind=kind)
        assert r.status_code == 201, r.get_json()
    r = f.send(client, visitor.headers, ticket["id"], "Gracias, hasta mañana")
    assert r.status_code == 201, r.get_json()
    return owner, visitor, ticket["id"]


def test_messages_and_notes_are_stored_encrypted_and_read_back_in_plaintext(
    keyed: Flask,
) -> None:
    client = keyed.test_client()
    owner, visitor, ticket_id = _conversation(client)
    rows = raw_rows(keyed)
    assert [r.kind for r in rows if r.kind != "event"] == ["text", "text", "note", "text"]
    for row in rows:
        assert row.body.startswith("pe1:ka:"), row.body
        assert row.search_terms.startswith("ka: ")
        stored = (row.body + row.search_terms).lower()
        assert not [w for w in SECRET_WORDS if w in stored], stored
    # Two sends of the same text are two different ciphertexts (a fresh nonce each).
    assert len({r.body for r in rows}) == len(rows)
    if keyed.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # There the replies went through the group-commit writer's raw SQL.
        assert keyed.extensions["parley.message_writer"].batches >= 1

    history = client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=owner.headers)
    bodies = [m["body"] for m in history.get_json()["messages"] if m["kind"] != "event"]
    assert bodies == [
        "My parcel ZEBRA-7 never arrived",
        "Refund approved",
        "Customer sounds upset",
        "Gracias, hasta mañana",
    ]
    mine = client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=visitor.headers)
    assert "Customer sounds upset" not in [m["body"] for m in mine.get_json()["messages"]]
    # Search finds words of texts and notes through the blind index, not the ciphertext.
    for q in ("zebra-7", "UPSET", "manana", "refund approved"):
        found = client.get("/api/v1/tickets", headers=owner.headers, query_string={"q": q})
        assert [t["id"] for t in found.get_json()["tickets"]] == [ticket_id], q
    found = client.get("/api/v1/tickets", headers=owner.headers, query_string={"q": "pe1"})
    assert found.get_json()["tickets"] == []


def test_a_body_moved_to_another_row_is_refused_not_shown(keyed: Flask) -> None:
    client = keyed.test_client()
    owner, _visitor, ticket_id = _conversation(client)
    rows = [r for r in raw_rows(keyed) if r.kind != "event"]
    with keyed.app_context():
        db.session.execute(
            text("UPDATE messages SET body = :body WHERE id = :id"),
            {"body": rows[2].body, "id": rows[1].id},  # the note's ciphertext onto a text
        )
        db.session.commit()
        db.session.remove()
    r = client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=owner.headers)
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal"
    assert "upset" not in r.get_data(as_text=True)
    with keyed.app_context(), pytest.raises(crypto.DecryptionError, match="moved from another"):
        crypto.keyring().open(ticket_id, rows[1].id, rows[2].body)


def test_a_missing_or_wrong_key_is_a_clear_error() -> None:
    sealed = crypto.KeyRing(key_item("ka")).seal("t1", "m1", "secret text")
    assert sealed.startswith("pe1:ka:") and "secret" not in sealed
    with pytest.raises(crypto.DecryptionError, match="key 'ka', which is not in"):
        crypto.KeyRing(key_item("kb")).open("t1", "m1", sealed)
    with pytest.raises(crypto.DecryptionError, match="does not decrypt with key 'ka'"):
        crypto.KeyRing(key_item("ka")).open("t1", "m1", sealed)
    ring = crypto.KeyRing(f"{key_item('kb')},{key_item('kc')}")
    assert ring.current_kid == "kb"
    assert ring.open("t1", "m1", "plaintext from before encryption") == (
        "plaintext from before encryption"
    )


@pytest.mark.parametrize(
    ("keys", "complaint"),
    [
        ("ka:c2hvcnQ=", "is not 32 bytes"),
        ("ka:" + "A" * 43 + "=,ka:" + "B" * 43 + "=", "appears twice"),
        (":" + "A" * 44, "kid of 1 to 32"),
        ("ka:" + "!" * 44, "is not 32 bytes"),
    ],
)
def test_malformed_keys_refuse_to_start_without_echoing_them(keys: str, complaint: str) -> None:
    with pytest.raises(crypto.KeyConfigError, match=complaint) as caught:
        keyed_app("sqlite://", keys)
    assert "A" * 10 not in str(caught.value) and "c2hvcnQ" not in str(caught.value)


def test_without_keys_a_private_instance_key_encrypts() -> None:
    app = keyed_app("sqlite://", None)
    path = os.path.join(app.instance_path, "encryption_keys")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        item = handle.read().strip()
    kid = item.split(":")[0]
    with app.app_context():
        assert crypto.keyring().current_kid == kid
    with keyed_app("sqlite://", None).app_context():  # the next start reads the same key
        assert crypto.keyring().current_kid == kid


def test_encryption_key_command_prints_a_usable_key() -> None:
    app = keyed_app("sqlite://", None)
    result = app.test_cli_runner().invoke(args=["parley", "encryption-key"])
    assert result.exit_code == 0, result.output
    ring = crypto.KeyRing(result.output.strip())
    assert ring.open("t", "m", ring.seal("t", "m", "hello")) == "hello"
