"""``python -m bench.widgetload``: the widget's public endpoints under load, cache on and off.

For each cache setting (in-process, none with ``CACHE=0``, and Redis with ``--redis``) it
starts ``python wsgi.py`` (eventlet) on a fresh PostgreSQL database, creates an owner, an
agent and a site, and a returning visitor with one ticket, then runs ``wrk`` (Debian package
``wrk``) for a fixed time against ``POST /api/v1/widget/session`` (that visitor resuming)
and ``GET /widget.js``. One JSON object per measurement on stdout; the machine's load
average before and after each run rides along, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from bench.targets import Server, log

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "bench-password-123"  # noqa: S105 - a throw-away bench account
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _call(url: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url + "/api/v1" + path,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def seed(url: str, visitors: int) -> dict[str, Any]:
    """An owner, a second agent, a site and ``visitors`` returning visitors with a ticket each."""
    owner = _call(
        url,
        "/auth/signup",
        {
            "workspace_name": "Bench",
            "name": "Owner",
            "email": "owner@bench.example",
            "password": PASSWORD,
        },
    )
    token = owner["token"]
    agent = {"name": "Agent", "email": "agent@bench.example", "password": PASSWORD}
    _call(url, "/agents", {**agent, "role": "agent"}, token)
    site = _call(url, "/sites", {"name": "Shop", "allowed_origins": []}, token)["site"]
    tokens = []
    for i in range(visitors):
        session = _call(url, "/widget/session", {"site_key": site["site_key"]})
        tokens.append(session["visitor_token"])
        _call(url, "/tickets", {"client_id": f"bench-{i}", "body": "Hello"}, tokens[-1])
    return {"site_key": site["site_key"], "visitor_tokens": tokens}


def session_script(path: str, bodies: list[str]) -> str:
    """A wrk script that POSTs the bodies in turn (each wrk connection shares the list)."""
    Path(path).write_text(
        "local bodies = {" + ", ".join(json.dumps(b) for b in bodies) + "}\nlocal n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        '  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, '
        "bodies[(n % #bodies) + 1])\n"
        "end\n"
    )
    return path


def wrk(url: str, seconds: int, connections: int, script: str | None) -> dict[str, Any]:
    """Run wrk once; requests/s, p50/p99 in ms and errors from its report."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", script]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    out = done.stdout
    result: dict[str, Any] = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
    }
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        result[f"p{pct}_ms"] = (
            round(float(match.group(1)) * _UNITS[match.group(2)], 2) if match else None
        )
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    result["socket_errors"] = socket_errors.group(1) if socket_errors else None
    return result


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def measure(cache: str, args: argparse.Namespace, folder: str) -> list[dict[str, Any]]:
    env = {"CACHE": "0" if cache == "off" else "1"}
    server = Server(
        "parley",
        "eventlet",
        pg_server=args.pg_url,
        redis_url=args.redis_url if cache == "redis" else None,
        extra_env=env,
    )
    server.start()
    rows = []
    try:
        seeded = seed(server.url, args.visitors)
        key = seeded["site_key"]
        returning = [
            json.dumps({"site_key": key, "visitor_token": t}) for t in seeded["visitor_tokens"]
        ]
        session_url = server.url + "/api/v1/widget/session"
        targets = [
            (
                "POST /widget/session (new visitor)",
                session_url,
                session_script(os.path.join(folder, "new.lua"), [json.dumps({"site_key": key})]),
            ),
            (
                f"POST /widget/session (returning, {args.visitors} visitors)",
                session_url,
                session_script(os.path.join(folder, "returning.lua"), returning),
            ),
            ("GET /widget.js", server.url + "/widget.js", None),
        ]
        for name, url, lua in targets:
            for run in range(args.runs):
                wrk(url, 2, args.connections, lua)  # warm-up, not recorded
                before = loadavg()
                cpu0 = server.cpu_s()
                result = wrk(url, args.duration, args.connections, lua)
                row = {
                    "endpoint": name,
                    "cache": cache,
                    "run": run + 1,
                    **result,
                    "server_cpu_s": round(server.cpu_s() - cpu0, 2),
                    "loadavg_before": before,
                    "loadavg_after": loadavg(),
                    "connections": args.connections,
                    "duration_s": args.duration,
                }
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        server.stop()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.widgetload", description=__doc__)
    p.add_argument("--pg-url", default=PG_SERVER)
    p.add_argument("--redis-url", default=REDIS_URL)
    p.add_argument("--redis", action="store_true", help="also measure the Redis cache")
    p.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    p.add_argument("--connections", type=int, default=20)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--visitors", type=int, default=100, help="returning visitors to cycle")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    caches = ["memory", "off", *(["redis"] if args.redis else [])]
    with tempfile.TemporaryDirectory(prefix="parley-widgetload-") as folder:
        for cache in caches:
            log(f"widget load: cache={cache}")
            measure(cache, args, folder)


if __name__ == "__main__":
    main()
