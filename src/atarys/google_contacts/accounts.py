"""Several Google accounts on one address book: the list, each account's settings and
client filter, disconnecting one (``/api/google-contacts/accounts``).

Each staff member connects their own Google account (``POST auth`` with ``login_hint``);
every account has its own settings, cursors, links and run lock; ATARYS is the hub
(``atarys.google_contacts.hub``). An account's ``client_filter`` decides which clients go
to its phone (``atarys.sync.core.filters``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session

from atarys.google import oauth
from atarys.google.connection import stored_token, token_store
from atarys.google_contacts.service import SETTING_KEYS, is_connected
from atarys.models import Client, GoogleAccount, ScheduledJob, SyncLink, SyncRun
from atarys.sync.core.filters import FILTER_KEYS, ClientFilter
from atarys.sync.core.records import display_name
from atarys.sync.sides.atarys_db import client_record
from atarys.sync.store import Store

FAILED = ("failed", "refused", "partial")


def _last_run(session: Session | scoped_session[Any], account: GoogleAccount) -> SyncRun | None:
    return session.scalars(
        select(SyncRun)
        .where(SyncRun.account_id == account.id, SyncRun.dry_run.is_(False))
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()


def _next_run(session: Session | scoped_session[Any], account: GoogleAccount) -> str | None:
    ids = [f"{kind}:{account.email}" for kind in ("sync", "poll")]
    due = session.scalar(
        select(func.min(ScheduledJob.next_run_at)).where(ScheduledJob.name.in_(ids))
    )
    return due.isoformat() if due is not None else None


def _last_error(app: Flask, account: GoogleAccount, run: SyncRun | None) -> str | None:
    token = stored_token(app, account.email)
    if token is not None and token.revoked:
        return "L'accès Google de ce compte a été révoqué : reconnectez-le."
    if run is not None and run.status in FAILED:
        if run.error_message:
            return run.error_message
        return (
            f"{run.errors} élément(s) en échec à la dernière synchronisation : "
            "ils sont réessayés automatiquement."
            if run.status == "partial"
            else "La dernière synchronisation a échoué : relancez-la."
        )
    return None


def account_view(
    app: Flask, session: Session | scoped_session[Any], account: GoogleAccount
) -> dict[str, Any]:
    """An account as ``GET accounts`` shows it."""
    connected = is_connected(app, account)
    pending = bool(account.first_sync_pending)
    state = ("first_sync_pending" if pending else "connected") if connected else "disconnected"
    run = _last_run(session, account)
    linked = (
        session.scalar(select(func.count(SyncLink.id)).where(SyncLink.account_id == account.id))
        or 0
    )
    return {
        "id": account.id,
        "email": account.email,
        "mode": getattr(account, "auth_mode", None) or "oauth",
        "state": state,
        "connected": connected,
        "first_sync_pending": pending,
        "last_run": None
        if run is None
        else {
            "id": run.id,
            "status": run.status,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "message": run.error_message,
        },
        "next_run": _next_run(session, account),
        "last_error": _last_error(app, account, run),
        "settings": {"account": account.email, **account.settings_dict()},
        "client_filter": account.client_filter or None,
        "linked_count": int(linked),
    }


def list_accounts(app: Flask, session: Session | scoped_session[Any]) -> list[dict[str, Any]]:
    """Every account ever linked, oldest first (a disconnected one keeps its history)."""
    rows = session.scalars(select(GoogleAccount).order_by(GoogleAccount.id))
    return [account_view(app, session, account) for account in rows]


def _kept(values: dict[str, Any] | None) -> dict[str, str] | None:
    """The filter as stored: its given criteria, or ``None`` (every client)."""
    kept = {k: str(v).strip() for k, v in (values or {}).items() if k in FILTER_KEYS and v}
    return kept if ClientFilter.of(kept) is not None else None


def leaving_with(
    session: Session | scoped_session[Any], account: GoogleAccount, values: dict[str, Any] | None
) -> list[str]:
    """The clients whose contact would leave this phone with this filter (linked to it
    now, outside the filter), by name; empty when the filter does not change."""
    new = _kept(values)
    wanted = ClientFilter.of(new)
    if wanted is None or new == (account.client_filter or None):
        return []
    rows = session.scalars(
        select(Client)
        .join(SyncLink, SyncLink.client_id == Client.id)
        .where(SyncLink.account_id == account.id, Client.deleted_at.is_(None))
        .order_by(Client.nom, Client.prenom, Client.id)
    )
    names = []
    for client in rows:
        record = client_record(client)
        if not wanted.matches(record, client.tag):
            names.append(display_name(record))
    return names


def set_client_filter(
    session: Session | scoped_session[Any], account: GoogleAccount, values: dict[str, Any] | None
) -> bool:
    """Store a new filter; when it changes, the next run of the account compares every
    client once (its watermark is reset, the filter's cached verdicts forgotten)."""
    new = _kept(values)
    if new == (account.client_filter or None):
        return False
    account.client_filter = new
    account.atarys_watermark = None
    plain = session() if isinstance(session, scoped_session) else session
    Store(plain, account).clear_filter_exclusions()
    return True


def update_account(
    session: Session | scoped_session[Any],
    account: GoogleAccount,
    values: dict[str, Any],
    *,
    client_filter: dict[str, Any] | None,
    filter_given: bool,
) -> bool:
    """Change some settings and, when given, the client filter; whether the filter changed."""
    for key, value in values.items():
        if key in SETTING_KEYS:
            setattr(account, key, value)
    changed = set_client_filter(session, account, client_filter) if filter_given else False
    session.commit()
    return changed


def disconnect_account(app: Flask, account: GoogleAccount) -> dict[str, Any]:
    """Revoke the account's token at Google (best effort) and delete it; history is kept."""
    token = stored_token(app, account.email)
    if token is None:
        return {"disconnected": False, "revoked": False, "account": account.email}
    try:
        settings = app.config["ATARYS_SETTINGS"]
        client: oauth.ClientSecrets | None = oauth.load_client_secrets(
            settings.google_credentials_file
        )
    except oauth.ClientSecretsError:
        client = None
    revoked = False
    secret = token.refresh_token or token.token
    if secret and not token.revoked:
        revoked = oauth.revoke(client, secret, token.token_uri)
    token_store(app).delete(token.account)
    return {"disconnected": True, "revoked": revoked, "account": account.email}
