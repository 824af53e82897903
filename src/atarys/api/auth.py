"""Access control: who may call ``/api/`` (and ``/metrics``).

* People log in (``POST /api/auth/login``) with a user made by ``atarys create-user``;
  passwords are hashed with Werkzeug's scrypt. The session cookie is signed,
  HttpOnly and SameSite=Lax (Secure with ``ATARYS_SECURE_COOKIES=1`` or an https
  ``ATARYS_PUBLIC_URL``). It carries the user's *session version* and the time it was
  issued: logout, a password change and deactivating the user bump the version, which
  ends every session of that user (even after a restart); a session also ends
  ``ATARYS_SESSION_LIFETIME_HOURS`` (12 h) after login, whatever the requests in between.
* Scripts and cron send ``Authorization: Bearer <token>``; tokens come from
  ``atarys create-token NAME``, are shown once and only their SHA-256 is stored. A token
  has scopes (``read``: GET; ``write``: other methods; ``admin``: connect or disconnect
  Google and change the sync settings; ``metrics``: ``GET /metrics``), may expire, and
  is listed and revoked with ``atarys list-tokens`` / ``atarys revoke-token``.
* A write (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry the
  session's CSRF token in ``X-CSRF-Token`` (from ``/api/auth/login``, ``/me`` or
  ``/csrf``), and a cross-origin ``Origin`` is refused. Bearer requests need neither:
  browsers never send that header by themselves.
* CORS is closed: no ``Access-Control-Allow-*`` header is ever sent.
* Failed logins are rate-limited per (user name, client address), with a higher ceiling
  per user name (flask-limiter); successful logins are not counted.

Only ``/api/health``, ``/api/auth/login`` and the OAuth2 callback answer without
authentication; everything else under ``/api/`` answers 401.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from atarys.models.user import TOKEN_SCOPES
from atarys.validation import validate

logger = logging.getLogger("atarys.auth")

bp = Blueprint("auth", __name__, url_prefix="/api/auth")

TOKEN_PREFIX = "atarys_"  # noqa: S105 (a public prefix, not a secret)
PREFIX_CHARS = 8  # characters after TOKEN_PREFIX kept in clear to recognise a token
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"health", "auth.login", "google_contacts.oauth2callback"})
METRICS_PATH = "/metrics"
# What a person logged in with the cookie may do (metrics are for Prometheus' token).
SESSION_SCOPES = frozenset({"read", "write", "admin"})
ALL_SCOPES = frozenset(TOKEN_SCOPES)
# Writes that need the ``admin`` scope: connecting or disconnecting Google, sync settings.
ADMIN_ROUTES = frozenset(
    {
        ("POST", "/api/google-contacts/auth"),
        ("POST", "/api/google-contacts/disconnect"),
        ("PUT", "/api/google-contacts/settings"),
    }
)
SCOPE_LABELS = {
    "read": "lecture",
    "write": "écriture",
    "admin": "administration",
    "metrics": "métriques",
}
# Compared against when the user does not exist, so both paths take the same time.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))
DEMO_USER = "demo"

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", headers_enabled=True)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (cookie or token) or a token without a user."""

    user_id: int | None
    username: str
    method: str  # "session" or "token"
    token_name: str | None = None
    scopes: frozenset[str] = field(default=SESSION_SCOPES)
    # Names this very login session or token (the OAuth2 flow is bound to it).
    owner: str | None = None


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


def end_sessions(user: User) -> None:
    """Every session cookie issued so far for ``user`` is refused from now on (caller commits)."""
    user.session_version = (user.session_version or 0) + 1


def set_password(db_session: Session | scoped_session[Any], user: User, password: str) -> None:
    """Change the password (ends every session of the user)."""
    if len(password) < 8:
        raise ValueError("Mot de passe trop court : 8 caractères au minimum.")
    user.password_hash = hash_password(password)
    end_sessions(user)
    db_session.commit()


def set_active(db_session: Session | scoped_session[Any], user: User, active: bool) -> None:
    """Activate or deactivate a user; deactivating ends every session and token use."""
    user.is_active = active
    if not active:
        end_sessions(user)
    db_session.commit()


def parse_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes named (comma or space separated), or ``ValueError`` in French."""
    names = {part.strip().lower() for item in scopes for part in item.replace(",", " ").split()}
    unknown = sorted(names - ALL_SCOPES)
    if unknown:
        raise ValueError(
            f"Portée inconnue : {', '.join(unknown)} (possibles : {', '.join(TOKEN_SCOPES)})."
        )
    if not names:
        raise ValueError(f"Indiquez au moins une portée ({', '.join(TOKEN_SCOPES)}).")
    return frozenset(names)


def create_token(
    db_session: Session | scoped_session[Any],
    name: str,
    user: User | None = None,
    *,
    scopes: Iterable[str] = TOKEN_SCOPES,
    expires_days: int | None = None,
) -> str:
    """A new API token: returned once in clear, stored as its SHA-256."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("Nom de jeton invalide (1 à 100 caractères).")
    chosen = parse_scopes(scopes)
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise ValueError("Durée de validité invalide : entre 1 et 3650 jours.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db_session.add(
        ApiToken(
            name=name,
            token_hash=hash_token(token),
            prefix=token[: len(TOKEN_PREFIX) + PREFIX_CHARS],
            user_id=user.id if user else None,
            scopes=" ".join(s for s in TOKEN_SCOPES if s in chosen),
            expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
        )
    )
    db_session.commit()
    return token


def find_tokens(db_session: Session | scoped_session[Any], ref: str) -> list[ApiToken]:
    """Tokens named by ``ref``: an id, or the start of the clear token (its shown prefix)."""
    ref = ref.strip()
    if ref.isdigit():
        token = db_session.get(ApiToken, int(ref)) if int(ref) < 2**31 else None
        return [token] if token is not None else []
    if len(ref) < len(TOKEN_PREFIX) + 2:
        return []
    rows = db_session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    # The shown prefix, or a longer piece of the clear token: either starts the other.
    return [t for t in rows if ref.startswith(t.prefix) or t.prefix.startswith(ref)]


def revoke_token(db_session: Session | scoped_session[Any], token: ApiToken) -> bool:
    """Revoke ``token``; ``False`` when it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db_session.commit()
    return True


def token_status(token: ApiToken, now: datetime | None = None) -> str:
    now = now or utcnow()
    if token.revoked_at is not None:
        return "révoqué"
    if token.expires_at is not None and token.expires_at <= now:
        return "expiré"
    return "actif"


def authenticate_password(
    db_session: Session | scoped_session[Any], username: str, password: str
) -> User | None:
    user = db_session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    if user.username == DEMO_USER and not _settings().demo:
        return None  # the demo user only exists in demo mode
    return user


def _settings() -> Settings:
    settings = current_app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


def _principal_from_token(raw: str) -> Principal | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    username = f"token:{token.name}"
    if token.user_id is not None:
        user = db.session.get(User, token.user_id)
        if user is None or not user.is_active:
            return None
        username = user.username
    if token.last_used_at is None or (now - token.last_used_at) > timedelta(minutes=1):
        token.last_used_at = now
        db.session.commit()
    return Principal(
        token.user_id, username, "token", token.name, token.scope_set, f"token:{token.id}"
    )


def _session_owner(sid: str) -> str:
    return "session:" + hashlib.sha256(sid.encode("utf-8")).hexdigest()


def _principal_from_session() -> Principal | None:
    """The cookie's user while the session is valid: same version, within its lifetime."""
    user_id, version, issued, sid = (session.get(k) for k in ("uid", "ver", "iat", "sid"))
    if not (
        isinstance(user_id, int)
        and isinstance(version, int)
        and isinstance(issued, int | float)
        and isinstance(sid, str)
    ):
        return None
    age = time.time() - issued
    if not 0 <= age < _settings().session_lifetime.total_seconds() + 1:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    if user.username == DEMO_USER and not _settings().demo:
        return None
    return Principal(user.id, user.username, "session", owner=_session_owner(sid))


def current_principal() -> Principal | None:
    principal = g.get("principal")
    return principal if isinstance(principal, Principal) else None


def caller() -> Principal | None:
    """Who sent this request, checked as the gate would (for public endpoints, which it skips)."""
    principal = current_principal()
    if principal is not None:
        return principal
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return None
        return _principal_from_token(raw.strip())
    return _principal_from_session()


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


def _required_scope() -> str:
    if request.path == METRICS_PATH:
        return "metrics"
    if (request.method, request.path.rstrip("/")) in ADMIN_ROUTES:
        return "admin"
    return "read" if request.method in SAFE_METHODS else "write"


def _check_scope(principal: Principal) -> None:
    needed = _required_scope()
    if needed in principal.scopes:
        return
    label = SCOPE_LABELS[needed]
    if principal.method == "session":
        raise ApiError(
            403,
            "Accès réservé aux jetons d'API autorisés : demandez un jeton avec le droit "
            f"« {label} » à l'administrateur.",
        )
    raise ApiError(
        403,
        f"Ce jeton d'API n'a pas le droit « {label} » : demandez à l'administrateur "
        "un jeton qui l'autorise.",
    )


def _gate() -> None:
    """Refuse any ``/api/`` request that is not authenticated (401) or lacks CSRF proof (403)."""
    path = request.path
    if not (path == "/api" or path.startswith("/api/") or path == METRICS_PATH):
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
            raise ApiError(
                401,
                "Jeton d'API invalide, expiré ou révoqué : demandez un nouveau jeton "
                "à l'administrateur.",
            )
        _check_scope(principal)
        g.principal = principal
        return
    if path == METRICS_PATH:
        raise ApiError(
            401,
            "Authentification requise : les métriques se lisent avec un jeton d'API.",
            headers={"WWW-Authenticate": 'Bearer realm="atarys"'},
        )
    session_principal = _principal_from_session()
    if session_principal is None:
        if session:
            session.clear()
        raise ApiError(401, "Authentification requise.")
    if request.method not in SAFE_METHODS:
        origin = request.headers.get("Origin")
        if origin and not _same_origin(origin):
            raise ApiError(403, "Origine de la requête refusée.")
        sent = request.headers.get(CSRF_HEADER, "")
        expected = session.get("csrf")
        if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
            raise ApiError(403, "Jeton CSRF manquant ou invalide (en-tête X-CSRF-Token).")
    _check_scope(session_principal)
    g.principal = session_principal
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
    return _settings().login_rate_limit


def _login_user_rate() -> str:
    return _settings().login_user_rate_limit


def _login_username() -> str | None:
    # get_json never raises here: malformed or too deeply nested JSON is None (see http.py).
    payload = request.get_json(silent=True)
    name = payload.get("username") if isinstance(payload, dict) else None
    return str(name)[:80].strip().casefold() if isinstance(name, str) and name.strip() else None


def _user_address_key() -> str:
    """Failures of one user name from one address."""
    return f"user-addr:{_login_username() or ''}|{get_remote_address()}"


def _username_key() -> str:
    """Failures of one user name from every address (the higher ceiling)."""
    name = _login_username()
    return f"user:{name}" if name else f"addr:{get_remote_address()}"


def _failed(resp: Response) -> bool:
    return resp.status_code == 401


def _me(principal: Principal) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": principal.username,
        "auth_method": principal.method,
    }
    if principal.method == "session":
        data["csrf_token"] = _csrf_token()
    return data


@bp.post("/login")
@limiter.limit(_login_rate, key_func=_user_address_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_user_rate, key_func=_username_key, methods=["POST"], deduct_when=_failed)
def login() -> Response:
    creds = validate(LoginIn, json_body())
    user = authenticate_password(db.session, creds.username, creds.password)
    if user is None:
        logger.warning("failed login for user %r from %s", creds.username, request.remote_addr)
        raise ApiError(401, "Identifiant ou mot de passe incorrect.")
    sid = secrets.token_urlsafe(24)
    session.clear()
    session.permanent = True
    session.update(uid=user.id, ver=user.session_version, iat=int(time.time()), sid=sid)
    user.last_login_at = utcnow()
    db.session.commit()
    logger.info("login of user %s", user.id)
    principal = Principal(user.id, user.username, "session", owner=_session_owner(sid))
    return ok(_me(principal), "Connexion réussie")


@bp.post("/logout")
def logout() -> Response:
    """End every session of the caller's user (this browser's and any other)."""
    principal = current_principal()
    user = db.session.get(User, principal.user_id) if principal and principal.user_id else None
    if user is not None:
        end_sessions(user)
        db.session.commit()
        logger.info("logout of user %s: every session ended", user.id)
    session.clear()
    g.pop("principal", None)  # no CSRF token echoed: the session is over
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
        SESSION_COOKIE_SECURE=settings.cookies_secure,
        PERMANENT_SESSION_LIFETIME=settings.session_lifetime,
        # The cookie's expiry is not pushed back by each request: a session is over
        # ``session_lifetime`` after login (also checked on the server, see ``iat``).
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.before_request(_gate)
    app.after_request(_after)
    limiter.init_app(app)
    app.register_blueprint(bp)
