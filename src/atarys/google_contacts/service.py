"""The one door from the web, the CLI and the scheduler to the sync engine (``atarys.sync``).

* ``resolve_account``: which Google account a sync acts for, one rule for everyone
  (the API, ``atarys sync`` and the scheduler):

  1. the account named (by e-mail), created when new;
  2. else the first connected account: the oldest account whose stored token is live
     (a live token whose account has no row yet gets one first);
  3. else the oldest account ever, so its history stays readable after a disconnect
     (Google calls then answer "not connected");
  4. else none.

* ``open_service``: a ``SyncService`` for that account, typed, with its People API
  client when Google is connected.
* ``translate`` / ``engine_errors``: the engine's and the connection's typed errors turned
  into the ATARYS envelope (French message, HTTP status, ``Retry-After``), once, here.
* the account's settings, and ``run_sync_all`` (a run timed and counted in the metrics).

The Flask config key ``ATARYS_GOOGLE_OPTIONS`` passes keyword options to the Google side
(``attempts``, ``backoff_initial``, ``backoff_max``, ``page_size``); tests use it to retry
without waiting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from google.auth.exceptions import RefreshError
from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session

from atarys import metrics
from atarys.config import Settings
from atarys.extensions import session as db_session
from atarys.google import connection
from atarys.google.connection import (
    GoogleAuthUnavailableError,
    NotConnectedError,
    refresh_failed,
    stored_token,
    token_store,
)
from atarys.http import ApiError
from atarys.models import GoogleAccount
from atarys.sync import errors as e
from atarys.sync.service import RunResult, SyncService, get_or_create_account

logger = logging.getLogger("atarys.google_contacts.service")

# Flask config key: keyword options of the Google side (see ``atarys.sync.sides.google``).
GOOGLE_OPTIONS_KEY = "ATARYS_GOOGLE_OPTIONS"

NOT_CONNECTED_MESSAGE = (
    "Google n'est pas connecté : cliquez sur « Connecter Google » dans la page Google Contacts."
)

ServiceOpener = Callable[[Flask], SyncService]
"""How the scheduler and the background runs open a service (``open_service`` by default)."""


def _settings(app: Flask) -> Settings:
    settings = app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


def ensure_account(session: Session | scoped_session[Any], email: str) -> GoogleAccount:
    """The engine's ``GoogleAccount`` for ``email``, created (and committed) when new."""
    plain = session() if isinstance(session, scoped_session) else session
    account = get_or_create_account(plain, email)
    plain.commit()
    return account


def live_accounts(app: Flask) -> list[str]:
    """The e-mails (lower case) of the connected accounts: a live (not revoked) stored token,
    or a Google Workspace account while the service account key is stored."""
    live = [t.account.strip().lower() for t in token_store(app).accounts() if not t.revoked]
    return live + [e for e in connection.workspace_accounts(app) if e not in live]


def resolve_account(
    app: Flask, session: Session | None = None, email: str | None = None
) -> GoogleAccount | None:
    """The account a sync acts for (see the module's docstring for the rule)."""
    session = session if session is not None else db_session()
    if email:
        return ensure_account(session, email)
    accounts = list(session.scalars(select(GoogleAccount).order_by(GoogleAccount.id)))
    live = live_accounts(app)
    for account in accounts:
        if account.email.strip().lower() in live:
            return account
    if live:
        return ensure_account(session, live[0])
    return accounts[0] if accounts else None


def is_connected(app: Flask, account: GoogleAccount | None) -> bool:
    """Whether ``account`` has a live stored token (or, Workspace, the service account key)."""
    if account is None:
        return False
    if account.auth_mode == "workspace":
        return connection.workspace_store(app).path.exists()
    token = stored_token(app, account.email)
    return token is not None and not token.revoked


def open_service(
    app: Flask,
    email: str | None = None,
    *,
    require_google: bool = True,
    session: Session | None = None,
) -> SyncService:
    """A ``SyncService`` for the account ``resolve_account`` picks.

    With ``require_google`` (the default) a missing or revoked connection raises
    ``NotConnectedError``; without it (reading runs, conflicts, settings) the service
    may have no People API client. No account at all raises ``NotConnectedError``.
    """
    session = session if session is not None else db_session()
    account = resolve_account(app, session, email)
    if account is None:
        raise NotConnectedError()
    people: Any = None  # the People API client (googleapiclient is untyped)
    try:
        people = connection.people_service(app, account.email)  # looked up here: tests swap it
    except (NotConnectedError, GoogleAuthUnavailableError):
        if require_google:
            raise
    options = dict(app.config.get(GOOGLE_OPTIONS_KEY) or {})
    return SyncService(
        session, account, people, google_options=options, log_dir=_settings(app).log_dir
    )


def open_reader(app: Flask, email: str | None = None) -> SyncService | None:
    """A service for reading history (runs, conflicts, duplicates), or ``None`` without account."""
    try:
        return open_service(app, email, require_google=False)
    except NotConnectedError:
        return None


def find_account(session: Session | scoped_session[Any], email: str) -> GoogleAccount | None:
    """The account row of ``email`` (case-insensitive), never created."""
    key = email.strip().lower()
    return session.scalars(select(GoogleAccount).where(GoogleAccount.email == key)).first()


def connected_accounts(app: Flask) -> list[GoogleAccount]:
    """The accounts whose stored token is live, oldest first (rows made for live tokens)."""
    session = db_session()
    live = live_accounts(app)
    for email in live:
        if find_account(session, email) is None:
            ensure_account(session, email)
    rows = session.scalars(select(GoogleAccount).order_by(GoogleAccount.id))
    return [a for a in rows if a.email.strip().lower() in live]


def account_settings(app: Flask, email: str | None = None) -> dict[str, Any]:
    """The account's sync settings (``NotConnectedError`` when there is none)."""
    account = resolve_account(app, None, email)
    if account is None:
        raise NotConnectedError()
    return {"account": account.email, **account.settings_dict()}


SETTING_KEYS = (
    "conflict_policy",
    "google_deletions",
    "atarys_deletions",
    "import_scope",
    "auto_sync_minutes",
    "phone_region",
)


def update_account_settings(
    app: Flask, values: dict[str, Any], email: str | None = None
) -> dict[str, Any]:
    """Change some settings of the account and return them all."""
    session = db_session()
    account = resolve_account(app, session, email)
    if account is None:
        raise NotConnectedError()
    for key, value in values.items():
        if key in SETTING_KEYS:
            setattr(account, key, value)
    session.commit()
    return {"account": account.email, **account.settings_dict()}


@contextmanager
def engine_errors() -> Iterator[None]:
    """Turn the engine's (and the connection's) typed errors into ``ApiError``s, once, here."""
    try:
        yield
    except (e.SyncError, NotConnectedError, GoogleAuthUnavailableError, RefreshError) as exc:
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


def _current_app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _account_or_empty() -> str:
    account = resolve_account(_current_app())
    return account.email if account is not None else ""


def translate(exc: Exception) -> ApiError | None:
    """The ``ApiError`` for an engine error, or ``None`` when it is not one of ours."""
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
        return translate(refresh_failed(_current_app(), _account_or_empty(), exc))
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
            "Synchronisation arrêtée par sécurité, rien n'a été écrit : "
            + " ".join(exc.reasons)
            + " Cliquez sur « Aperçu » pour voir qui serait supprimé, puis appliquez cet aperçu"
            " si c'est bien voulu.",
            data={"reason": "mass_deletion", "counts": exc.counts, "reasons": exc.reasons},
        )
    if isinstance(exc, e.FirstSyncPendingError):
        return ApiError(409, exc.message, data={"reason": "first_sync_pending"})
    if isinstance(exc, e.DuplicateNotFound):
        return ApiError(404, exc.message, data={"reason": "duplicate_not_found"})
    if isinstance(exc, e.TrashItemNotFound):
        return ApiError(404, exc.message, data={"reason": "trash_not_found"})
    if isinstance(exc, e.PlanNotFound):
        return ApiError(404, exc.message, data={"reason": "plan_not_found"})
    if isinstance(exc, e.PlanAlreadyApplied):
        return ApiError(409, exc.message, data={"reason": "plan_applied"})
    if isinstance(exc, e.PlanExpired):
        return ApiError(410, exc.message, data={"reason": "plan_expired"})
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
    if isinstance(exc, e.ServiceDisabledError):
        return ApiError(503, exc.message, data={"reason": "people_api_disabled"})
    if isinstance(exc, e.AuthError):
        return ApiError(
            409,
            "Google a refusé l'autorisation : reconnectez le compte avec « Connecter Google ».",
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


def counted_run(trigger: str, run: Callable[[], RunResult]) -> dict[str, Any]:
    """A run timed and counted in the metrics (failures too); its ``to_dict()``."""
    started = time.perf_counter()
    try:
        result = run()
    except Exception as exc:  # counted whatever it is, then re-raised for the caller to answer
        metrics.record_failed_run(
            trigger=trigger, reason=type(exc).__name__, seconds=time.perf_counter() - started
        )
        raise
    data: dict[str, Any] = result.to_dict()
    metrics.record_run(data, trigger=trigger, seconds=time.perf_counter() - started)
    return data


def run_apply(
    service: SyncService, plan_id: str, *, force: bool = False, run_id: int | None = None
) -> dict[str, Any]:
    """``apply_plan`` timed and counted in the metrics; returns ``RunResult.to_dict()``.

    ``run_id``: a job's queued run row, which the run takes over (``atarys.jobs``)."""
    return counted_run("apply", lambda: service.apply_plan(plan_id, force=force, run_id=run_id))


def run_sync_all(
    service: SyncService,
    *,
    dry_run: bool,
    force: bool,
    trigger: str,
    progress: Callable[[int, int], None] | None = None,
    run_id: int | None = None,
) -> dict[str, Any]:
    """``sync_all`` timed and counted in the metrics; returns ``RunResult.to_dict()``.

    ``run_id``: a job's queued run row, which the run takes over (``atarys.jobs``)."""
    return counted_run(
        trigger,
        lambda: service.sync_all(
            dry_run=dry_run, force=force, trigger=trigger, progress=progress, run_id=run_id
        ),
    )
