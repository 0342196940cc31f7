"""The orchestrator's side of the load client: worker processes, plans, merged results.

The load client runs in its own processes (``python -m bench.loadgen``) so its CPU is
measured apart from the orchestrator's bookkeeping. All members of a ticket live in the
same worker, so each worker matches sends with deliveries on its own.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench.targets import ROOT


@dataclass
class Plan:
    """Connections (auth, tickets to join) and tickets (members, senders), by global index."""

    conns: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)

    def add_conn(self, auth: dict[str, Any], join: list[str] | None = None) -> int:
        self.conns.append({"auth": auth, "join": list(join or [])})
        return len(self.conns) - 1

    def add_ticket(self, ticket_id: str, members: list[int], senders: list[int]) -> None:
        self.tickets.append({"id": ticket_id, "members": members, "senders": senders})


class Worker:
    """One load-client process, spoken to in JSON lines."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._buffer = b""

    def send(self, cmd: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd, separators=(",", ":")).encode() + b"\n")
        self.proc.stdin.flush()

    def reply(self, timeout: float) -> dict[str, Any]:
        """The next reply line, waiting at most ``timeout`` seconds."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"load worker {self.index} did not answer in {timeout}s")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"load worker {self.index} exited")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        out: dict[str, Any] = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"load worker {self.index}: {out['error']}")
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send({"cmd": "close"})
                self.reply(30)
            except (OSError, TimeoutError, RuntimeError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _partition(plan: Plan, n: int) -> list[int]:
    """Worker of each ticket: tickets sharing a connection stay together (union-find)."""
    parent = list(range(len(plan.tickets)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}
    for t, ticket in enumerate(plan.tickets):
        for c in ticket["members"]:
            if c in owner:
                parent[find(t)] = find(owner[c])
            else:
                owner[c] = t
    groups: dict[int, list[int]] = {}
    for t in range(len(plan.tickets)):
        groups.setdefault(find(t), []).append(t)
    load = [0] * n
    where = [0] * len(plan.tickets)
    for members in sorted(groups.values(), key=len, reverse=True):
        w = load.index(min(load))
        for t in members:
            where[t] = w
        load[w] += len(members)
    return where


class LoadClient:
    """``n`` worker processes sharing one plan."""

    def __init__(self, n: int) -> None:
        self.workers = [Worker(i) for i in range(max(1, n))]
        self.send_share: list[float] = [0.0] * len(self.workers)

    def setup(
        self,
        url: str,
        plan: Plan,
        *,
        receipts: str = "none",
        concurrency: int = 50,
        sources: list[str] | None = None,
    ) -> dict[str, Any]:
        """Open every connection; with ``sources``, connection ``c`` leaves from
        ``sources[c % len(sources)]`` (loopback addresses for a load balancer's hash)."""
        n = len(self.workers)
        where_ticket = _partition(plan, n)
        conn_worker: dict[int, int] = {}
        for t, ticket in enumerate(plan.tickets):
            for c in ticket["members"]:
                conn_worker[c] = where_ticket[t]
        spread = 0
        for c in range(len(plan.conns)):
            if c not in conn_worker:  # connections of no ticket (idle): round-robin
                conn_worker[c] = spread % n
                spread += 1
        local: list[dict[int, int]] = [{} for _ in range(n)]
        conns: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        for c, conn in enumerate(plan.conns):
            w = conn_worker[c]
            local[w][c] = len(conns[w])
            conns[w].append({**conn, "source": sources[c % len(sources)]} if sources else conn)
        tickets: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        for t, ticket in enumerate(plan.tickets):
            w = where_ticket[t]
            tickets[w].append(
                {
                    "id": ticket["id"],
                    "members": [local[w][c] for c in ticket["members"]],
                    "senders": [local[w][c] for c in ticket["senders"]],
                }
            )
        senders = [sum(1 for t in ts if t["senders"]) for ts in tickets]
        total = sum(senders) or 1
        self.send_share = [s / total for s in senders]
        for w, worker in enumerate(self.workers):
            worker.send(
                {
                    "cmd": "setup",
                    "url": url,
                    "conns": conns[w],
                    "tickets": tickets[w],
                    "receipts": receipts,
                    "concurrency": max(1, concurrency // n),
                    "prefix": f"w{w}x{os.getpid()}-",
                }
            )
        timeout = 60 + len(plan.conns) * 0.05
        replies = [w.reply(timeout) for w in self.workers]
        merged: dict[str, Any] = {
            "connected": sum(r["connected"] for r in replies),
            "failed": sum(r["failed"] for r in replies),
            "join_failed": sum(r["join_failed"] for r in replies),
            "connect_ms": [x for r in replies for x in r["connect_ms"]],
            "errors": {},
            "elapsed_s": max(r["elapsed_s"] for r in replies),
            "cpu_s": sum(r["cpu_s"] for r in replies),
        }
        for r in replies:
            for k, v in r["errors"].items():
                merged["errors"][k] = merged["errors"].get(k, 0) + v
        return merged

    def start_run(self, rate: float, duration: float, grace: float, lead_s: float = 0.3) -> float:
        start_at = time.monotonic() + lead_s
        for w, worker in enumerate(self.workers):
            worker.send(
                {
                    "cmd": "run",
                    "rate": rate * self.send_share[w],
                    "duration": duration,
                    "grace": grace,
                    "start_at": start_at,
                }
            )
        return start_at

    def results(self, timeout: float) -> dict[str, Any]:
        replies = [w.reply(timeout) for w in self.workers]
        return merge_runs(replies)

    def hold(self, seconds: float) -> dict[str, Any]:
        for worker in self.workers:
            worker.send({"cmd": "hold", "seconds": seconds})
        replies = [w.reply(seconds + 30) for w in self.workers]
        return {
            "open": sum(r["open"] for r in replies),
            "disconnects": sum(r["disconnects"] for r in replies),
            "cpu_s": sum(r["cpu_s"] for r in replies),
        }

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()


def merge_runs(replies: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    summed = (
        "sent skipped unscheduled expected delivered lost lost_messages lost_after_ok duplicates "
        "ack_ok ack_missing receipts_sent receipt_acks_ok receipt_acks_failed foreign "
        "disconnects open cpu_s"
    ).split()
    for key in summed:
        out[key] = sum(r[key] for r in replies)
    for key in ("latency_ms", "ack_ms", "refused_ms", "receipt_ms"):
        out[key] = [x for r in replies for x in r[key]]
    for key in ("refused", "events"):
        merged: dict[str, int] = {}
        for r in replies:
            for k, v in r[key].items():
                merged[k] = merged.get(k, 0) + v
        out[key] = merged
    sending = [r for r in replies if r["sent"]]
    out["first_send"] = min((r["first_send"] for r in sending), default=0.0)
    out["last_send"] = max((r["last_send"] for r in sending), default=0.0)
    out["last_delivery"] = max(r["last_delivery"] for r in replies)
    out["end"] = max(r["end"] for r in replies)
    out["lag_max_ms"] = max(r["lag_max_ms"] for r in replies)
    out["worker_cpu_s"] = [round(r["cpu_s"], 3) for r in replies]
    out["worker_wall_s"] = [round(r["end"] - (r["first_send"] or r["end"]), 3) for r in replies]
    return out


def summary_ms(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)

    def pick(p: float) -> float | None:
        if not ordered:
            return None
        rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
        return round(ordered[rank - 1], 2)

    return {
        "p50_ms": pick(50),
        "p95_ms": pick(95),
        "p99_ms": pick(99),
        "max_ms": round(ordered[-1], 2) if ordered else None,
    }
