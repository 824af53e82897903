"""Issue 11 item 9: SQLite "database is locked" — WAL, a busy timeout, and a 503 at worst."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from atarys.api.auth import create_token, create_user
from atarys.app import create_app
from atarys.extensions import db


def test_busy_sqlite_answers_503_with_retry_after(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = tmp_path / "atarys.db"
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
    app = create_app(
        {
            "database_url": f"sqlite:///{path}",
            "data_dir": tmp_path / "data",
            "log_dir": tmp_path / "logs",
            "testing": True,
            "sqlite_busy_timeout_s": 0.3,
        }
    )
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        token = create_token(db.session, "tests", create_user(db.session, "u", "mot-de-passe-1"))
        db.session.remove()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    other = sqlite3.connect(path, isolation_level=None)  # another process writing
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        answer = client.post("/api/clients/", json={"nom": "Martin"})
        assert time.monotonic() - started >= 0.25  # waited for the other writer first
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        body = answer.get_json()
        assert body["success"] is False
        assert "réessayez dans quelques secondes" in body["message"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert client.post("/api/clients/", json={"nom": "Martin"}).status_code == 201
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
