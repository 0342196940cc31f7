"""``flask --app wsgi parley ...``: demo data, owners and keys."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.errors import ParleyError
from app.extensions import db

parley = AppGroup("parley", help="Parley administration.")

DEMO_EMAIL = "demo@parley.local"
DEMO_PASSWORD = "parley-demo"  # noqa: S105 - printed for the local demo on purpose
DEMO_WORKSPACE = "Demo workspace"


@parley.command("create-owner")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--workspace", "workspace_name", required=True)
@click.option("--name", default="Owner")
def create_owner_command(email: str, password: str, workspace_name: str, name: str) -> None:
    """Create a workspace and its owner."""
    from app.schemas.agents import SignupIn
    from app.schemas.base import load
    from app.services.accounts import create_owner

    try:
        # The same rules as sign-up over the API (e-mail shape, password length, names).
        data = load(
            SignupIn(),
            {"workspace_name": workspace_name, "name": name, "email": email, "password": password},
        )
        agent = create_owner(data["email"], data["password"], data["workspace_name"], data["name"])
    except ParleyError as exc:
        raise click.ClickException(_describe(exc)) from exc
    click.echo(
        f"Created owner {agent.email} of workspace {data['workspace_name']!r} "
        f"({agent.workspace_id})."
    )


@parley.command("demo")
def demo_command() -> None:
    """Create the demo workspace, agent and site if absent; print how to use them."""
    from app.services.demo import ensure_demo
    from app.web.demo_host import demo_url

    base = _base_url()
    try:
        host_page = demo_url(current_app.config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    demo = ensure_demo(DEMO_EMAIL, DEMO_PASSWORD, DEMO_WORKSPACE, base, host_page)
    click.echo(f"Console:        {base}/console/")
    click.echo(f"Demo agent:     {DEMO_EMAIL} / {DEMO_PASSWORD}")
    click.echo(f"Demo host page: {host_page or 'off (set DEMO_PORT to serve it)'}")
    click.echo(f"Site key:       {demo.site_key}")


@parley.command("vapid-keys")
def vapid_keys_command() -> None:
    """Print a new VAPID key pair for web push (set them as VAPID_* variables)."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    click.echo(f"VAPID_PRIVATE_KEY={b64(private)}")
    click.echo(f"VAPID_PUBLIC_KEY={b64(public)}")


@parley.command("check-db")
def check_db_command() -> None:
    """Exit non-zero if the database cannot be reached."""
    from app.models import Workspace

    db.session.execute(select(Workspace.id).limit(1))
    click.echo("database ok")


@parley.command("encryption-key")
def encryption_key_command() -> None:
    """Print a new key item for PARLEY_ENCRYPTION_KEYS (put it first to make it current)."""
    from app.lib.crypto import new_key_item

    click.echo(new_key_item())


@parley.command("rotate-keys")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10000),
    default=500,
    show_default=True,
    help="Messages per committed batch.",
)
def rotate_keys_command(batch_size: int) -> None:
    """Re-encrypt message bodies (and rebuild their search index) under the current key.

    PARLEY_ENCRYPTION_KEYS is a comma-separated list of kid:base64key items (32-byte keys,
    see `parley encryption-key`); the first encrypts, all decrypt. To rotate: put the new
    key first, keep the old ones after it, restart the app, run this command, then remove
    the old keys. Plaintext rows from before encryption are encrypted too. Safe to
    interrupt and run again: it continues with the rows not yet under the current key.
    """
    from app.lib.crypto import DecryptionError, keyring
    from app.services.key_rotation import count_behind, rotate_keys

    total = count_behind()
    kid = keyring().current_kid
    if not total:
        click.echo(f"Every message is under key {kid!r}.")
        return
    try:
        with click.progressbar(length=total, label=f"Encrypting under key {kid!r}") as bar:
            moved = rotate_keys(batch_size=batch_size, on_batch=bar.update)
    except DecryptionError as exc:
        raise click.ClickException(
            f"{exc} Earlier batches are saved; run again when fixed."
        ) from exc
    click.echo(f"{moved} messages now under key {kid!r}.")


def _base_url() -> str:
    """Where the app is reached: ``PUBLIC_URL``, else the local address ``make run`` serves."""
    from app.web.demo_host import app_url

    return app_url(current_app.config)


_OPTIONS = {"workspace_name": "--workspace", "name": "--name", "email": "--email"}


def _describe(error: ParleyError) -> str:
    """An error for the terminal: field problems named by the option that caused them."""
    if error.code != "invalid" or not error.fields:
        return error.message
    problems = []
    for field, messages in error.fields.items():
        text = " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        problems.append(f"{_OPTIONS.get(field, '--' + field)}: {text}")
    return "; ".join(problems)


@parley.command("bot-eval")
@click.option("--kb", "kb_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--questions", "questions_path", required=True, type=click.Path(exists=True))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
def bot_eval_command(kb_path: str, questions_path: str, out_path: str) -> None:
    """Run the bot's decision over questions: writes {text, predicted} per line."""
    from app.bot.eval import run_batch

    try:
        count = run_batch(kb_path, questions_path, out_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{count} predictions written to {out_path}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(parley)
