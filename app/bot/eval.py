"""``parley bot-eval``: the live chat's decision and default thresholds over files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.bot.decision import DEFAULT_THRESHOLDS, decide
from app.bot.index import KbEntry, KnowledgeIndex

HANDOFF = "HANDOFF"


def load_kb(path: str | Path) -> list[KbEntry]:
    """A JSON list of ``{id, question, answer, alternatives}``."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"The knowledge base is not readable JSON: {exc}") from exc
    if not isinstance(rows, list):
        raise ValueError("The knowledge base must be a JSON list of entries.")
    entries = []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not row.get("question") or "id" not in row:
            raise ValueError(f"Entry {n} needs an id and a question.")
        alternatives = row.get("alternatives") or []
        entries.append(
            KbEntry(
                str(row["id"]),
                str(row["question"]),
                str(row.get("answer") or ""),
                tuple(map(str, alternatives)),
            )
        )
    return entries


def run_batch(kb_path: str | Path, questions_path: str | Path, out_path: str | Path) -> int:
    """Write ``{text, predicted}`` for every ``{text}`` line; returns how many."""
    index = KnowledgeIndex(load_kb(kb_path))
    count = 0
    with (
        open(questions_path, encoding="utf-8") as source,
        open(out_path, "w", encoding="utf-8") as out,
    ):
        for n, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                row: Any = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"Line {n} of the questions is not JSON: {exc.msg}") from exc
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"Line {n} of the questions needs a text.")
            decision = decide(index, row["text"], DEFAULT_THRESHOLDS)
            predicted = decision.match.entry.id if decision.match else HANDOFF
            out.write(
                json.dumps({"text": row["text"], "predicted": predicted}, ensure_ascii=False) + "\n"
            )
            count += 1
    return count
