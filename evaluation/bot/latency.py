"""Time from a visitor's message to the bot's reply in a live chat (real server, real clients).

    .venv/bin/python evaluation/bot/latency.py [--messages 60] [--database-url URL]

Starts ``python wsgi.py`` (eventlet) on a migrated SQLite file unless a database URL is given,
imports evaluation/bot/kb.json into a bot-enabled site and sends held-out questions, one
visitor each, one at a time; prints p50/p95/max of message-to-reply in milliseconds. The
first reply includes loading the model and building the index (reported apart).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.live import Api, Client, Server, demo_database, free_port_pair  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    kb = json.loads((HERE / "kb.json").read_text())
    rows = [json.loads(x) for x in (HERE / "questions.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in rows if r["split"] == "heldout"]
    with tempfile.TemporaryDirectory() as folder:
        port = free_port_pair()
        url = args.database_url or demo_database(Path(folder), port)
        server = Server({"DATABASE_URL": url}, port=port).start()
        try:
            api = Api(server.url)
            owner = api.signup()
            site = api.site(owner["token"], bot_enabled=True)
            entries = [
                {
                    "question": e["question"],
                    "answer": e["answer"],
                    "alternatives": e["alternatives"],
                }
                for e in kb
            ]
            api.call("POST", f"/sites/{site['id']}/faq/import", owner["token"], json=entries)
            times = []
            for n in range(args.messages + 1):
                guest = Client(
                    server.url,
                    {"visitor_token": api.visitor(site)["visitor_token"]},
                    ["polling", "websocket"],
                )
                guest.connect()
                started = time.perf_counter()
                ack = guest.send(texts[n % len(texts)])
                guest.wait_for("message:new", lambda d: d["message"]["sender"]["type"] == "bot")
                times.append((time.perf_counter() - started) * 1000)
                if not ack["ok"]:
                    raise SystemExit(f"send failed: {ack}")
                guest.disconnect()
            cold, warm = times[0], sorted(times[1:])
            print(
                json.dumps(
                    {
                        "messages": len(warm),
                        "first_reply_ms_cold": round(cold),
                        "p50_ms": round(warm[len(warm) // 2]),
                        "p95_ms": round(warm[int(len(warm) * 0.95) - 1]),
                        "max_ms": round(warm[-1]),
                    }
                )
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
