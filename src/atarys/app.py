"""The application factory: settings → Flask config → extensions → blueprints."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response

from atarys.config import Settings
from atarys.extensions import db
from atarys.http import ok, register_error_handlers
from atarys.logging_setup import configure_logging

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

    from atarys.api import init_api
    from atarys.clients import bp as clients_bp
    from atarys.web import bp as web_bp

    init_api(app)  # first: it bounds the <int:> URL converter the other blueprints use
    app.register_blueprint(clients_bp)
    app.register_blueprint(web_bp)

    @app.get("/api/health")
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
