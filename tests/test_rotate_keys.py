"""``parley rotate-keys``: from key A (and plaintext rows from before encryption) to key B in
committed batches, interrupted and resumed; afterwards A can be dropped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.services import key_rotation
from tests import factories as f
from tests.conftest import clear_database
from tests.test_encryption import key_item, keyed_app, raw_rows

KEY_A, KEY_B = key_item("ka"), key_item("kb")


@pytest.fixture
def apps(database_url: str) -> Iterator[dict[str, Flask]]:
    made = {
        "a": keyed_app(database_url, KEY_A),
        "b,a": keyed_app(database_url, f"{KEY_B},{KEY_A}"),
        "b": keyed_app(database_url, KEY_B),
    }
    with made["a"].app_context():
        clear_database()
    yield made
    for app in made.values():
        with app.app_context():
            clear_database()
            db.session.remove()
            db.engine.dispose()


class _Interrupted(Exception):
    pass


def _search(app: Flask, headers: dict[str, str], q: str) -> list[str]:
    r = app.test_client().get("/api/v1/tickets", headers=headers, query_string={"q": q})
    assert r.status_code == 200, r.get_json()
    return [t["id"] for t in r.get_json()["tickets"]]


def test_rotation_interrupted_and_resumed_moves_every_row_to_the_new_key(
    apps: dict[str, Flask],
) -> None:
    client = apps["a"].test_client()
    owner = f.signup(client)
    site = f.create_site(client, owner)
    tickets = [
        f.start_ticket(client, f.widget_session(client, site), f"Question {n} about lanterns")
        for n in range(4)
    ]
    for ticket in tickets:
        r = f.send(client, owner.headers, ticket["id"], "Lanterns ship Friday", kind="note")
        assert r.status_code == 201
    # A row from before encryption: plaintext, no index.
    legacy = tickets[0]["id"]
    with apps["a"].app_context():
        db.session.execute(
            text(
                "UPDATE messages SET body = 'Old plaintext about kettles', search_terms = NULL"
                " WHERE ticket_id = :t AND seq = 1"
            ),
            {"t": legacy},
        )
        db.session.commit()
    total = len(raw_rows(apps["a"]))
    assert total >= 8

    # B is current, A still opens: everything reads and is found while rows are mixed.
    rotating = apps["b,a"]
    assert _search(rotating, owner.headers, "lanterns") == [t["id"] for t in reversed(tickets)]
    assert _search(rotating, owner.headers, "kettles") == [legacy]

    batches: list[int] = []

    def stop_after_two(n: int) -> None:
        batches.append(n)
        if len(batches) == 2:
            raise _Interrupted  # like Ctrl-C between two batches

    with rotating.app_context(), pytest.raises(_Interrupted):
        key_rotation.rotate_keys(batch_size=3, on_batch=stop_after_two)
    rows = raw_rows(rotating)
    under_b = [r for r in rows if r.body.startswith("pe1:kb:")]
    assert len(under_b) == 6 and len(rows) == total
    with rotating.app_context():
        assert key_rotation.count_behind() == total - 6

    result = rotating.test_cli_runner().invoke(args=["parley", "rotate-keys", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert f"{total - 6} messages now under key 'kb'" in result.output
    assert "Encrypting under key 'kb'" in result.output  # the progress bar's label
    rows = raw_rows(rotating)
    assert all(r.body.startswith("pe1:kb:") and r.search_terms.startswith("kb: ") for r in rows)
    assert not [r for r in rows if "kettles" in r.body.lower()]
    # A rerun has nothing left to do.
    again = rotating.test_cli_runner().invoke(args=["parley", "rotate-keys"])
    assert again.exit_code == 0 and "Every message is under key 'kb'" in again.output

    # A removed: history (the legacy row too) and search still work with B alone.
    only_b = apps["b"]
    client = only_b.test_client()
    history = client.get(f"/api/v1/tickets/{legacy}/messages", headers=owner.headers).get_json()
    bodies = [m["body"] for m in history["messages"] if m["kind"] != "event"]
    assert bodies == ["Old plaintext about kettles", "Lanterns ship Friday"]
    assert _search(only_b, owner.headers, "kettles") == [legacy]
    assert len(_search(only_b, owner.headers, "friday")) == 4


def test_rotation_without_the_old_key_stops_with_a_clear_error(apps: dict[str, Flask]) -> None:
    client = apps["a"].test_client()
    f.start_ticket(client, f.widget_session(client, f.create_site(client, f.signup(client))))
    result = apps["b"].test_cli_runner().invoke(args=["parley", "rotate-keys"])
    assert result.exit_code != 0
    assert "encrypted with key 'ka', which is not in PARLEY_ENCRYPTION_KEYS" in result.output
    assert all(r.body.startswith("pe1:ka:") for r in raw_rows(apps["a"]))
