"""nginx in front of several Parley processes, started by the caller (test or bench).

The configuration is the one docs/SCALING.md shows: WebSocket upgrade headers, long timeouts
for held connections, and sticky sessions with ``hash $remote_addr consistent``. On loopback
every client would be 127.0.0.1, so callers give each client its own source address in
127.0.0.0/8 (:func:`source_addresses`); ``ip_hash`` would not do, it hashes only the first
three octets of an IPv4 address and sends all of 127.0.0.x to one backend.

nginx runs in the foreground under its own prefix (a temporary folder): its own pid file,
error and access logs and temp dirs, a free loopback port; never the system service.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: nginx's access log: who asked, which backend answered, what.
LOG_FORMAT = "$remote_addr $upstream_addr $status $request_method $uri"


def nginx_binary() -> str | None:
    """nginx on PATH, else Debian's /usr/sbin/nginx (not on a non-root PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def source_addresses(count: int, first: int = 2) -> list[str]:
    """``count`` loopback source addresses 127.0.0.<first>... (Linux routes all of 127/8)."""
    if count > 250:
        raise ValueError("at most 250 loopback source addresses")
    return [f"127.0.0.{first + i}" for i in range(count)]


def nginx_conf(prefix: Path, port: int, backends: list[str], balance: str) -> str:
    """The configuration text: ``backends`` are ``host:port``, ``balance`` an upstream
    directive such as ``hash $remote_addr consistent``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may then write the temp dirs
    servers = "\n".join(f"        server {b} max_fails=0;" for b in backends)
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/temp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
worker_rlimit_nofile 65535;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 16384;
}}
http {{
{temp}
    log_format parley '{LOG_FORMAT}';
    access_log {prefix}/access.log parley buffer=4k flush=200ms;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream parley {{
        {balance};
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://parley;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;  # with the port: Socket.IO checks Origin against it
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            proxy_buffering off;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Nginx:
    """``nginx -c <conf> -p <prefix> -g 'daemon off;'`` balancing over ``backends``."""

    def __init__(self, backends: list[str], balance: str = "hash $remote_addr consistent") -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx-light)")
        self.binary = binary
        self.backends = backends
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prefix = Path(tempfile.mkdtemp(prefix="parley-nginx-"))
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / "temp" / kind).mkdir(parents=True)
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(nginx_conf(self.prefix, self.port, backends, balance))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        args = [self.binary, "-c", str(self.conf), "-p", str(self.prefix)]
        check = subprocess.run(
            [*args, "-t", "-q"], capture_output=True, text=True, timeout=30, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected its configuration:\n{check.stderr}")
        out = open(self.prefix / "stderr.log", "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [*args, "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT
        )
        out.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.error_log()}")
            try:
                if self.upstream_of("127.0.0.1"):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not answer:\n{self.error_log()}")

    def upstream_of(self, source: str, path: str = "/healthz") -> str:
        """The backend (``host:port``) nginx picks for a client at ``source``."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=5, source_address=(source, 0)
        )
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.getheader("X-Upstream") or ""
        finally:
            conn.close()

    def split(self, sources: list[str]) -> dict[str, list[str]]:
        """Which sources each backend gets: ``{backend: [source, ...]}``."""
        out: dict[str, list[str]] = {b: [] for b in self.backends}
        for source in sources:
            out.setdefault(self.upstream_of(source), []).append(source)
        return out

    def access_log(self) -> list[dict[str, str]]:
        """Parsed access log lines (flushed within 200 ms of each request's end)."""
        path = self.prefix / "access.log"
        if not path.exists():
            return []
        rows = []
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split(" ")
            if len(parts) >= 5:
                rows.append(
                    {
                        "remote": parts[0],
                        "upstream": parts[1],
                        "status": parts[2],
                        "method": parts[3],
                        "uri": parts[4],
                    }
                )
        return rows

    def error_log(self) -> str:
        texts = []
        for name in ("stderr.log", "error.log"):
            path = self.prefix / name
            if path.exists():
                texts.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(texts)

    def pids(self) -> list[int]:
        """Master and workers (for CPU accounting)."""
        if self.proc is None:
            return []
        pids = [self.proc.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry))
        return pids

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.prefix, ignore_errors=True)
