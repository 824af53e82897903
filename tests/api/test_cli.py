"""CLI: create-user and create-token (shown once, stored hashed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from atarys.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATARYS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ATARYS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("ATARYS_DATABASE_URL", raising=False)
    return tmp_path / "data" / "atarys.db"


def test_create_user_then_token(env: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["create-user", "alice", "--password", "un-long-secret"])
    assert made.exit_code == 0, made.output
    again = runner.invoke(main, ["create-user", "alice", "--password", "un-long-secret"])
    assert again.exit_code != 0
    assert "existe déjà" in again.output
    out = runner.invoke(main, ["create-token", "cron", "--user", "alice"])
    assert out.exit_code == 0, out.output
    token = out.output.splitlines()[1].strip()
    assert token.startswith("atarys_")
    assert len(token) > 40
    engine = create_engine(f"sqlite:///{env}")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash, prefix FROM api_tokens")).one()
        password_hash = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    engine.dispose()
    assert token not in stored[0]
    assert len(stored[0]) == 64
    assert password_hash.startswith("scrypt:")
    assert "un-long-secret" not in password_hash


def test_short_password_is_refused(env: Path) -> None:
    out = CliRunner().invoke(main, ["create-user", "bob", "--password", "court"])
    assert out.exit_code != 0
    assert "trop court" in out.output
