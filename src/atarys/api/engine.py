"""The API's only door to the sync engine (``atarys.sync``).

Everything the HTTP layer and the scheduler need from the engine goes through here:
opening a ``SyncService`` for the connected account, the account's settings, and the
one translation of the engine's typed errors into the ATARYS envelope (French
message, HTTP status, ``Retry-After``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from google.auth.exceptions import RefreshError
from sqlalchemy.orm import Session, scoped_session

from atarys.api import metrics
from atarys.app import settings_of
from atarys.extensions import db
from atarys.google.connection import (
    GoogleAuthUnavailableError,
    NotConnectedError,
    people_service,
    refresh_failed,
    stored_token,
)
from atarys.http import ApiError
from atarys.sync.core.errors import SyncError

logger = logging.getLogger("atarys.api.engine")

# Flask config key: keyword options of the Google side (``attempts``, ``backoff_initial``,
# ``backoff_max``, ``page_size``: see ``atarys.sync.sides.google.GoogleSide``). Tests use
# it to retry without waiting; unset, the engine's production defaults apply.
GOOGLE_OPTIONS_KEY = "ATARYS_GOOGLE_OPTIONS"

# Only for the scheduler's cross-process claim race test: ``app.extensions[FACTORY_KEY]``
# replaces how services are made, ``factory(app, session, email, require_google)``.
FACTORY_KEY = "atarys_sync_factory"

NOT_CONNECTED_MESSAGE = (
    "Google n'est pas connecté : lancez l'authentification (POST /api/google-contacts/auth)."
)


def account_email(app: Flask, session: Session | scoped_session[Any]) -> str | None:
    """The account to sync: the last connected (live) token's, else the engine's default."""
    from atarys.sync.service import default_account

    token = stored_token(app)
    if token is not None and not token.revoked:
        return token.account
    account = default_account(session)  # type: ignore[arg-type]
    if account is not None:
        return str(account.email)
    return token.account if token else None


def ensure_account(session: Session | scoped_session[Any], email: str) -> Any:
    """The engine's ``GoogleAccount`` for ``email``, created when new."""
    from atarys.sync.service import get_or_create_account

    account = get_or_create_account(session, email)  # type: ignore[arg-type]
    session.commit()
    return account


def current_account(app: Flask, session: Session | scoped_session[Any]) -> Any | None:
    """The ``GoogleAccount`` row of the account to sync (created for a new token), or ``None``."""
    from atarys.sync.service import default_account

    token = stored_token(app)
    if token is not None and not token.revoked:
        return ensure_account(session, token.account)
    return default_account(session)  # type: ignore[arg-type]


def _default_factory(
    app: Flask, session: Session | scoped_session[Any], email: str | None, require_google: bool
) -> Any:
    from atarys.sync.service import SyncService, get_or_create_account

    if email is None:
        if require_google:
            raise NotConnectedError()
        return None
    people: Any = None
    if require_google:
        people = people_service(app, email)
    else:
        try:
            people = people_service(app, email)
        except (NotConnectedError, GoogleAuthUnavailableError):
            people = None
    account = get_or_create_account(session, email)  # type: ignore[arg-type]
    session.commit()
    options = dict(app.config.get(GOOGLE_OPTIONS_KEY) or {})
    return SyncService(
        session,  # type: ignore[arg-type]
        account,
        people,
        google_options=options,
        log_dir=settings_of(app).log_dir,
    )


def open_service(
    app: Flask, session: Session | scoped_session[Any] | None = None, *, require_google: bool = True
) -> Any:
    """A ``SyncService`` for the connected account.

    With ``require_google`` (the default) a missing or revoked connection raises
    ``NotConnectedError``; without it (reading runs, conflicts…) the service may have
    no Google side, and ``None`` means no account was ever connected.
    """
    session = session if session is not None else db.session
    factory: Callable[[Flask, Any, str | None, bool], Any] = app.extensions.get(
        FACTORY_KEY, _default_factory
    )
    return factory(app, session, account_email(app, session), require_google)


SETTING_KEYS = (
    "conflict_policy",
    "google_deletions",
    "atarys_deletions",
    "import_scope",
    "auto_sync_minutes",
    "phone_region",
)


def _settings_of(account: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"account": getattr(account, "email", None)}
    if hasattr(account, "settings_dict"):
        data.update(account.settings_dict())
    else:
        for key in SETTING_KEYS:
            data[key] = getattr(account, key, None)
    return data


def account_settings(app: Flask) -> dict[str, Any]:
    """The connected account's sync settings (``NotConnectedError`` when there is none)."""
    account = current_account(app, db.session)
    if account is None:
        raise NotConnectedError()
    return _settings_of(account)


def update_account_settings(app: Flask, values: dict[str, Any]) -> dict[str, Any]:
    """Change some settings of the connected account and return them all."""
    account = current_account(app, db.session)
    if account is None:
        raise NotConnectedError()
    for key, value in values.items():
        if key in SETTING_KEYS:
            setattr(account, key, value)
    db.session.commit()
    return _settings_of(account)


LINK_STATUSES = ("linked", "pending", "conflict", "duplicate", "error", "unlinked")


def client_link_states(app: Flask, client_ids: list[int]) -> list[dict[str, Any]]:
    """The sync state of each of these clients, for the clients page's badges.

    One entry per existing (not deleted) client, in the order asked:
    ``{client_id, resource_name, status, synced_at}`` plus ``error`` when the last
    journal item about it failed. ``status`` is, first that applies: ``conflict`` (an
    open conflict on its link), ``duplicate`` (listed in an open duplicate), ``error``
    (its newest journal item in a real run failed, and no sync of the link since),
    ``pending`` (its mapped fields differ from the link's last synchronised snapshot,
    or it was never synced while Google is connected), ``linked``, else ``unlinked``.
    """
    from sqlalchemy import func, or_, select

    from atarys.models import (
        Client,
        SyncConflict,
        SyncDuplicate,
        SyncLink,
        SyncRun,
        SyncRunItem,
    )
    from atarys.sync.core.records import Record, normalize_record
    from atarys.sync.sides.atarys_db import client_record

    session = db.session
    wanted = list(dict.fromkeys(client_ids))
    clients = {
        c.id: c
        for c in session.scalars(
            select(Client).where(Client.id.in_(wanted), Client.deleted_at.is_(None))
        )
    }
    token = stored_token(app)
    connected = token is not None and not token.revoked
    account = current_account(app, session)
    links: dict[int, Any] = {}
    conflicted: set[int] = set()
    duplicated: set[int] = set()
    failures: dict[int, Any] = {}
    if account is not None and clients:
        ids = list(clients)
        links = {
            link.client_id: link
            for link in session.scalars(
                select(SyncLink).where(
                    SyncLink.account_id == account.id, SyncLink.client_id.in_(ids)
                )
            )
        }
        by_link = {link.id: link.client_id for link in links.values()}
        for conflict in session.scalars(
            select(SyncConflict).where(
                SyncConflict.account_id == account.id,
                SyncConflict.status == "open",
                or_(SyncConflict.link_id.in_(list(by_link)), SyncConflict.client_id.in_(ids)),
            )
        ):
            owner = by_link.get(conflict.link_id) if conflict.link_id else None
            conflicted.add(owner if owner is not None else int(conflict.client_id or 0))
        for duplicate in session.scalars(
            select(SyncDuplicate).where(
                SyncDuplicate.account_id == account.id, SyncDuplicate.status == "open"
            )
        ):
            duplicated.update(int(i) for i in duplicate.client_ids or [] if i in clients)
        newest = (
            select(func.max(SyncRunItem.id))
            .join(SyncRun, SyncRun.id == SyncRunItem.run_id)
            .where(
                SyncRun.account_id == account.id,
                SyncRun.dry_run.is_(False),
                SyncRunItem.client_id.in_(ids),
            )
            .group_by(SyncRunItem.client_id)
        )
        for item in session.scalars(select(SyncRunItem).where(SyncRunItem.id.in_(newest))):
            link = links.get(int(item.client_id or 0))
            superseded = link is not None and link.synced_at > item.created_at
            if item.action == "error" and not superseded:
                failures[int(item.client_id or 0)] = item
    region = str(getattr(account, "phone_region", None) or "FR")
    answer: list[dict[str, Any]] = []
    for client_id in wanted:
        client = clients.get(client_id)
        if client is None:
            continue
        link = links.get(client_id)
        changed = link is None or normalize_record(
            client_record(client), region
        ) != normalize_record(Record.from_dict(link.snapshot or {}), region)
        if client_id in conflicted:
            status = "conflict"
        elif client_id in duplicated:
            status = "duplicate"
        elif client_id in failures:
            status = "error"
        elif link is not None:
            status = "pending" if changed else "linked"
        else:
            status = "pending" if connected else "unlinked"
        entry: dict[str, Any] = {
            "client_id": client_id,
            "resource_name": link.resource_name if link is not None else None,
            "status": status,
            "synced_at": link.synced_at.isoformat() if link is not None else None,
        }
        failure = failures.get(client_id)
        if failure is not None:
            entry["error"] = failure.message or "La synchronisation de ce client a échoué."
        answer.append(entry)
    return answer


@contextmanager
def engine_errors() -> Iterator[None]:
    """Turn the engine's (and the connection's) typed errors into ``ApiError``s, once, here."""
    try:
        yield
    except (SyncError, NotConnectedError, GoogleAuthUnavailableError, RefreshError) as exc:
        api_error = translate(exc)
        if api_error is None:  # pragma: no cover - translate() knows every type caught here
            raise
        raise api_error from exc


def _retry_after(exc: Exception) -> int:
    value = getattr(exc, "retry_after", None)
    try:
        return max(1, int(float(value))) if value is not None else 60
    except (TypeError, ValueError):
        return 60


def _account_or_empty() -> str:
    token = stored_token(current_app._get_current_object())  # type: ignore[attr-defined]
    return token.account if token else ""


def translate(exc: Exception) -> ApiError | None:
    """The ``ApiError`` for an engine error, or ``None`` when it is not one of ours."""
    from atarys.sync import errors as e

    if isinstance(exc, NotConnectedError):
        return ApiError(
            409,
            exc.message if exc.reason != "not_connected" else NOT_CONNECTED_MESSAGE,
            data={"authenticated": False, "reason": exc.reason},
        )
    if isinstance(exc, GoogleAuthUnavailableError):
        return ApiError(
            503,
            "Serveur d'authentification Google injoignable : réessayez plus tard.",
            data={"reason": "auth_unreachable"},
            headers={"Retry-After": "30"},
        )
    if isinstance(exc, RefreshError):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        return translate(refresh_failed(app, _account_or_empty(), exc))
    if not isinstance(exc, e.SyncError):
        return None
    if isinstance(exc, e.AccountBusyError):
        return ApiError(
            409,
            "Une synchronisation est déjà en cours pour ce compte : réessayez dans un instant.",
            data={"reason": "busy"},
            headers={"Retry-After": "10"},
        )
    if isinstance(exc, e.MassDeletionError):
        return ApiError(
            409,
            "Synchronisation refusée : elle supprimerait trop de contacts ("
            + " ".join(exc.reasons)
            + "). Vérifiez avec une simulation (dry_run) puis relancez avec force=true.",
            data={"reason": "mass_deletion", "counts": exc.counts, "reasons": exc.reasons},
        )
    if isinstance(exc, e.QuotaExceededError):
        seconds = _retry_after(exc)
        return ApiError(
            429,
            f"Quota de l'API Google dépassé : réessayez dans {seconds} s.",
            data={"reason": "quota", "retry_after": seconds},
            headers={"Retry-After": str(seconds)},
        )
    if isinstance(exc, e.GoogleUnavailableError):
        return ApiError(
            503,
            "Google Contacts est momentanément indisponible : réessayez plus tard.",
            data={"reason": "google_unavailable"},
            headers={"Retry-After": "30"},
        )
    if isinstance(exc, e.NotConnectedError):
        return ApiError(
            409, NOT_CONNECTED_MESSAGE, data={"authenticated": False, "reason": "not_connected"}
        )
    if isinstance(exc, e.AuthError):
        return ApiError(
            409,
            "Google a refusé l'autorisation : reconnectez le compte (POST /api/google-contacts/auth).",
            data={"authenticated": False, "reason": "google_auth"},
        )
    if isinstance(exc, e.ClientNotFound | e.ContactNotFound | e.ConflictNotFound | e.RunNotFound):
        return ApiError(404, exc.message)
    if isinstance(exc, e.InvalidChoiceError):
        return ApiError(422, exc.message, errors={"choice": exc.message})
    if isinstance(exc, e.StaleItemError):
        return ApiError(
            409,
            "Le contact a changé entre-temps dans Google : réessayez.",
            data={"reason": "stale"},
        )
    if isinstance(exc, e.GoogleApiError):
        logger.warning("unexpected Google answer %s %s", exc.status, exc.reason)
        return ApiError(
            502,
            f"Réponse inattendue de Google ({exc.status} {exc.reason}).",
            data={"reason": "google_api"},
        )
    logger.warning("sync error %s: %s", type(exc).__name__, exc.message)
    return ApiError(502, f"La synchronisation a échoué : {exc.message}")


def run_sync_all(
    service: Any,
    *,
    dry_run: bool,
    force: bool,
    trigger: str,
    progress: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """``sync_all`` timed and counted in the metrics; returns ``RunResult.to_dict()``."""
    started = time.perf_counter()
    try:
        result = service.sync_all(dry_run=dry_run, force=force, trigger=trigger, progress=progress)
    except Exception as exc:  # counted whatever it is, then re-raised for the caller to answer
        metrics.record_failed_run(
            trigger=trigger, reason=type(exc).__name__, seconds=time.perf_counter() - started
        )
        raise
    data: dict[str, Any] = result.to_dict()
    metrics.record_run(data, trigger=trigger, seconds=time.perf_counter() - started)
    return data
