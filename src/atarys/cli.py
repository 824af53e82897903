"""The ``atarys`` command line: ``serve``, ``db upgrade``, ``sync``, ``openapi``, and the
commands of ``atarys.api.commands`` and ``atarys.emulator.cli``.

The top of the import graph: nothing imports this module.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import tempfile
import threading
from pathlib import Path

import click
from waitress import serve as waitress_serve

from atarys import migrate
from atarys.api.commands import (
    DEMO_CREDENTIALS_FILE,
    auth_command,
    check_demo_data_dir,
    create_token_command,
    create_user_command,
    deactivate_user_command,
    disable_demo_user,
    ensure_demo_user,
    list_tokens_command,
    revoke_token_command,
    start_demo_emulator,
)
from atarys.app import make_app, settings_of, upgrade_database
from atarys.config import Settings
from atarys.demo import seed_demo_clients
from atarys.emulator.cli import emulator
from atarys.extensions import db, session
from atarys.google_contacts.service import open_service
from atarys.jobs.queue import get_queue
from atarys.jobs.scheduler import SyncScheduler, start_scheduler
from atarys.openapi import document
from atarys.sync.core.errors import MassDeletionError, SyncError

logger = logging.getLogger("atarys.cli")


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
    # Embedded mode (no ATARYS_QUEUE_URL): the scheduler and the jobs run in this process.
    # With a queue, ``atarys scheduler`` and ``atarys worker`` run them (docs/deploy.md).
    scheduler = start_scheduler(app) if get_queue(app).embedded else None
    click.echo(f"ATARYS sur http://{host}:{port}/")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="atarys")
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        get_queue(app).close()
        if emulator_ is not None:
            emulator_.stop()


@main.command("sync")
@click.option("--dry-run", is_flag=True, help="Show the plan, field by field, without writing.")
@click.option("--force", is_flag=True, help="Run even if the mass-deletion breaker refuses.")
@click.option("--account", "account_email", default=None, help="Google account (e-mail).")
@click.option(
    "--yes",
    is_flag=True,
    help="Confirm the first sync of a newly connected account (see it first with --dry-run).",
)
def sync(dry_run: bool, force: bool, account_email: str | None, yes: bool) -> None:
    """Synchronise ATARYS clients with Google Contacts (both ways), once (for cron).

    The account: the one named, else the first connected one (``open_service``).
    """
    from atarys.google.connection import GoogleAuthUnavailableError, NotConnectedError

    app = make_app()
    upgrade_database(app)
    with app.app_context():
        try:
            service = open_service(app, account_email)
            if service.account.first_sync_pending and not dry_run and not yes:
                raise click.ClickException(
                    "Première synchronisation de ce compte : rien n'a encore été écrit. "
                    "Vérifiez d'abord avec « atarys sync --dry-run », puis confirmez avec "
                    "« atarys sync --yes »."
                )
            result = service.sync_all(dry_run=dry_run, force=force, trigger="cli")
        except (NotConnectedError, GoogleAuthUnavailableError) as exc:
            raise click.ClickException(str(exc) or "Google n'est pas connecté.") from exc
        except MassDeletionError as exc:
            click.echo(exc.message, err=True)
            sys.exit(3)
        except SyncError as exc:
            raise click.ClickException(exc.message) from exc
        finally:
            db.session.remove()
            db.engine.dispose()
    data = result.to_dict()
    if dry_run:
        click.echo(result.text)
    a2g, g2a = data["atarys_to_google"], data["google_to_atarys"]
    click.echo(
        f"Synchronisation {data['run_id']} ({data['status']}) — "
        f"ATARYS → Google : {a2g['created']} créés, {a2g['updated']} modifiés, "
        f"{a2g['deleted']} supprimés, {a2g['linked']} liés, {a2g['errors']} erreurs ; "
        f"Google → ATARYS : {g2a['created']} créés, {g2a['updated']} modifiés, "
        f"{g2a['deleted']} supprimés, {g2a['errors']} erreurs ; "
        f"{data['conflicts']} conflits, {data['duplicates']} doublons."
    )
    if data["breaker"]:
        click.echo("Disjoncteur : " + " ".join(data["breaker"]))


NO_QUEUE_MESSAGE = (
    "Aucune file de travaux configurée : sans ATARYS_QUEUE_URL, les synchronisations "
    "tournent dans « atarys serve ». Pour des processus séparés, définissez "
    "ATARYS_QUEUE_URL=redis://127.0.0.1:6379/0 (voir docs/deploy.md)."
)


def _until_stopped() -> None:
    """Block until SIGTERM or SIGINT (systemd's stop, Ctrl+C)."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.wait(1.0):
        pass


@main.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="Jobs (accounts) run at once (default: ATARYS_WORKER_CONCURRENCY).",
)
def worker(concurrency: int | None) -> None:
    """Run sync jobs from the queue (ATARYS_QUEUE_URL) until stopped; run several at will."""
    app = make_app()
    queue = get_queue(app)
    if queue.embedded:
        raise click.ClickException(NO_QUEUE_MESSAGE)
    queue.start_worker(concurrency)
    threads = concurrency or settings_of(app).worker_concurrency
    click.echo(f"Travailleur ATARYS prêt ({threads} synchronisations à la fois).")
    try:
        _until_stopped()
    finally:
        click.echo("Arrêt du travailleur : les synchronisations en cours se terminent.")
        queue.close()


@main.command("scheduler")
def scheduler_command() -> None:
    """Queue the scheduled syncs of every account (run exactly one of these)."""
    app = make_app()
    queue = get_queue(app)
    if queue.embedded:
        raise click.ClickException(NO_QUEUE_MESSAGE)
    scheduler = SyncScheduler(app)
    click.echo(f"Planificateur ATARYS prêt (toutes les {scheduler.tick_seconds:g} s).")

    def on_signal(_signum: int, _frame: object) -> None:
        scheduler.shutdown()

    signal.signal(signal.SIGTERM, on_signal)
    try:
        scheduler.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        queue.close()


@main.command("openapi")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File to write."
)
def openapi(out: Path | None) -> None:
    """Print (or write to --out) the OpenAPI document of the API."""
    with tempfile.TemporaryDirectory() as scratch:  # the document needs no data, no database
        app = make_app(
            testing=True,
            database_url="sqlite://",
            data_dir=Path(scratch) / "data",
            log_dir=Path(scratch) / "logs",
        )
        text = json.dumps(document(app), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(f"Document OpenAPI écrit dans {out}.")


main.add_command(emulator)
main.add_command(auth_command)
main.add_command(create_user_command)
main.add_command(create_token_command)
main.add_command(deactivate_user_command)
main.add_command(list_tokens_command)
main.add_command(revoke_token_command)

if __name__ == "__main__":  # pragma: no cover
    main()
