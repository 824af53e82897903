"""The web UI: serves the React build (``frontend/`` → ``src/atarys/static/``) at ``/``.

Every GET path that is not the API's (``/api/...``), the metrics' (``/metrics``) or
an internal one (``/_...``, e.g. the emulator's admin API) answers ``index.html``,
so the UI's own addresses (``/clients``, ``/google-contacts``) survive a reload.
Hashed assets under ``/assets/`` are cached for a year; ``index.html`` never is.
When the UI has not been built, ``/`` answers a short French page saying how to build it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, send_from_directory
from werkzeug.routing import BaseConverter, Map

STATIC_DIR = Path(__file__).resolve().parent / "static"
INDEX = "index.html"
ONE_YEAR = 365 * 24 * 3600
# The UI loads nothing from elsewhere: its own scripts and styles, data: images (favicon).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)

NOT_BUILT_PAGE = """<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ATARYS — interface non construite</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>ATARYS</h1>
<p>L'interface web n'a pas encore été construite sur cette installation.</p>
<p>Lancez <code>make run</code> à la racine du projet : la commande construit l'interface
(<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>) puis démarre le serveur.</p>
<p>L'API reste disponible sous <code>/api/</code>.</p>
</body>
</html>
"""


class UiPathConverter(BaseConverter):
    """A path (slashes allowed) that belongs to the UI: not ``api``, ``metrics`` nor ``_...``."""

    regex = r"(?!api(?:/|$)|metrics(?:/|$)|_)[^/].*?"
    part_isolating = False
    weight = 200


bp = Blueprint("web", __name__)


@bp.record_once
def _register_converter(state: Any) -> None:
    url_map: Map = state.app.url_map
    url_map.converters["ui_path"] = UiPathConverter


def _index() -> Response:
    static = STATIC_DIR
    if not (static / INDEX).is_file():
        return Response(NOT_BUILT_PAGE, status=200, mimetype="text/html")
    resp = send_from_directory(static, INDEX, max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


@bp.get("/")
def index() -> Response:
    """The UI's entry page (or the "build it first" page)."""
    return _index()


@bp.get("/<ui_path:path>")
def ui(path: str) -> Response:
    """A built file when it exists (assets, favicon), otherwise the UI's index page."""
    static = STATIC_DIR
    target = (static / path).resolve()
    if target.is_file() and target.is_relative_to(static.resolve()):
        max_age = ONE_YEAR if path.startswith("assets/") else 3600
        resp = send_from_directory(static, path, max_age=max_age)
        if path.startswith("assets/"):
            resp.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        return resp
    if path.startswith("assets/"):
        abort(404)
    return _index()
