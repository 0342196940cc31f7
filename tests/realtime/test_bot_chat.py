"""The FAQ bot in a live chat, through real Socket.IO clients against a real server: every
decision path (answer, "Did you mean...?", unsure, requests for a person in four languages,
two low-confidence turns, feedback both ways, outside business hours)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.live import Api, Client
from tests.realtime.conftest import ClientFactory

KB = json.loads((Path(__file__).resolve().parents[2] / "evaluation/bot/kb.json").read_text())
ROWS = [
    {
        "question": e["question"],
        "answer": e["answer"],
        "alternatives": e["alternatives"],
        "external_id": e["id"],
    }
    for e in KB
]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _bot_site(api: Api, **settings: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    owner = api.signup()
    site = api.site(owner["token"], bot_enabled=True, **settings)
    api.call("POST", f"/sites/{site['id']}/faq/import", owner["token"], json=ROWS)
    return owner, site


def _guest(api: Api, connect: ClientFactory, site: dict[str, Any]) -> Client:
    return connect({"visitor_token": api.visitor(site)["visitor_token"]})


def _bot_reply(guest: Client, ticket_id: str, after_seq: int) -> dict[str, Any]:
    got = guest.wait_for(
        "message:new",
        lambda d: (
            d["message"]["ticket_id"] == ticket_id
            and d["message"]["sender"]["type"] == "bot"
            and d["message"]["seq"] > after_seq
        ),
    )
    return got["message"]  # type: ignore[no-any-return]


def _say(guest: Client, text: str, ticket_id: str | None = None) -> tuple[str, dict[str, Any]]:
    ack = guest.send(text, ticket_id)
    assert ack["ok"], ack
    tid = ack["message"]["ticket_id"]
    return tid, _bot_reply(guest, tid, ack["message"]["seq"])


def _ticket(api: Api, owner: dict[str, Any], ticket_id: str) -> dict[str, Any]:
    return api.call("GET", f"/tickets/{ticket_id}", owner["token"])["ticket"]  # type: ignore[no-any-return]


def _history(api: Api, owner: dict[str, Any], ticket_id: str) -> list[dict[str, Any]]:
    return api.call("GET", f"/tickets/{ticket_id}/messages", owner["token"])["messages"]  # type: ignore[no-any-return]


def test_bot_answers_from_the_faq_with_buttons(api: Api, connect: ClientFactory) -> None:
    owner, site = _bot_site(api)
    guest = _guest(api, connect, site)
    ticket_id, reply = _say(guest, "How do I reset my password?")
    assert reply["sender"]["type"] == "bot"
    assert reply["body"].startswith("Click 'Forgot password'")
    assert reply["meta"]["actions"] == ["helpful", "handoff"]
    assert reply["meta"]["faq_id"]
    assert _ticket(api, owner, ticket_id)["status"] == "bot"
    stored = [m for m in _history(api, owner, ticket_id) if m["sender"]["type"] == "bot"]
    assert stored[0]["meta"] == reply["meta"]  # history carries the buttons too
    ack = guest.call(
        "bot:feedback", {"ticket_id": ticket_id, "message_id": reply["id"], "helpful": True}
    )
    assert ack["ok"] and ack["ticket"]["status"] == "bot"


def test_talk_to_a_human_button_hands_off_and_tells_agents(
    api: Api, connect: ClientFactory
) -> None:
    owner, site = _bot_site(api)
    agent = connect({"token": owner["token"]})
    guest = _guest(api, connect, site)
    ticket_id, reply = _say(guest, "Which payment methods do you accept?")
    assert reply["meta"]["actions"] == ["helpful", "handoff"]
    ack = guest.call(
        "bot:feedback", {"ticket_id": ticket_id, "message_id": reply["id"], "helpful": False}
    )
    assert ack["ok"] and ack["ticket"]["status"] == "open"
    agent.wait_for(
        "ticket:updated",
        lambda d: d["ticket"]["id"] == ticket_id and d["ticket"]["status"] == "open",
    )
    events = [m["body"] for m in _history(api, owner, ticket_id) if m["kind"] == "event"]
    assert any("did not help" in body for body in events)


@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to a human please?",
        "Quiero hablar con una persona",
        "Ich möchte mit einem Menschen sprechen",
        "Je voudrais parler à un conseiller",
        "Are you a bot?",
    ],
)
def test_requests_for_a_person_hand_off_in_four_languages(
    api: Api, connect: ClientFactory, text: str
) -> None:
    owner, site = _bot_site(api)
    agent = connect({"token": owner["token"]})
    guest = _guest(api, connect, site)
    ticket_id, reply = _say(guest, text)
    assert "passing you to a person" in reply["body"]
    agent.wait_for(
        "ticket:updated",
        lambda d: d["ticket"]["id"] == ticket_id and d["ticket"]["status"] == "open",
    )
    events = [m["body"] for m in _history(api, owner, ticket_id) if m["kind"] == "event"]
    assert any(body.startswith("The bot handed the ticket to a person") for body in events)
    # Once with people, the bot stays quiet (the message path only wakes it for bot tickets).
    assert guest.send("Hello?", ticket_id)["ok"]
    bot_lines = [m for m in _history(api, owner, ticket_id) if m["sender"]["type"] == "bot"]
    assert len(bot_lines) == 1


def test_middle_band_offers_did_you_mean_then_two_unsure_turns_hand_off(
    api: Api, connect: ClientFactory
) -> None:
    owner, site = _bot_site(api)
    guest = _guest(api, connect, site)
    ticket_id, first = _say(guest, "discount")
    assert first["body"].startswith("Did you mean")
    assert first["meta"]["actions"] == ["handoff"]
    suggested = [s["question"] for s in first["meta"]["suggestions"]]
    assert 1 < len(suggested) <= 3 and "Do you offer a student discount?" in suggested
    assert _ticket(api, owner, ticket_id)["status"] == "bot"
    _, second = _say(guest, "tell me a joke", ticket_id)
    assert "passing you to a person" in second["body"]
    assert _ticket(api, owner, ticket_id)["status"] == "open"


def test_an_unsure_turn_asks_again_before_handing_off(api: Api, connect: ClientFactory) -> None:
    owner, site = _bot_site(api)
    guest = _guest(api, connect, site)
    ticket_id, first = _say(guest, "what is the meaning of life")
    assert first["body"].startswith("Sorry, I am not sure") and first["meta"]["actions"] == [
        "handoff"
    ]
    _, second = _say(guest, "How long does delivery take?", ticket_id)
    assert second["body"].startswith("Standard delivery takes")  # a good answer resets
    _, third = _say(guest, "asdfgh jkl", ticket_id)
    assert third["body"].startswith("Sorry, I am not sure")
    assert _ticket(api, owner, ticket_id)["status"] == "bot"


def test_outside_business_hours_the_bot_says_when_people_are_back_and_takes_an_email(
    api: Api, connect: ClientFactory
) -> None:
    tomorrow = WEEKDAYS[(datetime.now(UTC) + timedelta(days=1)).weekday()]
    hours = {"timezone": "UTC", "days": {tomorrow: [{"open": "09:00", "close": "17:00"}]}}
    owner, site = _bot_site(api, business_hours=hours)
    guest = _guest(api, connect, site)
    ticket_id, reply = _say(guest, "I want to speak to a real person")
    assert "back on" in reply["body"] and "at 09:00 UTC" in reply["body"]
    assert "e-mail" in reply["body"]
    assert _ticket(api, owner, ticket_id)["status"] == "bot"
    _, thanks = _say(guest, "sure, it's Jo.Doe@Example.com", ticket_id)
    assert "jo.doe@example.com" in thanks["body"]
    ticket = _ticket(api, owner, ticket_id)
    assert ticket["status"] == "open" and ticket["visitor"]["email"] == "jo.doe@example.com"


def test_feedback_on_someone_elses_ticket_is_not_found(api: Api, connect: ClientFactory) -> None:
    _owner, site = _bot_site(api)
    guest = _guest(api, connect, site)
    ticket_id, reply = _say(guest, "How do I reset my password?")
    stranger = _guest(api, connect, site)
    ack = stranger.call(
        "bot:feedback", {"ticket_id": ticket_id, "message_id": reply["id"], "helpful": False}
    )
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    bad = guest.call(
        "bot:feedback", {"ticket_id": ticket_id, "message_id": reply["id"], "helpful": "no"}
    )
    assert bad["ok"] is False and bad["error"]["code"] == "invalid"


def test_choosing_a_suggestion_gets_its_answer(api: Api, connect: ClientFactory) -> None:
    _owner, site = _bot_site(api)
    guest = _guest(api, connect, site)
    ticket_id, first = _say(guest, "my refund")
    assert first["body"].startswith("Did you mean")
    choice = first["meta"]["suggestions"][0]
    _, answer = _say(guest, choice["question"], ticket_id)
    assert answer["meta"]["faq_id"] == choice["faq_id"]
    assert answer["meta"]["actions"] == ["helpful", "handoff"]
