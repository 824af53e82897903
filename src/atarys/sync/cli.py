"""``atarys sync [--dry-run] [--force] [--account EMAIL]``: one sync run from the terminal.

The engine's typed errors become a French message and a non-zero exit code here.
"""

from __future__ import annotations

import sys

import click

from atarys.sync.core.errors import MassDeletionError, SyncError


@click.command("sync")
@click.option("--dry-run", is_flag=True, help="Show the plan, field by field, without writing.")
@click.option("--force", is_flag=True, help="Run even if the mass-deletion breaker refuses.")
@click.option("--account", "account_email", default=None, help="Google account (e-mail).")
def sync(dry_run: bool, force: bool, account_email: str | None) -> None:
    """Synchronise ATARYS clients with Google Contacts (both ways)."""
    from atarys.app import settings_of
    from atarys.cli import make_app, upgrade_database
    from atarys.extensions import db
    from atarys.extensions import session as db_session
    from atarys.google.connection import NotConnectedError as ConnectionMissing
    from atarys.google.connection import people_service
    from atarys.sync.service import SyncService, default_account, get_or_create_account

    app = make_app()
    upgrade_database(app)
    with app.app_context():
        session = db_session()
        try:
            people = people_service(app, account_email)
        except ConnectionMissing as exc:
            raise click.ClickException(str(exc) or "Google n'est pas connecté.") from exc
        email = account_email
        if email is None:
            known = default_account(session)
            email = known.email if known is not None else _me(people)
        account = get_or_create_account(session, email)
        session.commit()
        service = SyncService(session, account, people, log_dir=settings_of(app).log_dir)
        try:
            result = service.sync_all(dry_run=dry_run, force=force, trigger="cli")
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


def _me(people: object) -> str:
    from atarys.sync.sides.google import GoogleSide

    email = GoogleSide(people).me()
    if not email:
        raise click.ClickException("Impossible de connaître le compte Google connecté.")
    return email
