"""What the bench measures: a server process (Parley or the relay) in one async mode.

Parley gets a fresh database for each start: a PostgreSQL database created on the server
``--pg-url`` points at, migrated with the project's Alembic migrations and dropped at the
end, or a SQLite file in a temporary folder. Server CPU and memory come from ``/proc``,
summed over the server's process tree (for gunicorn: master and worker).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = Path(tempfile.gettempdir()) / "parley-bench-logs"
MODES = ("eventlet", "gevent", "threading")
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> int:
    """Lift this process's open-file limit to the hard limit (children inherit it)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return int(hard)
    except (ValueError, OSError):
        return int(soft)


# -- /proc -----------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    tree = _children()
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(tree.get(p, []))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            total_kb += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB
        except OSError:
            continue
    return total_kb / 1024


# -- databases -------------------------------------------------------------------------------


class Database:
    """A throw-away Parley database: created, migrated, handed to the server, dropped."""

    def __init__(self, kind: str, pg_server: str) -> None:
        self.kind = kind
        self.pg_server = pg_server
        self.url = ""
        self._name = ""
        self._folder: str | None = None

    def create(self) -> Database:
        if self.kind == "sqlite":
            self._folder = tempfile.mkdtemp(prefix="parley-bench-")
            self.url = f"sqlite:///{self._folder}/parley.db"
        else:
            self._name = f"parley_bench_{os.getpid()}_{secrets.token_hex(3)}"
            with self._admin() as admin, admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self._name}"')
            self.url = self.pg_server.rsplit("/", 1)[0] + "/" + self._name
        self._migrate()
        return self

    def _admin(self) -> Any:
        import psycopg2

        conn = psycopg2.connect(self.pg_server)
        conn.autocommit = True
        return _Closing(conn)

    def _migrate(self) -> None:
        """The production schema: ``flask db upgrade`` (Alembic) against the new database."""
        env = {**os.environ, "DATABASE_URL": self.url, "ASYNC_MODE": "threading"}
        env.pop("REDIS_URL", None)
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"migration failed:\n{done.stdout}\n{done.stderr}")

    def connect(self) -> Any:
        """A DB-API connection for bulk seeding (autocommit off)."""
        if self.kind == "sqlite":
            import sqlite3

            assert self._folder is not None
            conn = sqlite3.connect(f"{self._folder}/parley.db", timeout=30)
            conn.execute("PRAGMA foreign_keys=ON")
            return conn
        import psycopg2

        return psycopg2.connect(self.url)

    def backend_pids(self) -> list[int]:
        """PostgreSQL server processes currently serving this database."""
        if self.kind != "postgresql" or not self._name:
            return []
        try:
            with self._admin() as admin, admin.cursor() as cur:
                cur.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self._name,),
                )
                return [int(r[0]) for r in cur.fetchall()]
        except Exception:
            return []

    def drop(self) -> None:
        if self.kind == "sqlite":
            if self._folder:
                shutil.rmtree(self._folder, ignore_errors=True)
            return
        if not self._name:
            return
        try:
            with self._admin() as admin, admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')
        except Exception as exc:
            log(f"could not drop database {self._name}: {exc}")


class _Closing:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __enter__(self) -> Any:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


# -- servers ---------------------------------------------------------------------------------


class Server:
    """A Parley or relay server process on a free loopback port."""

    def __init__(
        self,
        target: str,
        mode: str,
        *,
        db: str = "postgresql",
        pg_server: str = "",
        redis_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.target = target
        #: set last in the server's environment (a cluster's shared DATABASE_URL, SECRET_KEY)
        self.extra_env = dict(extra_env or {})
        self.mode = mode
        self.db_kind = db if target == "parley" else "none"
        self.database = Database(db, pg_server) if target == "parley" else None
        self.redis_url = redis_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        LOG_DIR.mkdir(exist_ok=True)
        self.log_path = LOG_DIR / f"{target}-{mode}-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._log_offset = 0

    @property
    def label(self) -> str:
        return f"{self.target}/{self.mode}" + (f"/{self.db_kind}" if self.database else "")

    def command(self) -> list[str]:
        module, script = (
            ("wsgi:app", "wsgi.py")
            if self.target == "parley"
            else (
                "bench.relay:app",
                "bench/relay.py",
            )
        )
        if self.mode == "gevent":
            return [
                sys.executable,
                "-m",
                "gunicorn",
                "-k",
                "gevent",
                "-w",
                "1",
                "--worker-connections",
                "20000",
                "--timeout",
                "120",
                "--log-level",
                "warning",
                "-b",
                f"127.0.0.1:{self.port}",
                module,
            ]
        return [sys.executable, script]

    def start(self) -> Server:
        if self.database is not None:
            log(f"{self.label}: creating and migrating a fresh database")
            self.database.create()
        env = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "ASYNC_MODE": self.mode,
            "SECRET_KEY": secrets.token_hex(16),
            "PYTHONUNBUFFERED": "1",
            "DEMO_PORT": "0",  # no demo host page beside the measured server
            # Thousands of connections and hundreds of messages/s from one address would
            # trip the rate limits (app/limits.py) that guard a production server.
            "RATE_LIMITS": "0",
        }
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        if self.database is not None:
            env["DATABASE_URL"] = self.database.url
        env.update(self.extra_env)
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        log(f"{self.label}: serving on {self.url} (log {self.log_path})")
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.label} did not start:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        return process_tree(self.proc.pid) if self.proc else []

    def cpu_s(self) -> float:
        return cpu_seconds(self.pids())

    def rss_mb(self) -> float:
        return rss_mb(self.pids())

    def db_cpu_s(self) -> float | None:
        if self.database is None or self.database.kind != "postgresql":
            return None
        return cpu_seconds(self.database.backend_pids())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_idle(self, max_s: float = 30.0, below: float = 0.15) -> float:
        """Wait (bounded) until the server uses under ``below`` of a core for 0.5 s."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < max_s:
            c0 = self.cpu_s()
            time.sleep(0.5)
            if (self.cpu_s() - c0) / 0.5 < below:
                break
        return time.monotonic() - t0

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def log_problems(self) -> dict[str, Any]:
        """What the server logged since the last call: error and warning counts, the most
        frequent exceptions (last line of each traceback) and a few sample lines."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self._log_offset)
                text = handle.read().decode(errors="replace")
                self._log_offset = handle.tell()
        except OSError:
            text = ""
        errors = warnings = 0
        samples: list[str] = []
        exceptions: dict[str, int] = {}
        in_traceback = after_error = False
        for line in text.splitlines():
            if in_traceback:
                if line.startswith((" ", "\t", "Traceback", "During handling", "The above")):
                    continue
                if line.strip():
                    key = re.sub(r"\s*\(Background on this error.*", "", line.strip())[:200]
                    exceptions[key] = exceptions.get(key, 0) + 1
                    in_traceback = False
                    continue
            if line.startswith("Traceback"):
                in_traceback = True
                if not after_error:
                    errors += 1  # an uncaught traceback printed without a log line
                after_error = False
                continue
            after_error = False
            if re.search(r"\b(ERROR|CRITICAL)\b", line):
                errors += 1
                after_error = True
            elif re.search(r"\bWARNING\b", line):
                warnings += 1
            else:
                continue
            text_line = re.sub(r"^[\d-]+ [\d:,]+ ", "", line.strip())[:300]
            if len(samples) < 5 and text_line not in samples:
                samples.append(text_line)
        top = sorted(exceptions.items(), key=lambda kv: -kv[1])[:5]
        return {
            "errors": errors,
            "warnings": warnings,
            "exceptions": dict(top),
            "samples": samples,
        }

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.database is not None:
            self.database.drop()
