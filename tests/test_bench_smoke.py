"""A few seconds of ``python -m bench`` so the benchmark cannot rot.

Each run starts real servers (the relay and Parley on eventlet) against a throw-away database
the bench creates and drops. Only the shape of the output and the delivery counts are
checked: timing belongs in the bench's figures, never in pass/fail tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.lb import nginx_binary

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("PARLEY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = os.environ.get("PARLEY_TEST_BACKENDS", "postgresql,sqlite").split(",")
DB = "postgresql" if "postgresql" in BACKENDS else "sqlite"

#: CONTRACT section 7, plus what the bench adds to every line.
CONTRACT_FIELDS = (
    "scenario",
    "target",
    "clients",
    "tickets",
    "rate",
    "duration_s",
    "sent",
    "delivered",
    "lost",
    "duplicates",
    "msgs_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "server_rss_mb",
)
BENCH_FIELDS = ("mode", "db", "client_cpu_s", "server_cpu_s")


def run_bench(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--mode", "eventlet", "--db", DB],
        cwd=ROOT,
        env={**os.environ, "PARLEY_BENCH_PG": PG_SERVER},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert lines, done.stderr[-5000:]
    for line in lines:
        missing = [f for f in (*CONTRACT_FIELDS, *BENCH_FIELDS) if f not in line]
        assert not missing, (missing, line)
        assert line["mode"] == "eventlet"
    return lines


def test_steady_runs_against_parley_and_the_relay() -> None:
    lines = run_bench(
        "steady",
        "--target",
        "both",
        "--tickets",
        "2",
        "--rate",
        "20",
        "--duration",
        "2",
        "--warmup",
        "0.5",
    )
    by_target = {line["target"]: line for line in lines}
    assert sorted(by_target) == ["parley", "relay"]
    for line in lines:
        assert line["scenario"] == "steady"
        assert line["tickets"] == 2
        assert line["clients"] == 4
        assert line["sent"] > 0
        assert line["delivered"] == line["sent"]
        assert line["lost"] == 0
        assert line["duplicates"] == 0
        assert line["ack_missing"] == 0
        assert line["refused"] == {}
        assert isinstance(line["client_cpu_s"], float)
        assert isinstance(line["server_cpu_s"], float)
        assert line["server_alive"]
    assert by_target["parley"]["db"] == DB
    assert by_target["relay"]["db"] == "none"
    assert "ratio_to_relay" in by_target["parley"]


def test_history_pages_of_a_seeded_ticket() -> None:
    lines = run_bench("history", "--depth", "500", "--total", "2000", "--requests", "5")
    assert {line["target"] for line in lines} == {"parley"}
    assert {line["depth"] for line in lines} >= {0, 450}
    for line in lines:
        assert line["scenario"] == "history"
        assert line["delivered"] == line["sent"] == 5
        assert line["lost"] == 0
        assert line["page_ok"], line
        assert line["ticket_messages"] == 500
        assert line["db_messages"] == 2000


def test_ticket_list_of_a_seeded_workspace() -> None:
    lines = run_bench("ticketlist", "--count", "300", "--requests", "5")
    assert {line["target"] for line in lines} == {"parley"}
    cases = [line["case"] for line in lines]
    assert "first page" in cases
    assert any(case.startswith("deep page") for case in cases)
    for line in lines:
        assert line["scenario"] == "ticketlist"
        assert line["workspace_tickets"] == 300
        assert line["lost"] == 0
        assert line["delivered"] > 0


@pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (.ci/run installs it)")
def test_scaleout_runs_two_processes_behind_nginx() -> None:
    """``bench scaleout``: two Parley processes behind nginx, clients spread over both."""
    lines = run_bench(
        "scaleout",
        "--processes",
        "2",
        "--tickets",
        "2",
        "--rate",
        "10",
        "--duration",
        "1",
        "--search-duration",
        "1",
        "--steps",
        "1",
        "--grace",
        "3",
        "--warmup",
        "0.3",
    )
    assert [line["case"] for line in lines] == ["search, 2 processes", "steady, 2 processes"]
    for line in lines:
        assert line["scenario"] == "scaleout"
        assert line["target"] == "parley"
        assert line["processes"] == 2
        assert line["lb"] == "nginx"
        assert sorted(line["conns_per_process"].values()) == [2, 2]
        assert line["sent"] > 0
        assert line["delivered"] == line["sent"]
        assert line["lost"] == 0
        assert line["duplicates"] == 0
        assert line["ack_missing"] == 0
        assert line["server_alive"]


def test_chart_draws_each_run_and_the_median_of_search_lines() -> None:
    from bench.chart import search_rates, svg

    lines = [
        json.dumps({"scenario": "search", "target": "relay", "max_rate": 1400.0}),
        json.dumps({"scenario": "search", "target": "parley", "max_rate": 188.0}),
        json.dumps({"scenario": "steady", "target": "parley", "max_rate": 999.0}),
        json.dumps({"scenario": "search", "target": "relay", "max_rate": 1600.0}),
        json.dumps({"scenario": "search", "target": "parley", "max_rate": 325.0}),
    ]
    rates = search_rates(lines)
    assert rates == {"relay": [1400.0, 1600.0], "parley": [188.0, 325.0]}
    drawn = svg(rates, "Rates <p99>")
    assert drawn.startswith("<svg") and "Rates &lt;p99&gt;" in drawn
    labels = [">1400<", ">188<", ">1600<", ">325<", ">1500<", ">256<", ">median<"]
    assert all(label in drawn for label in labels), drawn
    assert "999" not in drawn
