"""The application factory: settings → Flask config → extensions → blueprints.

Also the app as the command line makes it (``make_app``, ``upgrade_database``), so
commands need not import ``atarys.cli``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response

from atarys import metrics, migrate
from atarys.api import init_api
from atarys.clients import bp as clients_bp
from atarys.config import Settings
from atarys.extensions import db
from atarys.google_contacts.routes import bp as google_contacts_bp
from atarys.http import ok, register_error_handlers
from atarys.logging_setup import configure_logging
from atarys.openapi import answers, documented
from atarys.openapi import bp as openapi_bp
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
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(settings.log_dir, stderr=not settings.testing)

    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.ensure_secret_key(),
        SQLALCHEMY_DATABASE_URI=settings.effective_database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        TESTING=settings.testing,
        ATARYS_SETTINGS=settings,
        ATARYS_PHONE_REGION=settings.phone_region,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config.update({k: v for k, v in settings.extra.items() if k.isupper()})

    db.init_app(app)
    register_error_handlers(app)

    init_api(app)  # first: it bounds the <int:> URL converter the other blueprints use
    app.register_blueprint(google_contacts_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(web_bp)

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
