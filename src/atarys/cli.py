"""The ``atarys`` command line: serve, database, and the commands each feature adds."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask

from atarys import migrate
from atarys.app import create_app, settings_of
from atarys.emulator.cli import emulator
from atarys.extensions import session

logger = logging.getLogger("atarys.cli")


def make_app(**overrides: object) -> Flask:
    """The app as the CLI uses it: environment settings plus ``overrides``."""
    return create_app({k: v for k, v in overrides.items() if v is not None})


def upgrade_database(app: Flask) -> None:
    """Run the migrations on the app's database."""
    migrate.upgrade(settings_of(app).effective_database_url)


@click.group()
@click.version_option(package_name="atarys")
def main() -> None:
    """ATARYS: clients and their sync with Google Contacts."""


@main.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest migration."""
    app = make_app()
    upgrade_database(app)
    click.echo(f"Base de données à jour ({', '.join(migrate.current_heads())}).")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--demo",
    is_flag=True,
    help="Demo mode: sample clients and the embedded emulator, in a data dir of its own "
    "(ATARYS_DEMO_DATA_DIR, default ./demo-data) with its own SQLite database.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data dir (default: ATARYS_DATA_DIR, or ATARYS_DEMO_DATA_DIR with --demo).",
)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, demo: bool, data_dir: Path | None, threads: int) -> None:
    """Upgrade the database, start the scheduler, then serve the app with waitress."""
    from waitress import serve as waitress_serve

    from atarys.api.commands import (
        DEMO_CREDENTIALS_FILE,
        check_demo_data_dir,
        disable_demo_user,
        ensure_demo_user,
        start_demo_emulator,
    )
    from atarys.api.scheduler import start_scheduler
    from atarys.config import Settings
    from atarys.demo import seed_demo_clients

    emulator_ = None
    overrides: dict[str, object] = {"demo": demo or None, "data_dir": data_dir}
    if demo:
        # Demo data never touches the real data: its own folder, SQLite database and
        # client secrets file (google_credentials.json is never written).
        settings = Settings.from_env()
        demo_dir = data_dir or settings.demo_data_dir
        check_demo_data_dir(demo_dir)
        overrides.update(
            data_dir=demo_dir,
            database_url=f"sqlite:///{(demo_dir / 'atarys.db').resolve()}",
            google_credentials_path=demo_dir / DEMO_CREDENTIALS_FILE,
        )
        emulator_ = start_demo_emulator(
            settings.with_overrides({"data_dir": demo_dir}), host=host, port=port
        )
        overrides["google_api_endpoint"] = emulator_.url
        click.echo(f"Émulateur Google (démo) sur {emulator_.url}, données dans {demo_dir}")
    app = make_app(**overrides)
    upgrade_database(app)
    if not demo and disable_demo_user(app):
        click.echo("Utilisateur de démonstration désactivé (hors mode démonstration).")
    if demo:
        with app.app_context():
            added = seed_demo_clients(session())
        if added:
            click.echo(f"{added} clients de démonstration ajoutés.")
        password = ensure_demo_user(app)
        click.echo(
            f"Connexion de démonstration : utilisateur « demo », mot de passe « {password} »"
        )
    scheduler = start_scheduler(app)
    click.echo(f"ATARYS sur http://{host}:{port}/")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="atarys")
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        if emulator_ is not None:
            emulator_.stop()


main.add_command(emulator)

from atarys.api.commands import (  # noqa: E402 (commands register after the group exists)
    auth_command,
    create_token_command,
    create_user_command,
    deactivate_user_command,
    list_tokens_command,
    revoke_token_command,
)

main.add_command(auth_command)
main.add_command(create_user_command)
main.add_command(deactivate_user_command)
main.add_command(create_token_command)
main.add_command(list_tokens_command)
main.add_command(revoke_token_command)

from atarys.sync.cli import sync  # noqa: E402

main.add_command(sync)

if __name__ == "__main__":  # pragma: no cover
    main()
