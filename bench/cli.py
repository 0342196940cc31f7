"""``python -m bench <scenario> [options]``: one JSON object per measured run on stdout.

Progress goes to stderr. Each (target, mode) gets its own server process, started the way
production starts it, and for Parley a fresh database that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from bench import scenarios
from bench.targets import LOG_DIR, MODES, Server, log, raise_fd_limit

REALTIME = ("steady", "search", "overload", "idle", "fanout")
READ_PATH = ("history", "ticketlist")
SCENARIOS = (*REALTIME, *READ_PATH)
#: Scenarios named on the command line only (not part of ``all``): they start several servers.
EXTRA = ("scaleout",)
PARLEY_ONLY = (*READ_PATH, *EXTRA)

#: Per-scenario defaults for options left unset on the command line.
DEFAULTS: dict[str, dict[str, Any]] = {
    "steady": {"tickets": 50, "rate": 100.0, "duration": 8.0, "grace": 5.0},
    "search": {"tickets": 50, "rate": 50.0, "duration": 4.0, "grace": 3.0},
    "overload": {"tickets": 50, "duration": 10.0, "grace": 10.0},
    "idle": {"clients": 2000, "hold": 5.0},
    "fanout": {"recipients": 20, "rate": 25.0, "duration": 10.0, "grace": 5.0, "receipts": "none"},
    "history": {"depth": 100_000, "total": 1_000_000, "requests": 200},
    "ticketlist": {"count": 100_000, "requests": 200},
    "scaleout": {"tickets": 50, "rate": 100.0, "duration": 8.0, "grace": 5.0},
}
COMMON: dict[str, Any] = {
    "tickets": 50,
    "rate": 100.0,
    "duration": 10.0,
    "grace": 5.0,
    "receipts": "read",
    "clients": 2000,
    "hold": 5.0,
    "recipients": 20,
    "depth": 100_000,
    "total": 1_000_000,
    "count": 100_000,
    "requests": 200,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Parley's benchmark: real-time throughput and latency against Parley and "
        "a bare Flask-SocketIO relay, idle connections, fan-out, history and ticket-list "
        "reads. Prints one JSON object per measured run on stdout; progress on stderr.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default="all",
        choices=(*SCENARIOS, *EXTRA, "all"),
        help="default: all (every scenario but scaleout)",
    )
    p.add_argument("--target", choices=("parley", "relay", "both"), default="both")
    p.add_argument("--mode", choices=(*MODES, "all"), default="eventlet")
    p.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("PARLEY_BENCH_PG")
        or os.environ.get("PARLEY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server where the throw-away database is created (trust auth)",
    )
    p.add_argument("--redis", default=None, help="REDIS_URL for the servers (default: none)")
    p.add_argument(
        "--repeat", type=int, default=1, help="runs per target (relay and Parley alternate)"
    )
    g = p.add_argument_group("load")
    g.add_argument("--tickets", type=int, help="tickets, each a visitor and an agent client")
    g.add_argument("--agents", type=int, help="agent clients (default: one per ticket)")
    g.add_argument("--workspaces", type=int, default=1, help="spread tickets over workspaces")
    g.add_argument("--rate", type=float, help="total msgs/s (overload: the overload rate)")
    g.add_argument("--duration", type=float, help="seconds of sending per measured run")
    g.add_argument("--grace", type=float, help="seconds to wait for late acks and deliveries")
    g.add_argument(
        "--receipts",
        choices=("read", "delivered", "none"),
        help="what a receiving client sends back per message (default read; fanout none)",
    )
    g.add_argument("--workers", type=int, default=1, help="load-client processes")
    g.add_argument("--concurrency", type=int, default=100, help="connects in flight")
    g.add_argument("--warmup", type=float, default=1.0, help="seconds of unreported sending first")
    s = p.add_argument_group("search and overload")
    s.add_argument("--steps", type=int, default=12, help="most search steps")
    s.add_argument("--p99-limit", type=float, default=scenarios.SEARCH_P99_MS)
    s.add_argument("--max-rate", type=float, default=20_000.0)
    s.add_argument("--min-rate", type=float, default=5.0)
    s.add_argument("--precision", type=float, default=0.1, help="bisection stops at this gap")
    s.add_argument("--search-duration", type=float, default=4.0, help="seconds per search step")
    o = p.add_argument_group("idle and fanout")
    o.add_argument("--clients", type=int, help="idle connections to open")
    o.add_argument("--hold", type=float, help="seconds to hold the idle connections")
    o.add_argument("--recipients", type=int, help="agents in the fan-out ticket")
    x = p.add_argument_group("scaleout (N Parley processes behind nginx, Redis queue)")
    x.add_argument("--processes", default="1,2", help="process counts to compare, e.g. 1,2")
    x.add_argument("--lb", choices=("nginx",), default="nginx", help="the load balancer")
    x.add_argument(
        "--sources", type=int, default=64, help="loopback source addresses for the clients"
    )
    r = p.add_argument_group("history and ticketlist")
    r.add_argument("--depth", type=int, help="messages in the history ticket")
    r.add_argument("--total", type=int, help="messages in the whole database")
    r.add_argument("--count", type=int, help="tickets in the ticket-list workspace")
    r.add_argument("--requests", type=int, help="timed requests per case")
    return p


def resolve(args: argparse.Namespace, scenario: str) -> argparse.Namespace:
    """The options for one scenario: what was given, else its defaults, else common ones."""
    out = argparse.Namespace(**vars(args))
    out.overload_rate = args.rate if scenario == "overload" else None
    for key, value in {**COMMON, **DEFAULTS.get(scenario, {})}.items():
        given = getattr(args, key, None)
        if scenario == "overload" and key == "rate":
            given = None  # --rate is the overload rate; the search starts at its default
        setattr(out, key, value if given is None else given)
    if scenario == "overload" and out.rate is None:
        out.rate = DEFAULTS["search"]["rate"]
    return out


def ratio(parley: dict[str, Any], relay: dict[str, Any]) -> None:
    """Parley's headline figure over the relay's, in Parley's line."""
    key = {"search": "max_rate", "idle": "rss_per_conn_kb"}.get(parley["scenario"], "msgs_per_s")
    a, b = parley.get(key), relay.get(key)
    parley["ratio_of"] = key
    parley["ratio_to_relay"] = round(a / b, 3) if a is not None and b else None
    parley["relay_p99_ms"] = relay.get("p99_ms")


def run_one(
    scenario: str,
    target: str,
    mode: str,
    args: argparse.Namespace,
    known: dict[tuple[str, str], float],
) -> list[dict[str, Any]]:
    opts = resolve(args, scenario)
    if scenario == "scaleout":
        from bench.scaleout import scaleout

        return scaleout(mode, opts)
    server = Server(target, mode, db=args.db, pg_server=args.pg_url, redis_url=args.redis)
    fn: Callable[[Server, argparse.Namespace], list[dict[str, Any]]]
    if scenario == "overload":

        def fn(s: Server, a: argparse.Namespace) -> list[dict[str, Any]]:
            return scenarios.overload(s, a, known)

    else:
        fn = getattr(scenarios, scenario)
    try:
        server.start()
        lines = fn(server, opts)
        if not server.alive():
            log(f"{server.label}: the server process died; log tail:\n{server.log_tail(2000)}")
        return lines
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    raise_fd_limit()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    todo = SCENARIOS if args.scenario == "all" else (args.scenario,)
    modes = MODES if args.mode == "all" else (args.mode,)
    targets = ("relay", "parley") if args.target == "both" else (args.target,)
    known: dict[tuple[str, str], float] = {}
    failed = 0
    t0 = time.monotonic()
    for scenario in todo:
        for mode in modes:
            for rep in range(max(1, args.repeat)):
                relay_lines: dict[str, dict[str, Any]] = {}
                for target in targets:
                    if scenario in PARLEY_ONLY and target == "relay":
                        if args.target == "relay":
                            log(f"{scenario} measures Parley only; the relay is skipped")
                        continue
                    log(f"== {scenario} on {target} ({mode})" + (f", run {rep + 1}" if rep else ""))
                    try:
                        lines = run_one(scenario, target, mode, args, known)
                    except KeyboardInterrupt:
                        log("interrupted")
                        return 130
                    except Exception as exc:
                        failed += 1
                        log(f"{scenario} on {target}/{mode} failed: {exc!r}")
                        traceback.print_exc(file=sys.stderr)
                        lines = [
                            {
                                "scenario": scenario,
                                "target": target,
                                "mode": mode,
                                "error": repr(exc),
                            }
                        ]
                    for line in lines:
                        if args.repeat > 1:
                            line["run"] = rep + 1
                        if scenario == "search" and "max_rate" in line:
                            known[(target, mode)] = float(line["max_rate"])
                        case = str(line.get("case", ""))
                        if target == "relay":
                            relay_lines[case] = line
                        elif case in relay_lines and "error" not in line:
                            if "error" not in relay_lines[case]:
                                ratio(line, relay_lines[case])
                        print(json.dumps(line), flush=True)
    log(f"done in {time.monotonic() - t0:.0f}s; server logs in {LOG_DIR}")
    return 1 if failed else 0
