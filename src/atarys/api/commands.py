"""CLI commands of the access-control and Google-connection work: ``auth``, ``create-user``,
``deactivate-user``, ``create-token``, ``list-tokens``, ``revoke-token``, and the demo
set-up used by ``serve --demo``."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy import select

from atarys.api.auth import DEMO_USER
from atarys.config import Settings
from atarys.extensions import db
from atarys.models import ApiToken, User
from atarys.models.user import TOKEN_SCOPES

__all__ = ["DEMO_USER"]
# The client id the embedded emulator writes in its client secrets (a demo file).
DEMO_CLIENT_ID = "atarys-emulator.apps.googleusercontent.com"
DEMO_CREDENTIALS_FILE = "demo_google_credentials.json"
DEFAULT_CLI_SCOPES = "read,write"


@contextmanager
def _cli_app() -> Iterator[Flask]:
    """The app of a one-shot command, migrated, inside its context; its pool closed after."""
    from atarys.app import make_app, upgrade_database

    app = make_app()
    upgrade_database(app)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _settings(app: Flask) -> Settings:
    settings = app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


@click.command("create-user")
@click.argument("username")
@click.option(
    "--password",
    prompt="Mot de passe",
    hide_input=True,
    confirmation_prompt="Confirmez le mot de passe",
    help="Prompted when not given.",
)
@click.option("--update", is_flag=True, help="Change the password of an existing user.")
def create_user_command(username: str, password: str, update: bool) -> None:
    """Create a user who logs in to ATARYS (password hashed with scrypt)."""
    from atarys.api.auth import create_user, set_password

    if username.strip() == DEMO_USER:
        raise click.ClickException(
            f"Le nom « {DEMO_USER} » est réservé au mode démonstration : choisissez-en un autre."
        )
    with _cli_app():
        existing = db.session.scalar(select(User).where(User.username == username))
        if existing is not None and update:
            try:
                set_password(db.session, existing, password)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(
                f"Mot de passe de « {username} » modifié ; ses sessions ouvertes sont fermées."
            )
            return
        try:
            create_user(db.session, username, password)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Utilisateur « {username} » créé.")


@click.command("deactivate-user")
@click.argument("username")
@click.option("--activate", is_flag=True, help="Re-activate the user instead.")
def deactivate_user_command(username: str, activate: bool) -> None:
    """Deactivate a user: every session and token of theirs stops working at once."""
    from atarys.api.auth import set_active

    with _cli_app():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"Utilisateur « {username} » introuvable.")
        set_active(db.session, user, activate)
    if activate:
        click.echo(f"Utilisateur « {username} » réactivé.")
    else:
        click.echo(f"Utilisateur « {username} » désactivé ; ses sessions et jetons sont refusés.")


@click.command("create-token")
@click.argument("name")
@click.option("--user", "username", help="Act as this user (default: a token of its own).")
@click.option(
    "--scope",
    "scopes",
    default=DEFAULT_CLI_SCOPES,
    show_default=True,
    help=f"Comma-separated scopes among {', '.join(TOKEN_SCOPES)} (admin: connect, disconnect, "
    "settings; metrics: GET /metrics).",
)
@click.option(
    "--expires-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Expire after this many days (default: never).",
)
def create_token_command(
    name: str, username: str | None, scopes: str, expires_days: int | None
) -> None:
    """Create an API token for scripts and cron: shown once, stored hashed."""
    from atarys.api.auth import create_token

    with _cli_app():
        user = None
        if username:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                raise click.ClickException(f"Utilisateur « {username} » introuvable.")
        try:
            token = create_token(db.session, name, user, scopes=[scopes], expires_days=expires_days)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Jeton d'API « {name} » (affiché une seule fois, conservez-le) :")
    click.echo(token)
    click.echo("Utilisation : Authorization: Bearer <jeton>")


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


@click.command("list-tokens")
def list_tokens_command() -> None:
    """List API tokens: id, prefix, name, user, scopes, status, expiry, last use."""
    from atarys.api.auth import token_status

    with _cli_app():
        tokens = db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        users = {u.id: u.username for u in db.session.scalars(select(User)).all()}
        if not tokens:
            click.echo("Aucun jeton d'API.")
            return
        header = (
            "id",
            "préfixe",
            "nom",
            "utilisateur",
            "portées",
            "état",
            "expire",
            "dernier usage",
        )
        rows = [
            (
                str(t.id),
                t.prefix,
                t.name,
                users.get(t.user_id, "?") if t.user_id is not None else "-",
                ",".join(t.scopes.split()),
                token_status(t),
                _when(t.expires_at),
                _when(t.last_used_at),
            )
            for t in tokens
        ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


@click.command("revoke-token")
@click.argument("ref")
def revoke_token_command(ref: str) -> None:
    """Revoke an API token, named by its id or its prefix (as ``list-tokens`` shows them)."""
    from atarys.api.auth import find_tokens, revoke_token

    with _cli_app():
        found = find_tokens(db.session, ref)
        if not found:
            raise click.ClickException(
                f"Aucun jeton ne correspond à « {ref} » : vérifiez avec « atarys list-tokens »."
            )
        if len(found) > 1:
            raise click.ClickException(
                f"Plusieurs jetons correspondent à « {ref} » : indiquez le numéro affiché "
                "par « atarys list-tokens »."
            )
        token = found[0]
        name = token.name
        revoked = revoke_token(db.session, token)
    if revoked:
        click.echo(f"Jeton « {name} » révoqué.")
    else:
        click.echo(f"Le jeton « {name} » était déjà révoqué.")


@click.command("auth")
@click.option("--port", default=0, type=int, help="Loopback port (default: any free port).")
@click.option("--timeout", default=300, show_default=True, type=int, help="Seconds to wait.")
def auth_command(port: int, timeout: int) -> None:
    """Connect a Google account from a server without a browser (desktop/loopback flow).

    Prints the consent URL; open it (on any machine that can reach this one's loopback
    port through an SSH tunnel, or on this machine), accept, and the token is stored.
    """
    from atarys.app import make_app, upgrade_database
    from atarys.google import oauth
    from atarys.google.connection import token_store
    from atarys.google.tokens import StoredToken
    from atarys.google_contacts import service as engine

    app = make_app()
    upgrade_database(app)
    settings = _settings(app)
    try:
        client = oauth.load_client_secrets(settings.google_credentials_file)
        creds = oauth.run_loopback_flow(
            client,
            show_url=lambda url: click.echo(
                "Ouvrez cette adresse dans un navigateur pour autoriser ATARYS :\n" + url
            ),
            port=port,
            timeout=timeout,
        )
        email = oauth.account_email(creds, settings.google_api_endpoint)
    except oauth.OAuthError as exc:
        raise click.ClickException(exc.message) from exc
    token_store(app).save(StoredToken.from_credentials(email, creds))
    with app.app_context():
        engine.ensure_account(db.session, email)
    click.echo(f"✅ Authentification Google réussie ({email}).")


def is_demo_credentials(path: Path) -> bool:
    """Whether ``path`` holds the embedded emulator's client secrets (not a real Google client)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    return any(
        isinstance(section, dict) and section.get("client_id") == DEMO_CLIENT_ID
        for section in data.values()
    )


def check_demo_data_dir(data_dir: Path) -> None:
    """Refuse (``click.ClickException``) a demo in a data dir holding real Google credentials."""
    credentials = data_dir / "google_credentials.json"
    if credentials.exists() and not is_demo_credentials(credentials):
        raise click.ClickException(
            f"Le dossier « {data_dir} » contient de vrais identifiants Google : la démonstration "
            "ne s'y lance pas, pour ne pas toucher à vos données. Choisissez un autre dossier "
            "(option --data-dir ou variable ATARYS_DEMO_DATA_DIR)."
        )


def start_demo_emulator(settings: Settings, *, host: str, port: int) -> Any:
    """Demo mode: the seeded emulator (state kept in the demo data dir), with its client
    secrets written to ``demo_google_credentials.json`` there: ``google_credentials.json``
    is never written.

    The consent page is shown, not skipped: a person connects Google by clicking
    « Autoriser », as they would on Google's own page."""
    from atarys.emulator.server import start_emulator

    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    emulator = start_emulator(
        seed=60, auto_approve=False, state_file=settings.data_dir / "emulator_state.json"
    )
    uris = {
        f"http://{name}:{port}/api/google-contacts/oauth2callback"
        for name in (host, "localhost", "127.0.0.1")
        if name not in ("0.0.0.0", "::", "")  # noqa: S104 (filtered out, not bound)
    }
    emulator.write_client_secrets(
        settings.data_dir / DEMO_CREDENTIALS_FILE, "web", sorted(uris), client_id=DEMO_CLIENT_ID
    )
    return emulator


def ensure_demo_user(app: Flask) -> str:
    """The demo user, with a fresh random password each start (returned to be printed)."""
    from atarys.api.auth import create_user, set_active, set_password

    password = secrets.token_urlsafe(9)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == DEMO_USER))
        if user is None:
            create_user(db.session, DEMO_USER, password)
        else:
            set_password(db.session, user, password)
            set_active(db.session, user, True)
        db.session.remove()
    return password


def disable_demo_user(app: Flask) -> bool:
    """Outside demo mode the demo user cannot log in: deactivated (its sessions ended)."""
    from atarys.api.auth import set_active

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == DEMO_USER))
        changed = user is not None and user.is_active
        if user is not None and user.is_active:
            set_active(db.session, user, False)
        db.session.remove()
    return changed
