"""The real CLI, run as a user runs it: ``flask --app wsgi ...`` in a subprocess.

Each test gets its own SQLite file, migrated by ``flask --app wsgi db upgrade`` once per
module and copied, then checks what the commands print and store.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.extensions import db

ROOT = Path(__file__).resolve().parent.parent
CLI_TIMEOUT_S = 120
DEMO_AGENT_RE = re.compile(r"^Demo agent:\s+(\S+) / (\S+)$", re.MULTILINE)
CONSOLE_RE = re.compile(r"^Console:\s+(\S+)$", re.MULTILINE)
HOST_PAGE_RE = re.compile(r"^Demo host page:\s+(\S+)$", re.MULTILINE)


def _flask_command() -> list[str]:
    script = Path(sys.executable).with_name("flask")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "flask"]
    return [*base, "--app", "wsgi"]


def _env(db_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{db_path}",
            "ASYNC_MODE": "threading",
            "SECRET_KEY": "cli-test-secret",
            # Empty counts as unset, and keeps a developer's .env from filling these in.
            "REDIS_URL": "",
            "PUBLIC_URL": "",
            "PORT": "5000",
            "DEMO_PORT": "",
            "FLASK_SKIP_DOTENV": "1",
        }
    )
    env.update(extra)
    return env


def run_cli(db_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``flask --app wsgi ARGS`` against ``db_path``; never raises on a non-zero exit."""
    return subprocess.run(
        [*_flask_command(), *args],
        cwd=ROOT,
        env=_env(db_path, **env),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated with ``flask --app wsgi db upgrade``."""
    path = tmp_path_factory.mktemp("cli-template") / "parley.db"
    result = run_cli(path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    # Fold SQLite's write-ahead log into the file, so a plain copy holds the whole schema.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def db_path(migrated_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the migrated database for one test."""
    path = tmp_path / "parley.db"
    shutil.copyfile(migrated_template, path)
    return path


@pytest.fixture
def api_app(db_path: Path) -> Iterator[Flask]:
    """An app on the same database, to check what the CLI created through the API."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "cli-test-secret",
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def count_rows(db_path: Path, table: str) -> int:
    with closing(sqlite3.connect(db_path)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def login_status(app: Flask, email: str, password: str) -> int:
    response = app.test_client().post(
        "/api/v1/auth/login", json={"email": email, "password": password}
    )
    return response.status_code


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


def b64url_decode(value: str) -> bytes:
    assert re.fullmatch(r"[A-Za-z0-9_-]+", value), value
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


# -- parley demo ----------------------------------------------------------------------------


def test_demo_prints_console_url_credentials_and_host_page(db_path: Path) -> None:
    result = run_cli(db_path, "parley", "demo")
    assert result.returncode == 0, result.stderr
    console = CONSOLE_RE.search(result.stdout)
    credentials = DEMO_AGENT_RE.search(result.stdout)
    host_page = HOST_PAGE_RE.search(result.stdout)
    assert console and credentials and host_page, result.stdout
    assert console.group(1) == "http://127.0.0.1:5000/console/"
    # A second origin, as a customer's site is: PORT + 1 (app/web/demo_host.py).
    assert host_page.group(1) == "http://127.0.0.1:5001/"
    assert "@" in credentials.group(1)
    assert credentials.group(2)


def test_demo_run_twice_creates_nothing_new_and_prints_the_same_credentials(
    db_path: Path,
) -> None:
    first = run_cli(db_path, "parley", "demo")
    assert first.returncode == 0, first.stderr
    counts = {t: count_rows(db_path, t) for t in ("workspaces", "agents", "sites", "faq_entries")}
    assert counts["agents"] >= 1 and counts["sites"] == 1

    second = run_cli(db_path, "parley", "demo")
    assert second.returncode == 0, second.stderr
    assert {t: count_rows(db_path, t) for t in counts} == counts
    first_credentials = DEMO_AGENT_RE.search(first.stdout)
    second_credentials = DEMO_AGENT_RE.search(second.stdout)
    assert first_credentials and second_credentials
    assert first_credentials.groups() == second_credentials.groups()


def test_demo_credentials_log_in_through_the_api(db_path: Path, api_app: Flask) -> None:
    result = run_cli(db_path, "parley", "demo")
    assert result.returncode == 0, result.stderr
    credentials = DEMO_AGENT_RE.search(result.stdout)
    assert credentials, result.stdout
    email, password = credentials.groups()
    assert login_status(api_app, email, password) == 200
    assert login_status(api_app, email, password + "-wrong") == 401


def test_demo_urls_follow_port_and_public_url(db_path: Path, api_app: Flask) -> None:
    on_port = run_cli(db_path, "parley", "demo", PORT="8123")
    assert on_port.returncode == 0, on_port.stderr
    console = CONSOLE_RE.search(on_port.stdout)
    assert console and console.group(1) == "http://127.0.0.1:8123/console/"

    public = run_cli(db_path, "parley", "demo", PUBLIC_URL="https://chat.example.com/")
    assert public.returncode == 0, public.stderr
    console = CONSOLE_RE.search(public.stdout)
    assert console and console.group(1) == "https://chat.example.com/console/"
    # A deployment (PUBLIC_URL) serves no demo page unless DEMO_PORT asks for one.
    assert "Demo host page: off (set DEMO_PORT to serve it)" in public.stdout
    both = run_cli(
        db_path, "parley", "demo", PUBLIC_URL="https://chat.example.com/", DEMO_PORT="5001"
    )
    assert both.returncode == 0, both.stderr
    assert "Demo host page: http://127.0.0.1:5001/" in both.stdout

    # The demo host pages may embed the widget from wherever the app was served.
    with api_app.app_context():
        from app.models import Site

        origins = db.session.scalars(db.select(Site.allowed_origins)).one()
    assert "http://127.0.0.1:8124" in origins  # the host page beside PORT=8123
    assert "http://127.0.0.1:5001" in origins
    assert "http://127.0.0.1:8123" in origins
    assert "https://chat.example.com" in origins
    assert len(origins) == len(set(origins))
    assert count_rows(db_path, "sites") == 1


def test_demo_port_moves_or_turns_off_the_host_page(db_path: Path, api_app: Flask) -> None:
    moved = run_cli(db_path, "parley", "demo", DEMO_PORT="7444")
    assert moved.returncode == 0, moved.stderr
    host_page = HOST_PAGE_RE.search(moved.stdout)
    assert host_page and host_page.group(1) == "http://127.0.0.1:7444/"
    again = run_cli(db_path, "parley", "demo", DEMO_PORT="7444")
    assert again.returncode == 0, again.stderr

    off = run_cli(db_path, "parley", "demo", DEMO_PORT="0")
    assert off.returncode == 0, off.stderr
    assert "Demo host page: off (set DEMO_PORT to serve it)" in off.stdout

    bad = run_cli(db_path, "parley", "demo", DEMO_PORT="http")
    assert bad.returncode != 0
    assert "DEMO_PORT must be a port number" in bad.stderr

    with api_app.app_context():
        from app.models import Site

        origins = db.session.scalars(db.select(Site.allowed_origins)).one()
    assert origins.count("http://127.0.0.1:7444") == 1


# -- parley create-owner --------------------------------------------------------------------


def test_create_owner_creates_a_workspace_and_an_owner_who_can_log_in(
    db_path: Path, api_app: Flask
) -> None:
    result = run_cli(
        db_path,
        "parley",
        "create-owner",
        "--email",
        "Olive@Example.com",
        "--password",
        "correct horse battery",
        "--workspace",
        "Acme",
    )
    assert result.returncode == 0, result.stderr
    assert "olive@example.com" in result.stdout
    assert count_rows(db_path, "workspaces") == 1
    with closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute(
            "SELECT a.email, a.role, w.name FROM agents a"
            " JOIN workspaces w ON w.id = a.workspace_id"
        ).fetchall()
    assert rows == [("olive@example.com", "owner", "Acme")]

    response = api_app.test_client().post(
        "/api/v1/auth/login",
        json={"email": "olive@example.com", "password": "correct horse battery"},
    )
    assert response.status_code == 200
    assert response.get_json()["agent"]["role"] == "owner"


def test_create_owner_with_a_taken_email_exits_non_zero_with_a_clear_message(
    db_path: Path,
) -> None:
    args = ("parley", "create-owner", "--password", "correct horse battery")
    first = run_cli(db_path, *args, "--email", "owner@example.com", "--workspace", "One")
    assert first.returncode == 0, first.stderr

    again = run_cli(db_path, *args, "--email", "OWNER@example.com", "--workspace", "Two")
    assert again.returncode != 0
    assert_no_traceback(again)
    assert "already exists" in again.stderr
    assert count_rows(db_path, "workspaces") == 1
    assert count_rows(db_path, "agents") == 1


def test_create_owner_with_a_short_password_exits_non_zero(db_path: Path) -> None:
    result = run_cli(
        db_path,
        "parley",
        "create-owner",
        "--email",
        "short@example.com",
        "--password",
        "1234567",
        "--workspace",
        "Acme",
    )
    assert result.returncode != 0
    assert_no_traceback(result)
    assert "--password" in result.stderr
    assert count_rows(db_path, "agents") == 0
    assert count_rows(db_path, "workspaces") == 0


def test_create_owner_refuses_an_invalid_email(db_path: Path) -> None:
    result = run_cli(
        db_path,
        "parley",
        "create-owner",
        "--email",
        "not-an-email",
        "--password",
        "correct horse battery",
        "--workspace",
        "Acme",
    )
    assert result.returncode != 0
    assert_no_traceback(result)
    assert "--email" in result.stderr
    assert count_rows(db_path, "agents") == 0


# -- parley vapid-keys ----------------------------------------------------------------------


def test_vapid_keys_prints_a_p256_key_pair_in_base64url(db_path: Path) -> None:
    result = run_cli(db_path, "parley", "vapid-keys")
    assert result.returncode == 0, result.stderr
    values = dict(line.split("=", 1) for line in result.stdout.strip().splitlines() if "=" in line)
    private = b64url_decode(values["VAPID_PRIVATE_KEY"])
    public = b64url_decode(values["VAPID_PUBLIC_KEY"])
    assert len(private) == 32
    assert len(public) == 65 and public[0] == 0x04

    from cryptography.hazmat.primitives.asymmetric import ec

    # The public key is the private key's point, so the pair works together.
    derived = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
    numbers = derived.public_key().public_numbers()
    assert public[1:] == numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")

    another = run_cli(db_path, "parley", "vapid-keys")
    assert another.returncode == 0
    assert another.stdout != result.stdout
