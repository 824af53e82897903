"""The ATARYS JSON envelope ``{success, message, data}`` and the one place HTTP errors are made.

Every API answer, success or failure, goes through ``ok`` or ``ApiError``; error
handlers registered by ``register_error_handlers`` turn Werkzeug's HTML errors into
the same envelope with a French message.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, request, url_for
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

logger = logging.getLogger("atarys.http")

# French messages for the HTTP errors Werkzeug raises by itself.
HTTP_MESSAGES: dict[int, str] = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Accès refusé.",
    404: "Ressource introuvable.",
    405: "Méthode non autorisée pour cette adresse.",
    409: "Conflit avec l'état actuel des données.",
    413: "Requête trop volumineuse (1 Mo au maximum).",
    415: "Type de contenu non pris en charge : envoyez du JSON (application/json).",
    422: "Données invalides.",
    429: "Trop de requêtes : réessayez plus tard.",
    500: "Erreur interne du serveur.",
    503: "Service momentanément indisponible.",
}


DATA_ERROR_MESSAGE = (
    "Données invalides : une valeur n'est pas acceptée par la base de données. "
    "Corrigez la saisie puis réessayez."
)
NESTING_MESSAGE = "Corps JSON mal formé ou trop imbriqué."


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a document nested too deeply is malformed (a ``ValueError``).

    ``json.loads`` raises ``RecursionError`` on a few thousand ``[``; as a ``ValueError``
    Flask's ``get_json`` answers 400 (or ``None`` with ``silent=True``) everywhere,
    including in the login rate limiter's key function.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class ApiError(Exception):
    """An error answered as the ATARYS envelope with ``success: false``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: dict[str, str] | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.data = data
        self.headers = headers or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"success": False, "message": self.message, "data": self.data}
        if self.errors:
            body["errors"] = self.errors
        resp = jsonify(body)
        resp.status_code = self.status
        for key, value in self.headers.items():
            resp.headers[key] = value
        return resp


def ok(data: Any = None, message: str = "", status: int = 200, **extra: Any) -> Response:
    """A success envelope; ``extra`` keys (e.g. ``pagination``) sit beside ``data``."""
    body: dict[str, Any] = {"success": True, "message": message, "data": data}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    return resp


def json_body() -> dict[str, Any]:
    """The request's JSON object, or an ``ApiError`` (415 wrong type, 400 malformed or not an object)."""
    if not request.is_json:
        raise ApiError(415, HTTP_MESSAGES[415])
    payload = request.get_json(silent=True)
    if payload is None:
        # Distinguish an empty or malformed body from the JSON literal null.
        raw = request.get_data(cache=True)
        if raw.strip() not in (b"null",):
            raise ApiError(400, "Corps JSON mal formé.")
    if not isinstance(payload, dict):
        raise ApiError(400, "Le corps de la requête doit être un objet JSON.")
    return payload


def optional_json_body() -> dict[str, Any]:
    """Like ``json_body`` but an empty body is an empty object (for POSTs whose options are optional)."""
    if not request.get_data(cache=True).strip():
        return {}
    return json_body()


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """The query parameter ``name`` as an int in ``[low, high]``, or a 422 naming it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(
            422, "Paramètre invalide.", errors={name: "Doit être un nombre entier."}
        ) from None
    if not low <= value <= high:
        raise ApiError(
            422, "Paramètre invalide.", errors={name: f"Doit être compris entre {low} et {high}."}
        )
    return value


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint``: under the configured public URL when there is one,
    never built from the request's Host header then (OAuth2 redirect URIs)."""
    settings = current_app.config.get("ATARYS_SETTINGS")
    public = getattr(settings, "public_url", None)
    if isinstance(public, str) and public:
        return public + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _log_client_error(status: int, message: str) -> None:
    """One line per refused request (no traceback: the client is at fault, not the code)."""
    if status >= 500:
        return
    logger.info("%s %s -> %d %s", request.method, request.path, status, message)


def security_headers(resp: Response) -> Response:
    """``nosniff`` on every answer; ``no-store`` on API and metrics answers (private data);
    HSTS when the app is reached over HTTPS (its public URL says so)."""
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    path = request.path
    if path == "/api" or path.startswith("/api/") or path == "/metrics":
        resp.headers["Cache-Control"] = "no-store"
    settings = current_app.config.get("ATARYS_SETTINGS")
    seconds = getattr(settings, "hsts_seconds", 0)
    if getattr(settings, "https", False) and seconds:
        resp.headers.setdefault("Strict-Transport-Security", f"max-age={int(seconds)}")
    return resp


DATABASE_BUSY_MESSAGE = (
    "La base de données est momentanément occupée par une autre opération "
    "(synchronisation en cours ?) : réessayez dans quelques secondes."
)


def register_error_handlers(app: Flask) -> None:
    """Answer every error as JSON, never HTML nor a stack trace."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        _log_client_error(exc.status, exc.message)
        return exc.response()

    @app.errorhandler(DataError)
    def _data_error(exc: DataError) -> Response:
        # A value the database refuses (PostgreSQL: NUL byte, number out of range...):
        # the client's input, so a 422, with the session rolled back.
        from atarys.extensions import db

        db.session.rollback()
        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else ""
        logger.info(
            "%s %s -> 422 database refused a value (%s)", request.method, request.path, detail
        )
        return ApiError(422, DATA_ERROR_MESSAGE).response()

    @app.errorhandler(OperationalError)
    def _operational_error(exc: OperationalError) -> Response:
        # SQLite still busy after its timeout (another writer): the client retries, no 500
        from atarys.extensions import db

        db.session.rollback()
        if "database is locked" not in str(exc.orig) and "database is busy" not in str(exc.orig):
            logger.exception("database error on %s %s", request.method, request.path)
            return ApiError(500, HTTP_MESSAGES[500]).response()
        logger.warning("%s %s -> 503 database busy", request.method, request.path)
        return ApiError(503, DATABASE_BUSY_MESSAGE, headers={"Retry-After": "5"}).response()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        _log_client_error(code, exc.name)
        resp = ApiError(code, HTTP_MESSAGES.get(code, exc.name)).response()
        if code == 405 and exc.response is None:
            allowed = exc.get_headers()
            for key, value in allowed:
                if key.lower() == "allow":
                    resp.headers["Allow"] = value
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, RecursionError):  # input nested too deeply for some parser
            _log_client_error(400, "input nested too deeply")
            return ApiError(400, NESTING_MESSAGE).response()
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return ApiError(500, HTTP_MESSAGES[500]).response()
