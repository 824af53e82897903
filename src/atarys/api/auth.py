"""Access control: who may call ``/api/``.

* People log in (``POST /api/auth/login``) with a user made by ``atarys create-user``;
  passwords are hashed with Werkzeug's scrypt. The session cookie is signed,
  HttpOnly and SameSite=Lax (Secure with ``ATARYS_SECURE_COOKIES=1``).
* Scripts and cron send ``Authorization: Bearer <token>``; tokens come from
  ``atarys create-token NAME``, are shown once and only their SHA-256 is stored.
* A write (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry the
  session's CSRF token in ``X-CSRF-Token`` (from ``/api/auth/login``, ``/me`` or
  ``/csrf``), and a cross-origin ``Origin`` is refused. Bearer requests need neither:
  browsers never send that header by themselves.
* CORS is closed: no ``Access-Control-Allow-*`` header is ever sent.
* Login attempts are rate-limited per client address and per user name (flask-limiter).

Only ``/api/health``, ``/api/auth/login`` and the OAuth2 callback answer without
authentication; everything else under ``/api/`` answers 401.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, Flask, Response, current_app, g, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session
from werkzeug.security import check_password_hash, generate_password_hash

from atarys.config import Settings
from atarys.extensions import db
from atarys.http import ApiError, json_body, ok
from atarys.models import ApiToken, User, utcnow
from atarys.validation import validate

logger = logging.getLogger("atarys.auth")

bp = Blueprint("auth", __name__, url_prefix="/api/auth")

TOKEN_PREFIX = "atarys_"  # noqa: S105 (a public prefix, not a secret)
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"health", "auth.login", "google_contacts.oauth2callback"})
SESSION_LIFETIME = timedelta(hours=12)
# Compared against when the user does not exist, so both paths take the same time.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", headers_enabled=True)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (cookie or token) or a token without a user."""

    user_id: int | None
    username: str
    method: str  # "session" or "token"
    token_name: str | None = None


# --- users and tokens -------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(db_session: Session | scoped_session[Any], username: str, password: str) -> User:
    """Add a user (raises ``ValueError`` in French when the name is taken or too short)."""
    username = username.strip()
    if not username or len(username) > 80:
        raise ValueError("Nom d'utilisateur invalide (1 à 80 caractères).")
    if len(password) < 8:
        raise ValueError("Mot de passe trop court : 8 caractères au minimum.")
    if db_session.scalar(select(User).where(User.username == username)) is not None:
        raise ValueError(f"L'utilisateur « {username} » existe déjà.")
    user = User(username=username, password_hash=hash_password(password), is_active=True)
    db_session.add(user)
    db_session.commit()
    return user


def set_password(db_session: Session | scoped_session[Any], user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    db_session.commit()


def create_token(
    db_session: Session | scoped_session[Any], name: str, user: User | None = None
) -> str:
    """A new API token: returned once in clear, stored as its SHA-256."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("Nom de jeton invalide (1 à 100 caractères).")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db_session.add(
        ApiToken(
            name=name,
            token_hash=hash_token(token),
            prefix=token[: len(TOKEN_PREFIX) + 4],
            user_id=user.id if user else None,
        )
    )
    db_session.commit()
    return token


def authenticate_password(
    db_session: Session | scoped_session[Any], username: str, password: str
) -> User | None:
    user = db_session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


def _principal_from_token(raw: str) -> Principal | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None:
        return None
    username = f"token:{token.name}"
    if token.user_id is not None:
        user = db.session.get(User, token.user_id)
        if user is None or not user.is_active:
            return None
        username = user.username
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at) > timedelta(minutes=1):
        token.last_used_at = now
        db.session.commit()
    return Principal(token.user_id, username, "token", token.name)


def current_principal() -> Principal | None:
    principal = g.get("principal")
    return principal if isinstance(principal, Principal) else None


# --- the gate ----------------------------------------------------------------------------------


def _csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _same_origin(origin: str) -> bool:
    expected = urlparse(request.host_url)
    given = urlparse(origin)
    return (given.scheme, given.netloc) == (expected.scheme, expected.netloc)


def _gate() -> None:
    """Refuse any ``/api/`` request that is not authenticated (401) or lacks CSRF proof (403)."""
    if not (request.path == "/api" or request.path.startswith("/api/")):
        return
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise ApiError(401, "En-tête Authorization invalide : « Bearer <jeton> » attendu.")
        principal = _principal_from_token(raw.strip())
        if principal is None:
            raise ApiError(401, "Jeton d'API invalide ou révoqué.")
        g.principal = principal
        return
    user_id = session.get("uid")
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active:
        session.pop("uid", None)
        raise ApiError(401, "Authentification requise.")
    if request.method not in SAFE_METHODS:
        origin = request.headers.get("Origin")
        if origin and not _same_origin(origin):
            raise ApiError(403, "Origine de la requête refusée.")
        sent = request.headers.get(CSRF_HEADER, "")
        expected = session.get("csrf")
        if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
            raise ApiError(403, "Jeton CSRF manquant ou invalide (en-tête X-CSRF-Token).")
    g.principal = Principal(user.id, user.username, "session")
    return


def _after(resp: Response) -> Response:
    """No CORS header ever; the session's CSRF token echoed for cookie-authenticated calls."""
    principal = current_principal()
    if principal is not None and principal.method == "session":
        resp.headers[CSRF_HEADER] = _csrf_token()
    return _no_cors(resp)


def _no_cors(resp: Response) -> Response:
    for name in [k for k, _ in resp.headers.items() if k.lower().startswith("access-control-")]:
        del resp.headers[name]
    return resp


# --- routes ------------------------------------------------------------------------------------


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=500)


def _login_rate() -> str:
    settings = current_app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings.login_rate_limit


def _username_key() -> str:
    payload = request.get_json(silent=True)
    name = payload.get("username") if isinstance(payload, dict) else None
    return f"user:{str(name)[:80].lower()}" if name else f"addr:{get_remote_address()}"


def _me(principal: Principal) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": principal.username,
        "auth_method": principal.method,
    }
    if principal.method == "session":
        data["csrf_token"] = _csrf_token()
    return data


@bp.post("/login")
@limiter.limit(_login_rate, methods=["POST"])
@limiter.limit(_login_rate, key_func=_username_key, methods=["POST"])
def login() -> Response:
    creds = validate(LoginIn, json_body())
    user = authenticate_password(db.session, creds.username, creds.password)
    if user is None:
        logger.warning("failed login from %s", request.remote_addr)
        raise ApiError(401, "Identifiant ou mot de passe incorrect.")
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    user.last_login_at = utcnow()
    db.session.commit()
    logger.info("login of user %s", user.id)
    principal = Principal(user.id, user.username, "session")
    return ok(_me(principal), "Connexion réussie")


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return ok(None, "Déconnexion effectuée")


@bp.get("/me")
def me() -> Response:
    principal = current_principal()
    assert principal is not None
    return ok(_me(principal), "Utilisateur connecté")


@bp.get("/csrf")
def csrf() -> Response:
    principal = current_principal()
    assert principal is not None
    return ok(
        {"csrf_token": _csrf_token() if principal.method == "session" else None}, "Jeton CSRF"
    )


def init_app(app: Flask) -> None:
    """Cookie settings, the gate before every request, the login limiter and ``/api/auth``."""
    settings = app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    app.config.update(
        SESSION_COOKIE_NAME="atarys_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.before_request(_gate)
    app.after_request(_after)
    limiter.init_app(app)
    app.register_blueprint(bp)
