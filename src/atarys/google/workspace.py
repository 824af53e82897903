"""Google Workspace mode: one service account key, acting for each staff member.

An admin uploads the service account key (with domain-wide delegation) once; the app then
acts as each staff member through google-auth's service account credentials with a
subject: the JWT bearer grant at the key's ``token_uri``, no consent per person.

The key lives in ``<data_dir>/google_workspace.key``: JSON encrypted with the token key
(Fernet, as ``tokens.py``), mode 0600. It is never logged nor returned: ``public_view``
is all that leaves this module. Which accounts are staff members is the database's
``google_accounts.auth_mode`` (``"workspace"``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import google.auth.exceptions
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from atarys.config import Settings
from atarys.google.client import CONTACTS_SCOPE
from atarys.google.tokens import _write_private, token_key

AUTH_MODE_OAUTH = "oauth"
AUTH_MODE_WORKSPACE = "workspace"
KEY_FILE = "google_workspace.key"
ADMIN_CONSOLE_STEPS = (
    "console d'administration Google Workspace → Sécurité → Contrôle des accès et des "
    "données → Commandes des API → Délégation au niveau du domaine"
)


class WorkspaceKeyError(Exception):
    """An uploaded key that is not a usable service account key: one French message per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class WorkspaceRefusedError(Exception):
    """Google (or the key itself) refuses to act for a staff member; ``message`` in French."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class WorkspaceUnreachableError(Exception):
    """The key's token endpoint could not be reached."""


@dataclass
class WorkspaceConfig:
    """The stored key and the Workspace domain the staff's e-mails belong to."""

    key: dict[str, Any]
    domain: str | None = None
    saved_at: datetime | None = field(default=None)

    @property
    def client_email(self) -> str:
        return str(self.key["client_email"])

    @property
    def client_id(self) -> str:
        return str(self.key.get("client_id") or "")

    @property
    def key_id(self) -> str:
        return str(self.key.get("private_key_id") or self.client_email)

    @property
    def token_uri(self) -> str:
        return str(self.key["token_uri"])

    def public_view(self) -> dict[str, Any]:
        """What may be shown: never the private key nor its id."""
        return {
            "client_email": self.client_email,
            "client_id": self.client_id,
            "project_id": self.key.get("project_id"),
            "domain": self.domain,
            "saved_at": self.saved_at.isoformat() if self.saved_at else None,
        }


def _text(raw: dict[str, Any], name: str, errors: dict[str, str], missing: str) -> str:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[name] = missing
        return ""
    if not isinstance(value, str):
        errors[name] = "Doit être une chaîne de caractères."
        return ""
    return value.strip()


def parse_key(raw: Any) -> dict[str, Any]:
    """The service account key ``raw`` (an object or its JSON text), checked field by field.

    Raises ``WorkspaceKeyError`` naming each field at fault in French."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise WorkspaceKeyError(
                {"key": "Ce n'est pas un fichier JSON : envoyez le fichier de clé tel quel."}
            ) from exc
    if not isinstance(raw, dict):
        raise WorkspaceKeyError(
            {"key": "Doit être le contenu du fichier de clé JSON du compte de service."}
        )
    errors: dict[str, str] = {}
    if raw.get("type") != "service_account":
        errors["type"] = (
            "Ce n'est pas une clé de compte de service (« service_account ») : téléchargez-la "
            "dans la console Google Cloud, page « Comptes de service » → « Clés »."
        )
    private_key = _text(raw, "private_key", errors, "La clé privée manque dans le fichier.")
    if private_key:
        try:
            serialization.load_pem_private_key(private_key.encode("utf-8"), password=None)
        except (ValueError, TypeError):
            errors["private_key"] = (
                "La clé privée est illisible : envoyez le fichier JSON tel que Google l'a "
                "téléchargé, sans le modifier."
            )
    email = _text(raw, "client_email", errors, "L'adresse du compte de service manque.")
    if email and "@" not in email:
        errors["client_email"] = "Adresse de compte de service invalide."
    token_uri = _text(raw, "token_uri", errors, "L'adresse du serveur de jetons manque.")
    if token_uri:
        parts = urlsplit(token_uri)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            errors["token_uri"] = "Doit être une adresse web (https://…)."  # noqa: S105
    for name in ("private_key_id", "client_id", "project_id"):
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = "Doit être une chaîne de caractères."
    if errors:
        raise WorkspaceKeyError(errors)
    key = {k: v for k, v in raw.items() if isinstance(k, str)}
    try:
        service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            key, scopes=[CONTACTS_SCOPE]
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise WorkspaceKeyError(
            {"private_key": "Google ne peut pas utiliser cette clé : téléchargez-en une nouvelle."}
        ) from exc
    return key


class WorkspaceStore:
    """The encrypted key file (one per ATARYS)."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._fernet = Fernet(key)

    @classmethod
    def for_settings(cls, settings: Settings) -> WorkspaceStore:
        return cls(settings.data_dir / KEY_FILE, token_key(settings))

    def save(self, config: WorkspaceConfig) -> None:
        config.saved_at = datetime.now(UTC)
        payload = {
            "key": config.key,
            "domain": config.domain,
            "saved_at": config.saved_at.isoformat(),
        }
        _write_private(self.path, self._fernet.encrypt(json.dumps(payload).encode("utf-8")))
        with _cache_lock:
            _cache.clear()

    def load(self) -> WorkspaceConfig | None:
        """The stored configuration; ``None`` when there is none or it cannot be read back."""
        if not self.path.exists():
            return None
        try:
            data = json.loads(self._fernet.decrypt(self.path.read_bytes()))
            saved = data.get("saved_at")
            return WorkspaceConfig(
                key=dict(data["key"]),
                domain=data.get("domain"),
                saved_at=datetime.fromisoformat(saved) if isinstance(saved, str) else None,
            )
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None

    def delete(self) -> bool:
        with _cache_lock:
            _cache.clear()
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


# Access tokens already obtained, per (key, subject): a grant is asked once an hour.
_cache: dict[tuple[str, str], service_account.Credentials] = {}
_cache_lock = threading.Lock()


def refusal(config: WorkspaceConfig, subject: str, text: str) -> WorkspaceRefusedError:
    """What Google's refusal ``text`` (a ``RefreshError``) means for ``subject``, in French."""
    if "unauthorized_client" in text:
        client = f" (identifiant client {config.client_id})" if config.client_id else ""
        return WorkspaceRefusedError(
            f"Le domaine Google Workspace n'autorise pas le compte de service{client} à agir "
            f"pour {subject} : vérifiez que {subject} est bien une adresse de votre domaine, "
            f"puis la délégation au niveau du domaine ({ADMIN_CONSOLE_STEPS}) avec "
            f"l'autorisation {CONTACTS_SCOPE}.",
            reason="unauthorized_client",
        )
    if "invalid_grant" in text and "Invalid email" in text:
        return WorkspaceRefusedError(
            f"Google ne connaît pas {subject} dans votre domaine : vérifiez l'adresse.",
            reason="unknown_subject",
        )
    return WorkspaceRefusedError(
        "Google refuse la clé du compte de service (clé inconnue, supprimée ou désactivée) : "
        "créez une nouvelle clé dans la console Google Cloud (« Comptes de service » → "
        "« Clés ») et envoyez-la de nouveau.",
        reason="invalid_key",
    )


def subject_credentials(
    config: WorkspaceConfig, subject: str, *, fresh: bool = False
) -> service_account.Credentials:
    """Valid credentials acting for ``subject`` (the JWT bearer grant when needed).

    Raises ``WorkspaceRefusedError`` (French, says what to do) or
    ``WorkspaceUnreachableError``; ``fresh`` asks Google again even with a cached token."""
    subject = subject.strip().lower()
    cache_key = (config.key_id, subject)
    with _cache_lock:
        cached = None if fresh else _cache.get(cache_key)
        if cached is not None and cached.valid:
            return cached
    base = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
        config.key, scopes=[CONTACTS_SCOPE]
    )
    creds: service_account.Credentials = base.with_subject(subject)
    try:
        creds.refresh(Request())  # type: ignore[no-untyped-call]
    except google.auth.exceptions.RefreshError as exc:
        raise refusal(config, subject, str(exc)) from exc
    except google.auth.exceptions.TransportError as exc:
        raise WorkspaceUnreachableError(str(exc)) from exc
    with _cache_lock:
        _cache[cache_key] = creds
    return creds


def domain_of(email: str) -> str:
    return email.strip().lower().rpartition("@")[2]
