"""``/api/google-contacts/workspace``: Google Workspace mode, set up by an admin.

``GET``/``PUT``/``DELETE`` the service account key (stored encrypted, never returned), and
``POST users`` / ``DELETE users/<email>``: the staff members the app acts for through the
key's domain-wide delegation, with no consent per person. Adding a staff member asks
Google once for a token acting for them (a refusal says what to do) and creates their
``google_accounts`` row (``auth_mode = "workspace"``); like any connection it writes
nothing: the first sync waits for a person to apply it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from atarys.api.auth import current_principal
from atarys.extensions import db
from atarys.google import workspace as ws
from atarys.google.connection import workspace_store
from atarys.google.workspace import AUTH_MODE_OAUTH, AUTH_MODE_WORKSPACE
from atarys.http import ApiError, json_body, ok
from atarys.models import GoogleAccount
from atarys.normalize import InvalidValueError, normalize_email
from atarys.openapi import answers, documented, envelope
from atarys.sync.service import get_or_create_account
from atarys.validation import validate

logger = logging.getLogger("atarys.google_contacts.workspace")

bp = Blueprint("google_workspace", __name__, url_prefix="/api/google-contacts/workspace")
TAGS = ["google-workspace"]
MAX_KEY_CHARS = 20_000


# --- schemas ------------------------------------------------------------------------------------


class WorkspaceIn(BaseModel):
    """``PUT``: the service account key file's content (object or text), and the domain."""

    model_config = ConfigDict(extra="forbid")

    # An object or its JSON text; checked field by field by ``google.workspace.parse_key``.
    key: Any = Field(
        description="Le contenu du fichier de clé JSON du compte de service (objet ou texte)",
        json_schema_extra={
            "anyOf": [{"type": "object", "additionalProperties": True}, {"type": "string"}]
        },
    )
    domain: str | None = Field(default=None, max_length=253)


class StaffIn(BaseModel):
    """``POST users``: the staff member's Google Workspace e-mail."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)


class StaffMember(BaseModel):
    email: str
    first_sync_pending: bool
    connected: bool


class WorkspaceData(BaseModel):
    configured: bool
    client_email: str | None = None
    client_id: str | None = None
    project_id: str | None = None
    domain: str | None = None
    saved_at: str | None = None
    staff: list[StaffMember] = Field(default_factory=list)


class StaffData(BaseModel):
    email: str
    first_sync_pending: bool
    created: bool


class WorkspaceDeletedData(BaseModel):
    deleted: bool
    staff_disconnected: int


class StaffDeletedData(BaseModel):
    email: str
    removed: bool


# --- helpers ------------------------------------------------------------------------------------


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _require_admin() -> None:
    principal = current_principal()
    if principal is None or "admin" not in principal.scopes:
        raise ApiError(
            403,
            "Seul un administrateur peut configurer Google Workspace : demandez-le à "
            "l'administrateur d'ATARYS.",
        )


def _staff_rows() -> list[GoogleAccount]:
    return list(
        db.session.scalars(
            select(GoogleAccount)
            .where(GoogleAccount.auth_mode == AUTH_MODE_WORKSPACE)
            .order_by(GoogleAccount.id)
        )
    )


def _staff_row(email: str) -> GoogleAccount | None:
    return db.session.scalars(
        select(GoogleAccount).where(
            func.lower(GoogleAccount.email) == email,
            GoogleAccount.auth_mode == AUTH_MODE_WORKSPACE,
        )
    ).first()


def _email(raw: str) -> str:
    try:
        email = normalize_email(raw)
    except InvalidValueError as exc:
        raise ApiError(
            422,
            "Adresse e-mail invalide : saisissez l'adresse Google Workspace de la personne.",
            errors={"email": "Adresse e-mail invalide."},
        ) from exc
    if email is None:
        raise ApiError(422, "Adresse e-mail manquante.", errors={"email": "Champ obligatoire."})
    return email.lower()


def _domain(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    domain = raw.strip().lower().lstrip("@")
    if "." not in domain or any(c.isspace() or c in "/@:" for c in domain):
        raise ApiError(
            422,
            "Domaine invalide : saisissez le domaine de votre Google Workspace, "
            "par exemple entreprise.fr.",
            errors={"domain": "Domaine invalide."},
        )
    return domain


def _view() -> WorkspaceData:
    config = workspace_store(_app()).load()
    rows = _staff_rows()
    staff = [
        StaffMember(
            email=row.email,
            first_sync_pending=row.first_sync_pending,
            connected=config is not None,
        )
        for row in rows
    ]
    if config is None:
        return WorkspaceData(configured=False, staff=staff)
    return WorkspaceData(configured=True, staff=staff, **config.public_view())


# --- routes -------------------------------------------------------------------------------------


@bp.get("")
@documented(resp=answers(HTTP_200=envelope(WorkspaceData, "WorkspaceAnswer")), tags=TAGS)
def get_workspace() -> Response:
    """Whether Google Workspace mode is set up, its service account and its staff."""
    data = _view()
    message = (
        "Google Workspace configuré"
        if data.configured
        else "Google Workspace n'est pas configuré : un administrateur peut envoyer la clé "
        "du compte de service."
    )
    return ok(data.model_dump(mode="json"), message)


@bp.put("")
@documented(
    json=WorkspaceIn,
    resp=answers(HTTP_200=envelope(WorkspaceData, "WorkspaceAnswer")),
    tags=TAGS,
)
def put_workspace() -> Response:
    """Store the service account key (encrypted); replaces the one stored."""
    _require_admin()
    body = validate(WorkspaceIn, json_body())
    if isinstance(body.key, str) and len(body.key) > MAX_KEY_CHARS:
        raise ApiError(422, "Fichier de clé trop long.", errors={"key": "Fichier trop long."})
    domain = _domain(body.domain)
    try:
        key = ws.parse_key(body.key)
    except ws.WorkspaceKeyError as exc:
        first = next(iter(exc.errors.values()))
        raise ApiError(
            422,
            f"Clé de compte de service refusée : {first}",
            errors={f"key.{name}" if name != "key" else "key": m for name, m in exc.errors.items()},
        ) from exc
    store = workspace_store(_app())
    previous = store.load()
    if domain is None and previous is not None:
        domain = previous.domain
    store.save(ws.WorkspaceConfig(key=key, domain=domain))
    logger.info("Google Workspace service account key stored")
    return ok(
        _view().model_dump(mode="json"),
        "Clé du compte de service enregistrée (chiffrée). Ajoutez maintenant les adresses "
        "des membres de l'équipe.",
    )


@bp.delete("")
@documented(
    resp=answers(HTTP_200=envelope(WorkspaceDeletedData, "WorkspaceDeletedAnswer")), tags=TAGS
)
def delete_workspace() -> Response:
    """Forget the key; the staff's accounts stay (history) but are no longer connected."""
    _require_admin()
    deleted = workspace_store(_app()).delete()
    count = len(_staff_rows())
    if deleted:
        logger.info("Google Workspace service account key deleted")
    message = (
        "Clé du compte de service supprimée : les comptes de l'équipe ne sont plus "
        "synchronisés tant qu'une nouvelle clé n'est pas envoyée."
        if deleted
        else "Aucune clé de compte de service n'était enregistrée."
    )
    return ok(
        WorkspaceDeletedData(
            deleted=deleted, staff_disconnected=count if deleted else 0
        ).model_dump(mode="json"),
        message,
    )


@bp.post("/users")
@documented(
    json=StaffIn,
    resp=answers(HTTP_200=envelope(StaffData, "StaffAnswer"), HTTP_201=None),
    tags=TAGS,
)
def add_staff() -> Response:
    """Act for this staff member: Google is asked once for a token; nothing is written."""
    _require_admin()
    body = validate(StaffIn, json_body())
    email = _email(body.email)
    store = workspace_store(_app())
    config = store.load()
    if config is None:
        raise ApiError(
            409,
            "Google Workspace n'est pas configuré : envoyez d'abord la clé du compte de "
            "service, puis ajoutez les membres de l'équipe.",
            data={"reason": "workspace_not_configured"},
        )
    if config.domain and ws.domain_of(email) != config.domain:
        raise ApiError(
            422,
            f"{email} n'est pas une adresse du domaine {config.domain} : seules les adresses "
            "de votre Google Workspace peuvent être ajoutées.",
            errors={"email": f"Adresse hors du domaine {config.domain}."},
        )
    try:
        ws.subject_credentials(config, email, fresh=True)
    except ws.WorkspaceRefusedError as exc:
        logger.warning("Google Workspace refused a staff member (%s)", exc.reason)
        if exc.reason == "invalid_key":
            raise ApiError(409, exc.message, data={"reason": exc.reason}) from exc
        raise ApiError(
            422, exc.message, errors={"email": exc.message}, data={"reason": exc.reason}
        ) from exc
    except ws.WorkspaceUnreachableError as exc:
        raise ApiError(
            503,
            "Serveur d'authentification Google injoignable : réessayez plus tard.",
            data={"reason": "auth_unreachable"},
            headers={"Retry-After": "30"},
        ) from exc
    session = db.session()
    existed = _staff_row(email) is not None
    account = get_or_create_account(session, email)
    account.auth_mode = AUTH_MODE_WORKSPACE
    session.commit()
    if config.domain is None:
        config.domain = ws.domain_of(email)
        store.save(config)
    logger.info("Google Workspace staff member added")
    data = StaffData(
        email=account.email, first_sync_pending=account.first_sync_pending, created=not existed
    )
    return ok(
        data.model_dump(mode="json"),
        f"{account.email} est connecté par Google Workspace. Rien n'a encore été écrit : "
        "lancez l'aperçu de la première synchronisation, puis appliquez-le.",
        status=201 if not existed else 200,
    )


@bp.delete("/users/<path:email>")
@documented(resp=answers(HTTP_200=envelope(StaffDeletedData, "StaffDeletedAnswer")), tags=TAGS)
def remove_staff(email: str) -> Response:
    """Stop acting for this staff member (the account and its history stay)."""
    _require_admin()
    key = _email(email)
    account = _staff_row(key)
    if account is None:
        raise ApiError(
            404,
            f"{key} ne fait pas partie de l'équipe Google Workspace : vérifiez l'adresse.",
            data={"reason": "staff_not_found"},
        )
    account.auth_mode = AUTH_MODE_OAUTH
    db.session.commit()
    logger.info("Google Workspace staff member removed")
    return ok(
        StaffDeletedData(email=key, removed=True).model_dump(mode="json"),
        f"{key} n'est plus synchronisé par Google Workspace (son historique est conservé).",
    )
