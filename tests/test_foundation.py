"""Foundation: settings, secret key, migrations matching the models, logging."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient

from atarys import create_app, migrate
from atarys.config import Settings
from atarys.models import Base


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    """Without ATARYS_SECRET_KEY a random key is stored in the data dir (0600) and reused."""
    settings = Settings(data_dir=tmp_path, secret_key=None)
    first = settings.ensure_secret_key()
    assert len(first) >= 40
    assert settings.ensure_secret_key() == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert Settings(data_dir=tmp_path / "other").ensure_secret_key() != first


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """ATARYS_* variables are read into Settings; the default database is a SQLite file."""
    monkeypatch.setenv("ATARYS_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ATARYS_PHONE_REGION", "be")
    monkeypatch.delenv("ATARYS_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    assert settings.phone_region == "BE"
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'd' / 'atarys.db')}"


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_create_exactly_the_models_schema(database_url: str) -> None:
    """The schema built by the migrations has no difference with the models (both databases)."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_heads() == migrate.current_heads()
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_health_answers_the_envelope(client: FlaskClient) -> None:
    """The health check answers the ATARYS envelope."""
    body = client.get("/api/health").get_json()
    assert body == {"success": True, "message": "Service opérationnel", "data": {"status": "ok"}}


def test_logs_go_to_the_log_dir(app: Flask, tmp_path: Path) -> None:
    """Application logs are written to logs/atarys.log."""
    logging.getLogger("atarys.test").info("bonjour le journal")
    for handler in logging.getLogger("atarys").handlers:
        handler.flush()
    assert "bonjour le journal" in (tmp_path / "logs" / "atarys.log").read_text(encoding="utf-8")


def test_create_app_accepts_settings(tmp_path: Path) -> None:
    """create_app takes a Settings object as well as a dict of overrides."""
    app = create_app(Settings(data_dir=tmp_path, log_dir=tmp_path / "logs", testing=True))
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("atarys.db")
