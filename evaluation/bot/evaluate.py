"""Evaluate the FAQ bot on evaluation/bot: calibrate thresholds on the tuning part, report
on the held-out part, and time decisions on a 500-entry knowledge base.

    .venv/bin/python evaluation/bot/evaluate.py [--model use|e5] [--budget 0.03]

Metrics (docs/BOT.md): top-1 accuracy = answerable questions answered with the right entry /
answerable questions; wrong-answer rate = messages answered with a wrong entry, or answered
when they should have been handed off / all messages; handoff recall = messages that should
be handed off and were not answered / such messages; person requests handed off.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from app.bot.calibrate import Labelled  # noqa: E402
from app.bot.calibrate import calibrate as calibrate_thresholds  # noqa: E402
from app.bot.decision import DEFAULT_THRESHOLDS, Thresholds, decide  # noqa: E402
from app.bot.index import KbEntry, KnowledgeIndex  # noqa: E402

PERSON_CATEGORIES = ("person", "bot_question")


def load_kb(path: Path) -> list[KbEntry]:
    return [
        KbEntry(str(e["id"]), e["question"], e["answer"], tuple(e.get("alternatives") or ()))
        for e in json.loads(path.read_text())
    ]


def load_questions(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def predict(index: KnowledgeIndex, text: str, thresholds: Thresholds) -> str:
    decision = decide(index, text, thresholds)
    return decision.match.entry.id if decision.match else "HANDOFF"


def metrics(rows: list[dict[str, str]], predicted: list[str]) -> dict[str, float]:
    answerable = [
        (r, p) for r, p in zip(rows, predicted, strict=True) if r["expected"] != "HANDOFF"
    ]
    handoffs = [(r, p) for r, p in zip(rows, predicted, strict=True) if r["expected"] == "HANDOFF"]
    person = [(r, p) for r, p in handoffs if r["category"] in PERSON_CATEGORIES]
    wrong = sum(
        1 for r, p in zip(rows, predicted, strict=True) if p not in ("HANDOFF", r["expected"])
    )
    return {
        "messages": len(rows),
        "top1_accuracy": _ratio(sum(r["expected"] == p for r, p in answerable), len(answerable)),
        "wrong_answer_rate": _ratio(wrong, len(rows)),
        "handoff_recall": _ratio(sum(p == "HANDOFF" for _, p in handoffs), len(handoffs)),
        "person_requests_handed_off": _ratio(sum(p == "HANDOFF" for _, p in person), len(person)),
    }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def calibrate(
    index: KnowledgeIndex, rows: list[dict[str, str]], budget: float
) -> tuple[Thresholds, dict[str, float]]:
    """The app's own calibration (app/bot/calibrate.py) on the tuning rows."""
    labelled = [Labelled(r["text"], r["expected"]) for r in rows]
    thresholds = calibrate_thresholds(index, labelled, budget).thresholds
    return thresholds, metrics(rows, [predict(index, r["text"], thresholds) for r in rows])


def large_kb(entries: list[KbEntry], size: int) -> list[KbEntry]:
    """The real entries plus generated ones, up to ``size``, for timing."""
    topics = ["tent", "jacket", "boots", "backpack", "sleeping bag", "stove", "ski", "helmet"]
    verbs = ["store", "repair", "clean", "pack", "adjust", "insure", "register", "recycle"]
    out = list(entries)
    i = 0
    while len(out) < size:
        topic, verb = topics[i % len(topics)], verbs[(i // len(topics)) % len(verbs)]
        out.append(
            KbEntry(
                f"gen-{i}",
                f"How do I {verb} my {topic} (model {i})?",
                f"To {verb} the {topic} model {i}, follow the guide on its product page, step {i}.",
                (f"{verb} {topic} {i}",),
            )
        )
        i += 1
    return out


def time_decisions(model: str, entries: list[KbEntry], texts: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    index = KnowledgeIndex(large_kb(entries, 500), model=model)
    build_s = time.perf_counter() - started
    times = []
    for text in texts:
        t0 = time.perf_counter()
        decide(index, text)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "kb_entries": 500,
        "index_build_s": round(build_s, 2),
        "decision_p50_ms": round(times[len(times) // 2], 1),
        "decision_p95_ms": round(times[int(len(times) * 0.95)], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="use or e5 (default: the app's default)")
    parser.add_argument(
        "--budget", type=float, default=0.03, help="wrong answers allowed on tuning"
    )
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    if args.model:
        os.environ["PARLEY_BOT_MODEL"] = args.model
    from app.bot.embedding import model_name

    model = model_name()
    rows = load_questions(HERE / "questions.jsonl")
    entries = load_kb(HERE / "kb.json")
    started = time.perf_counter()
    index = KnowledgeIndex(entries, model=model)
    load_s = time.perf_counter() - started
    tuning = [r for r in rows if r["split"] == "tuning"]
    heldout = [r for r in rows if r["split"] == "heldout"]
    thresholds, tuned = calibrate(index, tuning, args.budget)
    report = {
        "model": model,
        "model_load_and_index_s": round(load_s, 2),
        "calibrated": thresholds.__dict__,
        "tuning": tuned,
        "heldout_calibrated": metrics(
            heldout, [predict(index, r["text"], thresholds) for r in heldout]
        ),
        "heldout_defaults": metrics(
            heldout, [predict(index, r["text"], DEFAULT_THRESHOLDS) for r in heldout]
        ),
        "defaults": DEFAULT_THRESHOLDS.__dict__,
    }
    if not args.no_timing:
        report["timing"] = time_decisions(model, entries, [r["text"] for r in rows])
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
