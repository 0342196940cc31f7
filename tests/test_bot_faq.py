"""The knowledge base over REST: CRUD, JSON and CSV import, permissions, limits, and the
bot's decision (``/bot/ask``) following the entries as they change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from app.limits import (
    MAX_BOT_CALIBRATION_MESSAGES,
    MAX_FAQ_ALTERNATIVES,
    MAX_FAQ_IMPORT_ENTRIES,
    MAX_FAQ_QUESTION_CHARS,
)
from tests import factories as f

KB = json.loads((Path(__file__).resolve().parent.parent / "evaluation/bot/kb.json").read_text())


def _faq_url(site: dict[str, Any], rest: str = "") -> str:
    return f"/api/v1/sites/{site['id']}/faq{rest}"


def _import(client: FlaskClient, owner: f.Owner, site: dict[str, Any], rows: Any) -> Any:
    return client.post(_faq_url(site, "/import"), headers=owner.headers, json=rows)


def _ask(client: FlaskClient, owner: f.Owner, site: dict[str, Any], text: str) -> Any:
    r = client.post(
        f"/api/v1/sites/{site['id']}/bot/ask", headers=owner.headers, json={"text": text}
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _shop_rows() -> list[dict[str, Any]]:
    return [
        {
            "question": e["question"],
            "answer": e["answer"],
            "alternatives": e["alternatives"],
            "external_id": e["id"],
        }
        for e in KB
    ]


def test_owner_creates_lists_updates_and_deletes_entries(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    r = client.post(
        _faq_url(site),
        headers=owner.headers,
        json={"question": " How do I return an item? ", "answer": "Within 30 days."},
    )
    assert r.status_code == 201
    entry = r.get_json()["entry"]
    assert entry["question"] == "How do I return an item?" and entry["alternatives"] == []
    r = client.put(
        _faq_url(site, f"/{entry['id']}"),
        headers=owner.headers,
        json={"question": "Returns?", "answer": "Within 60 days.", "alternatives": ["send back"]},
    )
    assert r.status_code == 200 and r.get_json()["entry"]["answer"] == "Within 60 days."
    listed = client.get(_faq_url(site), headers=owner.headers).get_json()["entries"]
    assert [(e["question"], e["alternatives"]) for e in listed] == [("Returns?", ["send back"])]
    assert (
        client.delete(_faq_url(site, f"/{entry['id']}"), headers=owner.headers).status_code == 204
    )
    assert client.get(_faq_url(site), headers=owner.headers).get_json()["entries"] == []
    f.assert_error(
        client.delete(_faq_url(site, f"/{entry['id']}"), headers=owner.headers), 404, "not_found"
    )


def test_agents_read_but_only_owners_and_admins_write(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner, role="agent")
    admin = f.add_agent(client, owner, role="admin")
    site = f.create_site(client, owner)
    body = {"question": "Q?", "answer": "A."}
    f.assert_error(client.post(_faq_url(site), headers=agent.headers, json=body), 403, "forbidden")
    f.assert_error(_import(client, agent, site, [body]), 403, "forbidden")
    assert client.post(_faq_url(site), headers=admin.headers, json=body).status_code == 201
    assert len(client.get(_faq_url(site), headers=agent.headers).get_json()["entries"]) == 1


def test_another_workspace_cannot_see_or_change_the_faq(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    r = client.post(_faq_url(site), headers=owner.headers, json={"question": "Q?", "answer": "A."})
    entry_id = r.get_json()["entry"]["id"]
    other = f.signup(client, workspace="Other")
    f.assert_error(client.get(_faq_url(site), headers=other.headers), 404, "not_found")
    f.assert_error(
        client.put(
            _faq_url(site, f"/{entry_id}"),
            headers=other.headers,
            json={"question": "x", "answer": "y"},
        ),
        404,
        "not_found",
    )
    f.assert_error(
        client.post(
            f"/api/v1/sites/{site['id']}/bot/ask", headers=other.headers, json={"text": "hi"}
        ),
        404,
        "not_found",
    )


def test_import_json_replaces_entries_with_the_same_external_id(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    rows = [
        {"question": "Returns?", "answer": "30 days.", "external_id": "returns"},
        {"question": "Shipping?", "answer": "2 days."},
    ]
    r = _import(client, owner, site, rows)
    assert r.status_code == 200 and r.get_json()["created"] == 2
    r = _import(
        client,
        owner,
        site,
        [{"question": "Returns?", "answer": "60 days.", "external_id": "returns"}],
    )
    assert r.get_json()["created"] == 0 and r.get_json()["updated"] == 1
    entries = client.get(_faq_url(site), headers=owner.headers).get_json()["entries"]
    assert sorted(e["answer"] for e in entries) == ["2 days.", "60 days."]


def test_import_csv_with_alternatives(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    csv_text = (
        "question,answer,alternatives,external_id\n"
        '"How do I return an item?","Within 30 days, free label.",'
        '"send back|return policy",returns\n'
        "Do you ship abroad?,EU and UK.,,\n"
    )
    r = client.post(
        _faq_url(site, "/import"),
        headers={**owner.headers, "Content-Type": "text/csv"},
        data=csv_text.encode(),
    )
    assert r.status_code == 200, r.get_json()
    entries = r.get_json()["entries"]
    assert entries[0]["answer"] == "Within 30 days, free label."
    assert entries[0]["alternatives"] == ["send back", "return policy"]
    assert entries[0]["external_id"] == "returns" and entries[1]["external_id"] is None


def test_bad_imports_are_refused_with_field_errors(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    f.assert_error(_import(client, owner, site, {"question": "not a list"}), 422, "invalid")
    f.assert_error(_import(client, owner, site, [{"question": "no answer"}]), 422, "invalid")
    twice = [{"question": "a", "answer": "b", "external_id": "x"}] * 2
    f.assert_error(_import(client, owner, site, twice), 422, "invalid")
    bad_csv = client.post(
        _faq_url(site, "/import"),
        headers={**owner.headers, "Content-Type": "text/csv"},
        data=b"title,body\nx,y\n",
    )
    f.assert_error(bad_csv, 422, "invalid")
    assert client.get(_faq_url(site), headers=owner.headers).get_json()["entries"] == []


def test_faq_limits(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    too_long = {"question": "q" * (MAX_FAQ_QUESTION_CHARS + 1), "answer": "a"}
    f.assert_error(
        client.post(_faq_url(site), headers=owner.headers, json=too_long), 422, "invalid"
    )
    many_alts = {"question": "q", "answer": "a", "alternatives": ["x"] * (MAX_FAQ_ALTERNATIVES + 1)}
    f.assert_error(
        client.post(_faq_url(site), headers=owner.headers, json=many_alts), 422, "invalid"
    )
    rows = [{"question": f"q{i}", "answer": "a"} for i in range(MAX_FAQ_IMPORT_ENTRIES + 1)]
    f.assert_error(_import(client, owner, site, rows), 422, "invalid")
    labelled = [{"text": "hi", "expected": "HANDOFF"}] * (MAX_BOT_CALIBRATION_MESSAGES + 1)
    f.assert_error(
        client.post(
            f"/api/v1/sites/{site['id']}/bot/calibrate",
            headers=owner.headers,
            json={"messages": labelled},
        ),
        422,
        "invalid",
    )


def test_ask_answers_hands_off_and_suggests(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    assert _ask(client, owner, site, "How do I return an item?")["reason"] == "no_knowledge"
    assert _import(client, owner, site, _shop_rows()).status_code == 200
    answer = _ask(client, owner, site, "how do i reset my password")
    assert answer["handoff"] is False and answer["external_id"] == "password-reset"
    assert answer["answer"].startswith("Click 'Forgot password'")
    for text in (
        "I want to speak to a real person",
        "Quiero hablar con una persona",
        "Bist du ein Bot?",
    ):
        decision = _ask(client, owner, site, text)
        assert decision["handoff"] is True and decision["reason"] in (
            "asked_for_person",
            "asked_about_bot",
        )
    unrelated = _ask(client, owner, site, "write me a poem about mountains")
    assert unrelated["handoff"] is True and unrelated["faq_id"] is None


def test_ask_follows_entries_as_they_change(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    r = client.post(
        _faq_url(site),
        headers=owner.headers,
        json={"question": "Do you rent equipment?", "answer": "Tents from 15 euros a day."},
    )
    entry = r.get_json()["entry"]
    assert (
        _ask(client, owner, site, "Do you rent equipment?")["answer"]
        == "Tents from 15 euros a day."
    )
    client.put(
        _faq_url(site, f"/{entry['id']}"),
        headers=owner.headers,
        json={"question": "Do you rent equipment?", "answer": "Tents from 20 euros a day."},
    )
    assert (
        _ask(client, owner, site, "Do you rent equipment?")["answer"]
        == "Tents from 20 euros a day."
    )
    client.delete(_faq_url(site, f"/{entry['id']}"), headers=owner.headers)
    assert _ask(client, owner, site, "Do you rent equipment?")["reason"] == "no_knowledge"


def test_site_thresholds_default_then_set_by_hand_change_the_decision(client: FlaskClient) -> None:
    owner = f.signup(client)
    agent = f.add_agent(client, owner, role="agent")
    site = f.create_site(client, owner)
    _import(client, owner, site, _shop_rows())
    url = f"/api/v1/sites/{site['id']}/bot/settings"
    defaults = client.get(url, headers=agent.headers).get_json()
    assert defaults["calibrated"] is False and 0 < defaults["answer_threshold"] < 1
    assert _ask(client, owner, site, "how do i reset my password")["handoff"] is False
    strict = {"answer_threshold": 0.99, "margin": 0.5, "suggest_threshold": 0.9}
    f.assert_error(client.put(url, headers=agent.headers, json=strict), 403, "forbidden")
    r = client.put(url, headers=owner.headers, json=strict)
    assert r.status_code == 200 and r.get_json()["calibrated"] is True
    assert _ask(client, owner, site, "how do i reset my password")["handoff"] is True
    upside_down = {"answer_threshold": 0.3, "margin": 0.0, "suggest_threshold": 0.5}
    f.assert_error(client.put(url, headers=owner.headers, json=upside_down), 422, "invalid")


def test_calibration_keeps_wrong_answers_within_the_budget(client: FlaskClient) -> None:
    owner = f.signup(client)
    site = f.create_site(client, owner)
    _import(client, owner, site, _shop_rows())
    questions = [
        json.loads(line)
        for line in (Path(__file__).resolve().parent.parent / "evaluation/bot/questions.jsonl")
        .read_text()
        .splitlines()
    ]
    labelled = [
        {"text": q["text"], "expected": q["expected"]} for q in questions if q["split"] == "tuning"
    ]
    url = f"/api/v1/sites/{site['id']}/bot/calibrate"
    r = client.post(
        url, headers=owner.headers, json={"messages": labelled, "wrong_answer_budget": 0.0}
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["calibrated"] is True and body["calibration"]["answered_wrong"] == 0
    assert body["calibration"]["answered_right"] > 0
    unknown = {"messages": [{"text": "hi", "expected": "no-such-entry"}]}
    f.assert_error(client.post(url, headers=owner.headers, json=unknown), 422, "invalid")
