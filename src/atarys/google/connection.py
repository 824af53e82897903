"""The seam between stored Google credentials and the sync engine.

``people_service(app, account_email)`` returns a ready People API service for a
connected account (credentials loaded from the token store, refreshed when needed)
or raises ``NotConnectedError``. ``connection_state`` tells the status endpoint the
truth about the token without raising.

A Google Workspace account (``google_accounts.auth_mode == "workspace"``) has no stored
token: its credentials are the service account's, acting for it (``google/workspace.py``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import google.auth.credentials
import google.auth.exceptions
from flask import Flask, current_app, has_app_context
from google.auth.transport.requests import Request
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atarys.config import Settings
from atarys.extensions import db
from atarys.google import workspace
from atarys.google.tokens import StoredToken, TokenStore, TokenStoreError, legacy_token_present
from atarys.metrics import GOOGLE_API_CALLS, GOOGLE_API_ERRORS, QUOTA_RETRIES
from atarys.models import GoogleAccount

logger = logging.getLogger("atarys.google")

_refresh_lock = threading.Lock()


class NotConnectedError(Exception):
    """No usable Google credentials for this account (never connected, revoked, legacy pickle)."""

    def __init__(
        self, message: str = "Google n'est pas connecté.", *, reason: str = "not_connected"
    ):
        super().__init__(message)
        self.message = message
        self.reason = reason


class GoogleAuthUnavailableError(Exception):
    """The token endpoint could not be reached to refresh the access token."""


def _settings(app: Flask) -> Settings:
    settings = app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


def token_store(app: Flask) -> TokenStore:
    """The app's token store (key from ATARYS_TOKEN_KEY or the data dir)."""
    return TokenStore.for_settings(_settings(app))


def workspace_store(app: Flask) -> workspace.WorkspaceStore:
    """The app's encrypted store of the Google Workspace service account key."""
    return workspace.WorkspaceStore.for_settings(_settings(app))


def _in_session(app: Flask, read: Any) -> Any:
    """``read(session)`` in the current app context's session, or in a context of its own."""
    if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]
        return read(db.session())
    with app.app_context():
        return read(db.session())


def workspace_accounts(app: Flask) -> list[str]:
    """The e-mails (lower case) of the Workspace accounts, oldest first (none without a key)."""
    if not workspace_store(app).path.exists():
        return []

    def read(session: Session) -> list[str]:
        rows = session.scalars(
            select(GoogleAccount.email)
            .where(GoogleAccount.auth_mode == workspace.AUTH_MODE_WORKSPACE)
            .order_by(GoogleAccount.id)
        )
        return [email.strip().lower() for email in rows]

    result: list[str] = _in_session(app, read)
    return result


def is_workspace_account(app: Flask, account_email: str) -> bool:
    """Whether ``account_email`` acts through the Workspace service account."""
    key = account_email.strip().lower()

    def read(session: Session) -> bool:
        mode = session.scalar(
            select(GoogleAccount.auth_mode).where(func.lower(GoogleAccount.email) == key)
        )
        return mode == workspace.AUTH_MODE_WORKSPACE

    result: bool = _in_session(app, read)
    return result


def workspace_credentials(
    app: Flask, account_email: str
) -> tuple[str, google.auth.credentials.Credentials]:
    """The service account's credentials acting for a Workspace account."""
    config = workspace_store(app).load()
    if config is None:
        raise NotConnectedError(
            "La clé du compte de service Google Workspace manque ou est illisible : un "
            "administrateur doit l'envoyer de nouveau dans la page Google Contacts.",
            reason="workspace_key_missing",
        )
    try:
        creds = workspace.subject_credentials(config, account_email)
    except workspace.WorkspaceRefusedError as exc:
        logger.warning("Google Workspace refused to act for an account (%s)", exc.reason)
        raise NotConnectedError(exc.message, reason=exc.reason) from exc
    except workspace.WorkspaceUnreachableError as exc:
        raise GoogleAuthUnavailableError(str(exc)) from exc
    return account_email.strip().lower(), creds


def stored_token(app: Flask, account_email: str | None = None) -> StoredToken | None:
    """The stored token of ``account_email``, or of the most recently connected account."""
    store = token_store(app)
    if account_email:
        try:
            return store.load(account_email)
        except TokenStoreError:
            return None
    tokens = store.accounts()
    live = [t for t in tokens if not t.revoked]
    if live:
        return live[-1]
    return tokens[-1] if tokens else None


def _missing(app: Flask) -> NotConnectedError:
    if legacy_token_present(_settings(app)):
        return NotConnectedError(
            "Ancien jeton (pickle) détecté : il n'est jamais chargé, reconnectez Google.",
            reason="legacy_token",
        )
    return NotConnectedError()


def refresh_failed(
    app: Flask, account: str, exc: google.auth.exceptions.RefreshError
) -> NotConnectedError | GoogleAuthUnavailableError:
    """What a refusal of the token endpoint means; a revoked grant is remembered in the store."""
    text = str(exc)
    if account and is_workspace_account(app, account):
        config = workspace_store(app).load()
        if config is not None:
            refused = workspace.refusal(config, account, text)
            return NotConnectedError(refused.message, reason=refused.reason)
    if "invalid_client" in text:
        # the OAuth client itself is refused: reconnecting cannot help, the file must change
        logger.warning("Google refused the OAuth client: the credentials file is wrong")
        return NotConnectedError(
            "Google refuse le fichier d'identifiants de l'application (google_credentials.json) : "
            "il est erroné ou a été remplacé dans la console Google. Téléchargez celui du client "
            "OAuth actuel dans le dossier de données ; reconnecter le compte ne suffit pas.",
            reason="invalid_client",
        )
    if "invalid_grant" in text:
        token = stored_token(app, account)
        if token is not None and not token.revoked:
            token.revoked = True
            token_store(app).save(token)
        logger.warning("Google refresh token refused for an account: marked revoked")
        return NotConnectedError(
            "L'accès Google a expiré ou a été retiré : reconnectez Google avec le bouton "
            "« Connecter Google ». Si l'application Google est encore en mode « Test », ses "
            "autorisations expirent au bout de 7 jours : publiez-la, ou rendez-la « Interne » "
            "dans Google Workspace.",
            reason="revoked",
        )
    return GoogleAuthUnavailableError(text)


def credentials_for(
    app: Flask, account_email: str | None = None
) -> tuple[str, google.auth.credentials.Credentials]:
    """Valid credentials (refreshed and saved when expired) for an account, or ``NotConnectedError``.

    A Workspace account gets the service account's credentials acting for it."""
    if account_email and is_workspace_account(app, account_email):
        return workspace_credentials(app, account_email)
    token = stored_token(app, account_email)
    if token is None:
        staff = [] if account_email else workspace_accounts(app)
        if staff:
            return workspace_credentials(app, staff[0])
        raise _missing(app)
    if token.revoked:
        raise NotConnectedError(
            "L'accès Google a été révoqué : reconnectez le compte.", reason="revoked"
        )
    creds = token.credentials()
    if creds.valid:
        return token.account, creds
    if not creds.refresh_token:
        raise NotConnectedError(
            "Jeton Google expiré sans jeton de rafraîchissement.", reason="expired"
        )
    with _refresh_lock:
        try:
            creds.refresh(Request())  # type: ignore[no-untyped-call]
        except google.auth.exceptions.RefreshError as exc:
            raise refresh_failed(app, token.account, exc) from exc
        except google.auth.exceptions.TransportError as exc:
            raise GoogleAuthUnavailableError(str(exc)) from exc
        refreshed = StoredToken.from_credentials(token.account, creds)
        refreshed.refresh_token = creds.refresh_token or token.refresh_token
        token_store(app).save(refreshed)
    return token.account, creds


class CountingHttpRequest(HttpRequest):
    """An ``HttpRequest`` counting calls per API method (and 429s) in the Prometheus metrics."""

    def execute(self, http: Any = None, num_retries: int = 0) -> Any:
        method = str(self.methodId or "unknown")
        GOOGLE_API_CALLS.labels(method=method).inc()
        try:
            return super().execute(http=http, num_retries=num_retries)
        except HttpError as exc:
            status = int(getattr(exc.resp, "status", 0) or 0)
            GOOGLE_API_ERRORS.labels(status=str(status)).inc()
            if status == 429:
                QUOTA_RETRIES.inc()
            raise


def build_service(credentials: google.auth.credentials.Credentials, api_endpoint: str) -> Any:
    """A People API service on ``api_endpoint`` whose calls are counted."""
    return build(
        "people",
        "v1",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_endpoint},
        requestBuilder=CountingHttpRequest,
    )


def people_service(app: Flask, account_email: str | None = None) -> Any:
    """A People API service for ``account_email`` (the default account when ``None``)."""
    _, creds = credentials_for(app, account_email)
    return build_service(creds, _settings(app).google_api_endpoint)


@dataclass
class ConnectionState:
    """What the status endpoint reports about the Google connection."""

    account: str | None
    token_file_exists: bool
    authenticated: bool
    revoked: bool
    legacy_token: bool
    reason: str | None
    message: str | None


def connection_state(app: Flask, account_email: str | None = None) -> ConnectionState:
    """Whether a usable token exists for the account (refreshing it if needed), never raising."""
    settings = _settings(app)
    legacy = legacy_token_present(settings)
    if account_email and is_workspace_account(app, account_email):
        return _workspace_state(app, account_email, legacy)
    token = stored_token(app, account_email)
    if token is None:
        staff = [] if account_email else workspace_accounts(app)
        if staff:
            return _workspace_state(app, staff[0], legacy)
        err = _missing(app)
        return ConnectionState(None, False, False, False, legacy, err.reason, err.message)
    try:
        account, _ = credentials_for(app, token.account)
    except NotConnectedError as exc:
        return ConnectionState(
            token.account, True, False, exc.reason == "revoked", legacy, exc.reason, exc.message
        )
    except GoogleAuthUnavailableError:
        return ConnectionState(
            token.account,
            True,
            False,
            False,
            legacy,
            "auth_unreachable",
            "Serveur d'authentification Google injoignable.",
        )
    return ConnectionState(account, True, True, False, legacy, None, None)


def _workspace_state(app: Flask, account_email: str, legacy: bool) -> ConnectionState:
    """The connection state of a Workspace account (a grant asked when no token is cached)."""
    try:
        account, _ = workspace_credentials(app, account_email)
    except NotConnectedError as exc:
        return ConnectionState(account_email, True, False, False, legacy, exc.reason, exc.message)
    except GoogleAuthUnavailableError:
        return ConnectionState(
            account_email,
            True,
            False,
            False,
            legacy,
            "auth_unreachable",
            "Serveur d'authentification Google injoignable.",
        )
    return ConnectionState(account, True, True, False, legacy, None, None)
