"""Item 9: demo mode cannot damage real data."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from atarys.api.commands import disable_demo_user, ensure_demo_user, start_demo_emulator
from atarys.cli import main
from atarys.config import Settings
from atarys.extensions import db
from atarys.models import User

from .conftest import MakeApp

REAL = {"web": {"client_id": "123-vrai.apps.googleusercontent.com", "client_secret": "s"}}


def test_demo_refuses_a_data_dir_with_real_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    credentials = real / "google_credentials.json"
    credentials.write_text(json.dumps(REAL), encoding="utf-8")
    monkeypatch.setenv("ATARYS_LOG_DIR", str(tmp_path / "logs"))
    out = CliRunner().invoke(main, ["serve", "--demo", "--data-dir", str(real)])
    assert out.exit_code != 0
    assert "vrais identifiants Google" in out.output
    assert json.loads(credentials.read_text(encoding="utf-8")) == REAL
    assert not (real / "atarys.db").exists()


def test_demo_never_writes_google_credentials_json(tmp_path: Path) -> None:
    emulator = start_demo_emulator(Settings(data_dir=tmp_path), host="127.0.0.1", port=5999)
    try:
        assert (tmp_path / "demo_google_credentials.json").is_file()
        assert not (tmp_path / "google_credentials.json").exists()
    finally:
        emulator.stop()


def test_demo_user_exists_only_in_demo_mode(make_app: MakeApp) -> None:
    demo_app = make_app(demo=True)
    password = ensure_demo_user(demo_app)
    creds = {"username": "demo", "password": password}
    assert demo_app.test_client().post("/api/auth/login", json=creds).status_code == 200

    real_app = make_app()
    assert real_app.test_client().post("/api/auth/login", json=creds).status_code == 401
    assert disable_demo_user(real_app) is True
    with real_app.app_context():
        user = db.session.query(User).filter_by(username="demo").one()
        assert user.is_active is False
        db.session.remove()


def test_create_user_refuses_the_demo_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATARYS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ATARYS_LOG_DIR", str(tmp_path / "logs"))
    out = CliRunner().invoke(main, ["create-user", "demo", "--password", "un-long-secret"])
    assert out.exit_code != 0
    assert "réservé" in out.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_demo_uses_its_own_data_dir(tmp_path: Path) -> None:
    """``atarys serve --demo`` (``make run``) keeps its data in ./demo-data, not ATARYS_DATA_DIR."""
    real = tmp_path / "real"
    env = dict(os.environ)
    env.update(
        ATARYS_DATA_DIR=str(real),
        ATARYS_LOG_DIR=str(tmp_path / "logs"),
        ATARYS_SCHEDULER="0",
    )
    env.pop("ATARYS_DATABASE_URL", None)
    env.pop("ATARYS_DEMO_DATA_DIR", None)
    atarys = shutil.which("atarys", path=str(Path(sys.executable).parent)) or "atarys"
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [atarys, "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
    demo = tmp_path / "demo-data"
    assert (demo / "atarys.db").is_file()
    assert (demo / "demo_google_credentials.json").is_file()
    assert not (demo / "google_credentials.json").exists()
    assert not (real / "atarys.db").exists()
