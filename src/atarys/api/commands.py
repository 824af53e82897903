"""CLI commands of the access-control and Google-connection work: ``auth``, ``create-user``,
``create-token``, and the demo set-up used by ``serve --demo``."""

from __future__ import annotations

import secrets
from typing import Any

import click
from flask import Flask
from sqlalchemy import select

from atarys.config import Settings
from atarys.extensions import db
from atarys.models import User

DEMO_USER = "demo"


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
    from atarys.app import make_app, upgrade_database

    app = make_app()
    upgrade_database(app)
    with app.app_context():
        existing = db.session.scalar(select(User).where(User.username == username))
        if existing is not None and update:
            set_password(db.session, existing, password)
            click.echo(f"Mot de passe de « {username} » modifié.")
            return
        try:
            create_user(db.session, username, password)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Utilisateur « {username} » créé.")


@click.command("create-token")
@click.argument("name")
@click.option("--user", "username", help="Act as this user (default: a token of its own).")
def create_token_command(name: str, username: str | None) -> None:
    """Create an API token for scripts and cron: shown once, stored hashed."""
    from atarys.api.auth import create_token
    from atarys.app import make_app, upgrade_database

    app = make_app()
    upgrade_database(app)
    with app.app_context():
        user = None
        if username:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                raise click.ClickException(f"Utilisateur « {username} » introuvable.")
        try:
            token = create_token(db.session, name, user)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Jeton d'API « {name} » (affiché une seule fois, conservez-le) :")
    click.echo(token)
    click.echo("Utilisation : Authorization: Bearer <jeton>")


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


def start_demo_emulator(settings: Settings, *, host: str, port: int) -> Any:
    """Demo mode: the seeded emulator (state kept in the data dir), with its client secrets
    written to ``data/google_credentials.json``.

    The consent page is shown, not skipped: a person connects Google by clicking
    « Autoriser », as they would on Google's own page."""
    from atarys.emulator.server import start_emulator

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    emulator = start_emulator(
        seed=60, auto_approve=False, state_file=settings.data_dir / "emulator_state.json"
    )
    uris = {
        f"http://{name}:{port}/api/google-contacts/oauth2callback"
        for name in (host, "localhost", "127.0.0.1")
        if name not in ("0.0.0.0", "::", "")  # noqa: S104 (filtered out, not bound)
    }
    emulator.write_client_secrets(settings.google_credentials_file, "web", sorted(uris))
    return emulator


def ensure_demo_user(app: Flask) -> str:
    """The demo user, with a fresh random password each start (returned to be printed)."""
    from atarys.api.auth import create_user, set_password

    password = secrets.token_urlsafe(9)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == DEMO_USER))
        if user is None:
            create_user(db.session, DEMO_USER, password)
        else:
            set_password(db.session, user, password)
        db.session.remove()
    return password
