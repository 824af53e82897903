"""The application factory: settings → Flask config → extensions → blueprints.

Also the app as the command line makes it (``make_app``, ``upgrade_database``), so
commands need not import ``atarys.cli``.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from flask import Flask, Response
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from atarys import metrics, migrate
from atarys.api import init_api
from atarys.clients import bp as clients_bp
from atarys.config import Settings
from atarys.extensions import SQLITE_BUSY_TIMEOUT_S, db, engine_options
from atarys.google_contacts.routes import bp as google_contacts_bp
from atarys.google_contacts.workspace import bp as google_workspace_bp
from atarys.http import SafeJSONProvider, ok, register_error_handlers, security_headers
from atarys.jobs import queue as job_queue
from atarys.logging_setup import configure_logging
from atarys.openapi import answers, documented
from atarys.openapi import bp as openapi_bp
from atarys.validation import refuse_control_characters
from atarys.web import bp as web_bp

logger = logging.getLogger("atarys.app")

MAX_BODY_BYTES = 1024 * 1024


def create_app(config: dict[str, Any] | Settings | None = None) -> Flask:
    """Build the Flask app.

    ``config`` is either ``Settings`` or a dict of overrides on top of the
    environment (``database_url``, ``data_dir``, ``log_dir``, ``testing`` ... and any
    Flask config key in upper case).
    """
    if isinstance(config, Settings):
        settings = config
    else:
        settings = Settings.from_env().with_overrides(config)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(settings.log_dir, stderr=not settings.testing)
    protect_files(settings)

    app = Flask(__name__, static_folder=None)
    app.json = SafeJSONProvider(app)
    if settings.trusted_proxies:
        # Trust X-Forwarded-For/-Proto/-Host/-Port from that many proxies, nobody else's.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n
        )
    app.config.update(
        SECRET_KEY=settings.ensure_secret_key(),
        SQLALCHEMY_DATABASE_URI=settings.effective_database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(
            settings.effective_database_url,
            float(settings.extra.get("sqlite_busy_timeout_s", SQLITE_BUSY_TIMEOUT_S)),
        ),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        TESTING=settings.testing,
        ATARYS_SETTINGS=settings,
        ATARYS_PHONE_REGION=settings.phone_region,
    )
    app.json.ensure_ascii = False
    app.config.update({k: v for k, v in settings.extra.items() if k.isupper()})

    db.init_app(app)
    register_error_handlers(app)
    app.after_request(security_headers)

    init_api(app)  # first: it bounds the <int:> URL converter the other blueprints use
    app.before_request(refuse_control_characters)  # after the authentication gate
    app.register_blueprint(google_contacts_bp)
    app.register_blueprint(google_workspace_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(web_bp)
    job_queue.init_app(app)  # every run is a job; client edits queue debounced pushes

    @app.get("/metrics")
    @documented(resp=answers(HTTP_200=None), tags=["exploitation"])
    def metrics_view() -> Response:
        """Prometheus metrics (text format), outside ``/api/`` as scrapers expect."""
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @app.get("/api/health")
    @documented(resp=answers(HTTP_200=None), tags=["exploitation"])
    def health() -> Response:
        data: dict[str, object] = {"status": "ok"}
        if settings.demo:
            data["demo"] = True  # the login page then says where the demo password is
        return ok(data, "Service opérationnel")

    return app


def _sqlite_path(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 (a bad URL fails later, with SQLAlchemy's own message)
        return None
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def _open_to_others(path: Path, mask: int) -> bool:
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & mask)
    except OSError:
        return False


def protect_files(settings: Settings) -> None:
    """The SQLite database is 0600 (created so, or tightened); a warning when the data dir
    or the OAuth2 client secrets can be read by other users of the machine."""
    db_file = _sqlite_path(settings.effective_database_url)
    if db_file is not None:
        try:
            if not db_file.exists() and db_file.parent.is_dir():
                # An empty file is an empty SQLite database; its journals get its mode.
                os.close(os.open(db_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            elif _open_to_others(db_file, 0o077):
                db_file.chmod(0o600)
        except OSError as exc:
            logger.warning("could not restrict the database file %s: %s", db_file, exc)
    if _open_to_others(settings.data_dir, 0o077):
        logger.warning(
            "the data dir %s can be read by other users (mode %o): run chmod 700 on it",
            settings.data_dir,
            stat.S_IMODE(settings.data_dir.stat().st_mode),
        )
    credentials = settings.google_credentials_file
    if _open_to_others(credentials, 0o077):
        logger.warning(
            "the Google client secrets %s can be read by other users: run chmod 600 on it",
            credentials,
        )


def settings_of(app: Flask) -> Settings:
    """The ``Settings`` an app was built with."""
    settings = app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


def make_app(**overrides: object) -> Flask:
    """The app as the CLI uses it: environment settings plus ``overrides`` (``None`` ignored)."""
    return create_app({k: v for k, v in overrides.items() if v is not None})


def upgrade_database(app: Flask) -> None:
    """Run the migrations on the app's database."""
    migrate.upgrade(settings_of(app).effective_database_url)
