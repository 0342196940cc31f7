"""The scenarios: each takes a started server and the options, and returns JSON lines.

Real-time scenarios (steady, search, overload, idle, fanout) run against Parley and the
relay; read-path scenarios (history, ticketlist) only against Parley (the relay stores
nothing). Every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bench.runner import LoadClient, Plan, summary_ms
from bench.seed import Seeder
from bench.targets import Server, log
from bench.world import (
    World,
    parley_visitors,
    parley_world,
    relay_visitors,
    relay_world,
)

#: What "held" means for the search: p99 at most this, nothing lost, no refusals.
SEARCH_P99_MS = 100.0
Line = dict[str, Any]


def base_line(scenario: str, server: Server) -> Line:
    return {
        "scenario": scenario,
        "target": server.target,
        "mode": server.mode,
        "db": server.db_kind,
    }


def _world(server: Server, tickets: int, agents: int, workspaces: int) -> World:
    t0 = time.monotonic()
    if server.target == "parley":
        log(
            f"{server.label}: setting up {workspaces} workspace(s), {agents} agents, "
            f"{tickets} tickets through the REST API"
        )
        world = parley_world(server.url, tickets=tickets, agents=agents, workspaces=workspaces)
    else:
        world = relay_world(tickets=tickets, agents=agents, workspaces=workspaces)
    log(f"{server.label}: setup took {time.monotonic() - t0:.1f}s")
    return world


def chat_plan(world: World) -> Plan:
    """Each ticket: its visitor and the agent ``i % agents``; both send, alternately."""
    plan = Plan()
    agents = len(world.agent_auth)
    joins: list[list[str]] = [[] for _ in range(agents)]
    for i, tid in enumerate(world.tickets):
        joins[i % agents].append(tid)
    agent_conn = [plan.add_conn(world.agent_auth[k], joins[k]) for k in range(agents)]
    for i, tid in enumerate(world.tickets):
        visitor = plan.add_conn(world.visitor_auth[i])
        agent = agent_conn[i % agents]
        plan.add_ticket(tid, [visitor, agent], [visitor, agent])
    return plan


def fanout_plan(world: World) -> Plan:
    """One ticket: its visitor sends, every agent has joined it."""
    plan = Plan()
    tid = world.tickets[0]
    agents = [plan.add_conn(a, [tid]) for a in world.agent_auth]
    visitor = plan.add_conn(world.visitor_auth[0])
    plan.add_ticket(tid, [visitor, *agents], [visitor])
    return plan


class Live:
    """A connected load client on a server, ready for measured runs."""

    def __init__(self, server: Server, plan: Plan, args: argparse.Namespace, receipts: str):
        self.server = server
        self.plan = plan
        self.args = args
        self.receipts = receipts
        self.client = LoadClient(args.workers)
        log(f"{server.label}: connecting {len(plan.conns)} clients")
        self.connect = self.client.setup(
            server.url, plan, receipts=receipts, sources=getattr(server, "sources", None)
        )
        if self.connect["failed"] or self.connect["join_failed"]:
            log(f"{server.label}: connect problems: {self.connect['errors']}")
        log(
            f"{server.label}: {self.connect['connected']} connected in "
            f"{self.connect['elapsed_s']:.1f}s"
        )

    def warm_up(self, rate: float, seconds: float = 1.0) -> None:
        """A short unreported run: first sends pay for lazy imports, caches and pools."""
        if seconds <= 0 or not self.plan.tickets:
            return
        warm = min(rate, 2.0 * len(self.plan.tickets), 50.0)
        self.client.start_run(warm, seconds, 5.0)
        self.client.results(timeout=seconds + 60)
        self.server.wait_idle()

    def measure(self, scenario: str, rate: float, duration: float, grace: float) -> Line:
        server = self.server
        server.log_problems()
        start_at = self.client.start_run(rate, duration, grace)
        time.sleep(max(0.0, start_at - time.monotonic()))
        cpu0, db0 = server.cpu_s(), _db_snapshot(server)
        res = self.client.results(timeout=duration + grace + 60)
        cpu1, db1 = server.cpu_s(), _db_snapshot(server)
        rss = server.rss_mb()
        wall = max(1e-9, res["end"] - start_at)
        elapsed = max(
            duration, (res["last_delivery"] or start_at) - (res["first_send"] or start_at)
        )
        line = base_line(scenario, server)
        line.update(
            {
                "clients": self.connect["connected"],
                "tickets": len(self.plan.tickets),
                "rate": rate,
                "duration_s": duration,
                "sent": res["sent"],
                "delivered": res["delivered"],
                "lost": res["lost"],
                "duplicates": res["duplicates"],
                "msgs_per_s": round(res["delivered"] / elapsed, 1),
                **summary_ms(res["latency_ms"]),
                "server_rss_mb": round(rss, 1),
                "client_cpu_s": round(res["cpu_s"], 3),
                "server_cpu_s": round(cpu1 - cpu0, 3),
                "db_cpu_s": _db_delta(db0, db1),
                "expected": res["expected"],
                "lost_messages": res["lost_messages"],
                "lost_after_ok": res["lost_after_ok"],
                "late_1s": sum(1 for x in res["latency_ms"] if x > 1000),
                "ack_ok": res["ack_ok"],
                "ack_missing": res["ack_missing"],
                "refused": res["refused"],
                "ack_p50_ms": summary_ms(res["ack_ms"])["p50_ms"],
                "ack_p99_ms": summary_ms(res["ack_ms"])["p99_ms"],
                "refused_p99_ms": summary_ms(res["refused_ms"])["p99_ms"],
                "receipts": self.receipts,
                "receipts_sent": res["receipts_sent"],
                "receipt_p99_ms": summary_ms(res["receipt_ms"])["p99_ms"],
                "receipt_acks_failed": res["receipt_acks_failed"],
                "events_in": res["events"],
                "disconnects": res["disconnects"],
                "skipped_sends": res["skipped"] + res["unscheduled"],
                "client_lag_max_ms": res["lag_max_ms"],
                "client_cpu_pct": round(100 * max(res["worker_cpu_s"]) / wall, 1),
                "client_saturated": max(res["worker_cpu_s"]) / wall > 0.85
                or res["lag_max_ms"] > 50,
                "server_cpu_pct": round(100 * (cpu1 - cpu0) / wall, 1),
                "workers": len(self.client.workers),
                "server_log": server.log_problems(),
                "server_alive": server.alive(),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
        return line

    def close(self) -> None:
        self.client.close()


def _db_snapshot(server: Server) -> dict[int, float] | None:
    if server.database is None or server.database.kind != "postgresql":
        return None
    from bench.targets import cpu_seconds

    return {pid: cpu_seconds([pid]) for pid in server.database.backend_pids()}


def _db_delta(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    if before is None or after is None:
        return None
    return round(sum(v - before.get(pid, 0.0) for pid, v in after.items()), 3)


def _brief(line: Line) -> str:
    return (
        f"rate {line['rate']:g}: sent {line['sent']} delivered {line['delivered']} "
        f"lost {line['lost']} dup {line['duplicates']} refused {sum(line['refused'].values())} "
        f"p50 {line['p50_ms']} p99 {line['p99_ms']} max {line['max_ms']} ms, "
        f"{line['msgs_per_s']} msg/s, server cpu {line['server_cpu_pct']}%, "
        f"client cpu {line['client_cpu_pct']}%"
    )


# -- steady, search, overload, fanout --------------------------------------------------------


def _chat_live(server: Server, args: argparse.Namespace) -> Live:
    agents = args.agents or args.tickets
    world = _world(server, args.tickets, agents, args.workspaces)
    return Live(server, chat_plan(world), args, args.receipts)


def steady(server: Server, args: argparse.Namespace) -> list[Line]:
    live = _chat_live(server, args)
    try:
        live.warm_up(args.rate, args.warmup)
        line = live.measure("steady", args.rate, args.duration, args.grace)
        log(f"{server.label}: steady {_brief(line)}")
        return [line]
    finally:
        live.close()


def passes(line: Line, p99_limit: float) -> bool:
    return (
        line["sent"] > 0
        and line["lost"] == 0
        and line["ack_missing"] == 0
        and not line["refused"]
        and line["skipped_sends"] == 0
        and line["p99_ms"] is not None
        and line["p99_ms"] <= p99_limit
    )


def search_on(live: Live, args: argparse.Namespace) -> Line:
    """Doubling from ``--rate`` until a step fails, then bisection; bounded by ``--steps``."""
    server = live.server
    rate = float(args.rate)
    lo, hi = 0.0, 0.0
    best: Line | None = None
    last: Line | None = None
    steps: list[dict[str, Any]] = []
    for step in range(args.steps):
        line = live.measure("search", rate, args.duration, args.grace)
        ok = passes(line, args.p99_limit)
        last = line
        steps.append(
            {
                "rate": rate,
                "ok": ok,
                "p99_ms": line["p99_ms"],
                "lost": line["lost"],
                "refused": sum(line["refused"].values()),
                "msgs_per_s": line["msgs_per_s"],
            }
        )
        log(f"{server.label}: search step {step + 1} {'PASS' if ok else 'fail'} {_brief(line)}")
        if ok:
            lo, best = rate, line
        else:
            hi = rate
            server.wait_idle()
        if not hi:
            if rate * 2 > args.max_rate:
                break
            rate *= 2
        elif not lo:
            rate = round(hi / 2)
            if rate < args.min_rate:
                break
        else:
            if (hi - lo) / lo <= args.precision:
                break
            rate = float(round((lo + hi) / 2))
            if rate in (lo, hi):
                break
    out = dict(best or last or base_line("search", server))
    out["scenario"] = "search"
    out["max_rate"] = lo
    out["p99_limit_ms"] = args.p99_limit
    out["steps"] = steps
    return out


def search(server: Server, args: argparse.Namespace) -> list[Line]:
    live = _chat_live(server, args)
    try:
        live.warm_up(args.rate, args.warmup)
        line = search_on(live, args)
        log(f"{server.label}: highest rate held {line['max_rate']:g} msg/s")
        return [line]
    finally:
        live.close()


def overload(
    server: Server, args: argparse.Namespace, known: dict[tuple[str, str], float]
) -> list[Line]:
    live = _chat_live(server, args)
    try:
        live.warm_up(args.rate, args.warmup)
        found = known.get((server.target, server.mode))
        if args.overload_rate:
            rate = float(args.overload_rate)
        else:
            if found is None:
                log(f"{server.label}: searching the highest sustained rate first")
                sargs = argparse.Namespace(**{**vars(args), "duration": args.search_duration})
                found = float(search_on(live, sargs)["max_rate"])
                server.wait_idle()
            rate = max(2 * found, args.min_rate)
        line = live.measure("overload", rate, args.duration, args.grace)
        line["search_rate"] = found
        if found:
            line["delivered_ratio"] = round(line["msgs_per_s"] / found, 3)
        log(f"{server.label}: overload {_brief(line)}")
        return [line]
    finally:
        live.close()


def fanout(server: Server, args: argparse.Namespace) -> list[Line]:
    world = _world(server, 1, args.recipients, 1)
    live = Live(server, fanout_plan(world), args, args.receipts)
    try:
        live.warm_up(args.rate, args.warmup)
        line = live.measure("fanout", args.rate, args.duration, args.grace)
        line["recipients"] = args.recipients
        line["sent_per_s"] = round(line["sent"] / args.duration, 1)
        log(f"{server.label}: fanout {_brief(line)}")
        return [line]
    finally:
        live.close()


# -- idle ------------------------------------------------------------------------------------


def idle(server: Server, args: argparse.Namespace) -> list[Line]:
    n = args.clients
    if server.target == "parley":
        log(f"{server.label}: {n} visitor sessions through the REST API")
        auths = parley_visitors(server.url, n + 20)
    else:
        auths = relay_visitors(n + 20)
    warm, auths = auths[:20], auths[20:]
    # Warm up (lazy imports, first connections), then measure the baseline.
    plan = Plan()
    for a in warm:
        plan.add_conn(a)
    warmup = LoadClient(1)
    warmup.setup(server.url, plan)
    warmup.close()
    server.wait_idle()
    time.sleep(1.0)
    rss0 = server.rss_mb()
    plan = Plan()
    for a in auths:
        plan.add_conn(a)
    client = LoadClient(args.workers)
    try:
        cpu0 = server.cpu_s()
        log(f"{server.label}: opening {n} idle connections")
        connect = client.setup(server.url, plan, concurrency=args.concurrency)
        log(
            f"{server.label}: {connect['connected']} connected, {connect['failed']} failed in "
            f"{connect['elapsed_s']:.1f}s {connect['errors'] or ''}"
        )
        held = client.hold(args.hold)
        rss1 = server.rss_mb()
        cpu1 = server.cpu_s()
        opened = held["open"]
        line = base_line("idle", server)
        line.update(
            {
                "clients": opened,
                "tickets": 0,
                "rate": None,
                "duration_s": round(connect["elapsed_s"] + args.hold, 2),
                "sent": 0,
                "delivered": 0,
                "lost": n - opened,
                "duplicates": 0,
                "msgs_per_s": 0.0,
                **summary_ms(connect["connect_ms"]),
                "server_rss_mb": round(rss1, 1),
                "client_cpu_s": round(connect["cpu_s"] + held["cpu_s"], 3),
                "server_cpu_s": round(cpu1 - cpu0, 3),
                "requested": n,
                "connects_per_s": round(connect["connected"] / max(1e-9, connect["elapsed_s"]), 1),
                "connect_failed": connect["failed"],
                "connect_errors": connect["errors"],
                "disconnects_while_idle": held["disconnects"],
                "hold_s": args.hold,
                "server_rss_before_mb": round(rss0, 1),
                "rss_per_conn_kb": round((rss1 - rss0) * 1024 / opened, 1) if opened else None,
                "server_log": server.log_problems(),
                "server_alive": server.alive(),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
        log(
            f"{server.label}: {opened} idle connections, {line['rss_per_conn_kb']} KB each, "
            f"RSS {rss0:.1f} -> {rss1:.1f} MB"
        )
        return [line]
    finally:
        client.close()


# -- read path: history and ticket list ------------------------------------------------------


class Http:
    """Sequential GETs on one keep-alive connection, timed on the client."""

    def __init__(self, url: str, token: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> tuple[float, int, Any]:
        t0 = time.perf_counter()
        try:
            self.conn.request("GET", "/api/v1" + path, headers=self.headers)
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return (time.perf_counter() - t0) * 1000, 0, None
        ms = (time.perf_counter() - t0) * 1000
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        return ms, response.status, data

    def close(self) -> None:
        self.conn.close()


@dataclass
class Timing:
    """Sequential GETs: client-side times (ms) of the 200s, failures, wall and CPU seconds."""

    times: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    last: Any = None


def _time_paths(
    server: Server, http_: Http, paths: Callable[[int, Any], str | None], count: int
) -> Timing:
    """GET ``paths(i, last_response)`` up to ``count`` times (fewer if it returns None)."""
    out = Timing()
    cpu0, own0, t0 = server.cpu_s(), time.process_time(), time.monotonic()
    for i in range(count):
        path = paths(i, out.last)
        if path is None:
            break
        ms, status, data = http_.get(path)
        if status == 200:
            out.times.append(ms)
            out.last = data
        else:
            out.errors += 1
            if out.errors > 20:
                break
    out.elapsed = time.monotonic() - t0
    out.server_cpu = server.cpu_s() - cpu0
    out.client_cpu = time.process_time() - own0
    return out


def _repeat(path: str) -> Callable[[int, Any], str | None]:
    def same(i: int, last: Any) -> str:
        return path

    return same


def _read_line(scenario: str, server: Server, case: str, t: Timing, extra: dict[str, Any]) -> Line:
    line = base_line(scenario, server)
    line.update(
        {
            "case": case,
            "clients": 1,
            "tickets": extra.pop("tickets", 1),
            "rate": None,
            "duration_s": round(t.elapsed, 3),
            "sent": len(t.times) + t.errors,
            "delivered": len(t.times),
            "lost": t.errors,
            "duplicates": 0,
            "msgs_per_s": round(len(t.times) / t.elapsed, 1) if t.elapsed else None,
            **summary_ms(t.times),
            "server_rss_mb": round(server.rss_mb(), 1),
            "client_cpu_s": round(t.client_cpu, 3),
            "server_cpu_s": round(t.server_cpu, 3),
            "requests": len(t.times) + t.errors,
            **extra,
            "server_log": server.log_problems(),
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
    )
    return line


def _owner_ids(db_conn: Any, pg: bool, owner_id: str) -> str:
    cur = db_conn.cursor()
    query = (
        "SELECT workspace_id FROM agents WHERE id = %s"
        if pg
        else ("SELECT workspace_id FROM agents WHERE id = ?")
    )
    cur.execute(query, (owner_id,))
    row = cur.fetchone()
    cur.close()
    return str(row[0])


def history(server: Server, args: argparse.Namespace) -> list[Line]:
    world = _world(server, 1, 0, 1)
    assert server.database is not None
    ws = world.workspaces[0]
    ticket_id = world.tickets[0]
    pg = server.database.kind == "postgresql"
    conn = server.database.connect()
    seeder = Seeder(conn, server.database.kind)
    try:
        workspace_id = _owner_ids(conn, pg, ws.owner_id)
        visitor_id = seeder.scalar(
            "SELECT visitor_id FROM tickets WHERE id = :tid", {"tid": ticket_id}
        )
        depth = max(2, args.depth)
        t0 = time.monotonic()
        log(f"{server.label}: seeding a ticket of {depth:,} messages by bulk SQL")
        seeder.ticket_messages(
            ticket_id=ticket_id,
            workspace_id=workspace_id,
            visitor_id=str(visitor_id),
            agent_id=ws.owner_id,
            first_seq=2,
            last_seq=depth,
        )
        fill = max(0, args.total - depth)
        fillers = 0
        if fill:
            log(f"{server.label}: seeding {fill:,} more messages in other tickets")
            fillers, _ = seeder.filler_tickets(
                workspace_id=workspace_id,
                site_id=ws.site["id"],
                agent_id=ws.owner_id,
                messages=fill,
            )
        seeder.analyze()
        total = int(seeder.scalar("SELECT count(*) FROM messages", {}))
        log(
            f"{server.label}: {total:,} messages in the database, seeded in "
            f"{time.monotonic() - t0:.1f}s"
        )
    finally:
        conn.close()
    server.wait_idle()
    http_ = Http(server.url, ws.owner_token)
    lines: list[Line] = []
    try:
        # Warm-up: the first requests pay for imports and cold caches.
        for _ in range(10):
            http_.get(f"/tickets/{ticket_id}/messages?limit=50")
        depths = sorted({0, 1_000, 10_000, depth // 2, max(0, depth - 50)})
        for d in depths:
            if d > depth - 50 and d != 0:
                continue
            before = depth + 1 - d
            path = f"/tickets/{ticket_id}/messages?before={before}&limit=50"
            t = _time_paths(server, http_, _repeat(path), args.requests)
            page = (t.last or {}).get("messages") or []
            ok_page = len(page) == min(50, before - 1) and (
                not page or page[-1].get("seq") == before - 1
            )
            line = _read_line(
                "history",
                server,
                f"before=depth {d}",
                t,
                {
                    "depth": d,
                    "before": before,
                    "ticket_messages": depth,
                    "db_messages": total,
                    "filler_tickets": fillers,
                    "page_ok": ok_page,
                    "tickets": 1 + fillers,
                },
            )
            log(
                f"{server.label}: history page at depth {d:,}: p50 {line['p50_ms']} "
                f"p99 {line['p99_ms']} ms"
            )
            lines.append(line)
    finally:
        http_.close()
    return lines


def ticketlist(server: Server, args: argparse.Namespace) -> list[Line]:
    world = _world(server, 0, 0, 1)
    assert server.database is not None
    ws = world.workspaces[0]
    pg = server.database.kind == "postgresql"
    conn = server.database.connect()
    seeder = Seeder(conn, server.database.kind)
    count = max(1, args.count)
    try:
        workspace_id = _owner_ids(conn, pg, ws.owner_id)
        t0 = time.monotonic()
        log(f"{server.label}: seeding {count:,} tickets by bulk SQL")
        seeder.ticket_list(
            workspace_id=workspace_id, site_id=ws.site["id"], agent_id=ws.owner_id, count=count
        )
        seeder.analyze()
        log(f"{server.label}: seeded in {time.monotonic() - t0:.1f}s")
    finally:
        conn.close()
    server.wait_idle()
    http_ = Http(server.url, ws.owner_token)
    lines: list[Line] = []

    def record(case: str, t: Timing, limit: int = 25) -> None:
        extra = {"workspace_tickets": count, "tickets": count, "limit": limit}
        line = _read_line("ticketlist", server, case, t, extra)
        log(f"{server.label}: ticket list {case}: p50 {line['p50_ms']} p99 {line['p99_ms']} ms")
        lines.append(line)

    def follow(limit: int) -> Callable[[int, Any], str | None]:
        def nxt(i: int, last: Any) -> str | None:
            if i == 0:
                return f"/tickets?limit={limit}"
            cursor = (last or {}).get("next_cursor")
            return f"/tickets?limit={limit}&cursor={quote(cursor)}" if cursor else None

        return nxt

    try:
        for _ in range(10):
            http_.get("/tickets?limit=25")
        for case, path in (
            ("first page", "/tickets?limit=25"),
            ("status=open", "/tickets?status=open&limit=25"),
            ("assignee=me", "/tickets?assignee=me&limit=25"),
        ):
            record(case, _time_paths(server, http_, _repeat(path), args.requests))
        t = _time_paths(server, http_, follow(25), args.requests)
        record(f"cursor pages 1-{len(t.times)}", t)
        # Walk to the middle of the list with big pages, then time one deep page repeatedly.
        pages = max(1, count // 2 // 100)
        t = _time_paths(server, http_, follow(100), pages)
        record(f"walk to the middle, limit=100 ({len(t.times)} pages)", t, limit=100)
        cursor = (t.last or {}).get("next_cursor")
        if cursor:
            path = f"/tickets?limit=25&cursor={quote(cursor)}"
            t = _time_paths(server, http_, _repeat(path), args.requests)
            record(f"deep page (after {pages * 100:,} tickets)", t)
    finally:
        http_.close()
    return lines
