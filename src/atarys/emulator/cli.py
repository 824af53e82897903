"""The ``atarys emulator`` command: run the People API emulator in the foreground."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import click

from atarys.emulator.oauth import write_service_account
from atarys.emulator.server import start_emulator

logger = logging.getLogger("atarys.emulator.cli")


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save and reload the state in this JSON file.",
)
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Add N French sample contacts."
)
@click.option("--auto-approve", is_flag=True, help="The consent page approves at once.")
@click.option(
    "--write-client-secrets",
    "secrets_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a client secrets file pointing at this emulator.",
)
@click.option(
    "--secrets-kind", type=click.Choice(["web", "installed"]), default="web", show_default=True
)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="Redirect URI for the client secrets file (repeatable).",
)
@click.option(
    "--write-service-account",
    "service_account_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Google Workspace service account key (domain-wide delegation) "
    "whose token_uri is this emulator.",
)
@click.option(
    "--domain",
    default="example.com",
    show_default=True,
    help="The Workspace domain the service account may act in.",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    help="Google account e-mail (repeatable; the first gets the seed).",
)
def emulator(
    host: str,
    port: int,
    state_file: Path | None,
    seed: int,
    auto_approve: bool,
    secrets_path: Path | None,
    secrets_kind: str,
    redirect_uris: tuple[str, ...],
    service_account_path: Path | None,
    domain: str,
    users: tuple[str, ...],
) -> None:
    """Run the Google People API + OAuth2 emulator until interrupted."""
    running = start_emulator(
        host=host,
        port=port,
        seed=seed,
        state_file=state_file,
        auto_approve=auto_approve,
        users=list(users) or None,
    )
    try:
        if secrets_path is not None:
            written = running.write_client_secrets(secrets_path, secrets_kind, list(redirect_uris))
            click.echo(f"Client secrets écrits dans {written}")
        if service_account_path is not None:
            key_file = write_service_account(
                running.state, service_account_path, running.url, domain=domain
            )
            click.echo(f"Clé de compte de service (domaine {domain}) écrite dans {key_file}")
        with running.state.lock:
            counts = {email: user.live_count for email, user in running.state.users.items()}
        click.echo(f"Émulateur Google People API sur {running.url}")
        for email, count in counts.items():
            click.echo(f"  {email} : {count} contacts")
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("Arrêt de l'émulateur.")
    finally:
        running.stop()
