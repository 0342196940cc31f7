"""``python -m bench scaleout``: N Parley processes behind nginx, N from ``--processes``.

Each N gets a cluster: one fresh database, N ``python wsgi.py`` processes with the same
``SECRET_KEY``, Redis (``--redis``, default ``redis://127.0.0.1:6379/0``) with a channel of
its own, and nginx with sticky sessions (bench/lb.py). One process goes through nginx and
Redis too, so the runs differ only in the number of processes. Load clients leave from
``--sources`` loopback addresses (127.0.0.2...): nginx's hash of each is probed, and they are
ordered so that any N consecutive connections land on the N processes (balanced load) while a
ticket's visitor and agent share a process or not pseudo-randomly (when not, every message
crosses Redis); ``conns_per_process`` and ``cross_process_tickets`` report the outcome.
On each cluster: the search (``--steps``, ``--search-duration``) and a steady run at
``--rate``; each line carries ``processes`` and, after the first N, ``ratio`` to it.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import time
from typing import Any

from bench import scenarios
from bench.lb import Nginx, source_addresses
from bench.targets import Database, Server, cpu_seconds, log

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


class Cluster:
    """N Parley processes on one database and Redis, behind nginx; quacks like ``Server``."""

    target = "parley"

    def __init__(self, n: int, mode: str, args: argparse.Namespace) -> None:
        self.n = n
        self.mode = mode
        self.db_kind = args.db
        self.database = Database(args.db, args.pg_url)
        self.redis_url = args.redis or DEFAULT_REDIS
        self.source_count = int(args.sources)
        self.processes: list[Server] = []
        self.nginx: Nginx | None = None
        self.sources: list[str] = []
        self.split: dict[str, int] = {}
        self.url = ""

    @property
    def label(self) -> str:
        return f"parley/{self.mode}/{self.db_kind} x{self.n} behind nginx"

    def start(self) -> Cluster:
        log(f"{self.label}: creating and migrating a fresh database")
        self.database.create()
        env = {
            "DATABASE_URL": self.database.url,
            "SECRET_KEY": secrets.token_hex(16),  # one key: a token works on every process
            "SOCKETIO_CHANNEL": f"parley-bench-{secrets.token_hex(4)}",
        }
        for _ in range(self.n):
            server = Server("parley", self.mode, redis_url=self.redis_url, extra_env=env)
            server.database = None  # the cluster's database: created and dropped here
            self.processes.append(server.start())
        self.nginx = Nginx([f"127.0.0.1:{s.port}" for s in self.processes]).start()
        self.url = self.nginx.url
        by_backend = self.nginx.split(source_addresses(self.source_count))
        fewest = min(len(v) for v in by_backend.values())
        if fewest == 0:
            raise RuntimeError(f"nginx sent no source address to a process: {by_backend}")
        # A prime number of rows: with N x rows addresses dividing the ticket count, every
        # ticket's visitor (connection T + i) would reuse its agent's (i) address.
        per = max(r for r in range(1, fewest + 1) if r < 4 or all(r % d for d in range(2, r)))
        # Rows of one address per process, each row in a fixed pseudo-random order: any n
        # consecutive connections are spread over the n processes, and a ticket's two
        # members (far apart in the plan) share a process or not, pseudo-randomly.
        rng = random.Random(0)
        self.sources = []
        for i in range(per):
            row = [by_backend[b][i] for b in sorted(by_backend)]
            rng.shuffle(row)
            self.sources += row
        self.backend_of = {s: b for b, ss in by_backend.items() for s in ss}
        log(f"{self.label}: {self.url}, {len(self.sources)} source addresses ({per} per process)")
        return self

    def conns_per_process(self, conn_count: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in range(conn_count):
            backend = self.backend_of[self.sources[c % len(self.sources)]]
            out[backend] = out.get(backend, 0) + 1
        return out

    def cross_process_tickets(self, plan: Any) -> int:
        def where(c: int) -> str:
            return self.backend_of[self.sources[c % len(self.sources)]]

        return sum(1 for t in plan.tickets if len({where(c) for c in t["members"]}) > 1)

    # -- what the scenarios read from a Server ---------------------------------------------

    def pids(self) -> list[int]:
        return [p for s in self.processes for p in s.pids()]

    def cpu_s(self) -> float:
        return cpu_seconds(self.pids())

    def nginx_cpu_s(self) -> float:
        return cpu_seconds(self.nginx.pids()) if self.nginx else 0.0

    def rss_mb(self) -> float:
        return sum(s.rss_mb() for s in self.processes)

    def db_cpu_s(self) -> float | None:
        return cpu_seconds(self.database.backend_pids()) if self.db_kind == "postgresql" else None

    def alive(self) -> bool:
        return all(s.alive() for s in self.processes)

    def wait_idle(self, max_s: float = 30.0, below: float = 0.15) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < max_s:
            c0 = self.cpu_s()
            time.sleep(0.5)
            if (self.cpu_s() - c0) / 0.5 < below * self.n:
                break
        return time.monotonic() - t0

    def log_tail(self, chars: int = 4000) -> str:
        return "\n".join(s.log_tail(chars // max(1, self.n)) for s in self.processes)

    def log_problems(self) -> dict[str, Any]:
        merged: dict[str, Any] = {"errors": 0, "warnings": 0, "exceptions": {}, "samples": []}
        for server in self.processes:
            one = server.log_problems()
            merged["errors"] += one["errors"]
            merged["warnings"] += one["warnings"]
            for key, count in one["exceptions"].items():
                merged["exceptions"][key] = merged["exceptions"].get(key, 0) + count
            merged["samples"] = (merged["samples"] + one["samples"])[:5]
        return merged

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for server in self.processes:
            server.stop()
        self.database.drop()


def _measured(cluster: Cluster, live: scenarios.Live, run: Any) -> scenarios.Line:
    n0 = cluster.nginx_cpu_s()
    line: scenarios.Line = run()
    line["nginx_cpu_s"] = round(cluster.nginx_cpu_s() - n0, 3)
    line["processes"] = cluster.n
    line["lb"] = "nginx"
    line["conns_per_process"] = cluster.conns_per_process(len(live.plan.conns))
    line["cross_process_tickets"] = cluster.cross_process_tickets(live.plan)
    line["cpu_count"] = os.cpu_count()
    return line


def on_cluster(cluster: Cluster, args: argparse.Namespace) -> list[scenarios.Line]:
    """The search, then a steady run at ``--rate``, on a started cluster."""
    agents = args.agents or args.tickets
    world = scenarios._world(cluster, args.tickets, agents, args.workspaces)  # type: ignore[arg-type]
    live = scenarios.Live(cluster, scenarios.chat_plan(world), args, args.receipts)  # type: ignore[arg-type]
    try:
        live.warm_up(args.rate, args.warmup)
        sargs = argparse.Namespace(**{**vars(args), "duration": args.search_duration})
        search = _measured(cluster, live, lambda: scenarios.search_on(live, sargs))
        search["case"] = f"search, {cluster.n} processes"
        log(f"{cluster.label}: highest rate held {search['max_rate']:g} msg/s")
        cluster.wait_idle()
        steady = _measured(
            cluster, live, lambda: live.measure("scaleout", args.rate, args.duration, args.grace)
        )
        steady["case"] = f"steady, {cluster.n} processes"
        log(f"{cluster.label}: steady {scenarios._brief(steady)}")
        for line in (search, steady):
            line["scenario"] = "scaleout"
        return [search, steady]
    finally:
        live.close()


def scaleout(mode: str, args: argparse.Namespace) -> list[scenarios.Line]:
    """Every N of ``--processes`` in turn; later N get ``ratio_to_first``."""
    counts = [int(x) for x in str(args.processes).split(",") if x.strip()]
    if not counts or min(counts) < 1 or max(counts) > 8:
        raise ValueError("--processes takes 1 to 8 processes, e.g. 1,2")
    lines: list[scenarios.Line] = []
    first: dict[str, scenarios.Line] = {}
    for n in counts:
        cluster = Cluster(n, mode, args)
        try:
            cluster.start()
            got = on_cluster(cluster, args)
            if not cluster.alive():
                log(f"{cluster.label}: a process died; log tail:\n{cluster.log_tail(2000)}")
        finally:
            cluster.stop()
        for line in got:
            kind = str(line["case"]).split(",")[0]
            key = "max_rate" if kind == "search" else "msgs_per_s"
            if kind not in first:
                first[kind] = line
            else:
                base = first[kind].get(key)
                line["ratio_of"] = key
                line["ratio_to_processes"] = first[kind]["processes"]
                line["ratio"] = round(line[key] / base, 3) if base else None
        lines.extend(got)
    return lines
