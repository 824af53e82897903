"""``status.last_run`` after real runs, and the health check's demo flag."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from atarys import create_app
from atarys.emulator.server import RunningEmulator
from atarys.extensions import db

STATUS = "/api/google-contacts/status"


def _status(http: FlaskClient) -> dict[str, Any]:
    data: dict[str, Any] = http.get(STATUS).get_json()["data"]
    return data


def test_last_run_is_the_newest_real_sync(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """After sync-all the card shows that run; a later preview (dry run) does not replace it."""
    emulator.seed(12, random_seed=3)
    connected.post("/api/clients/", json={"nom": "Dupont", "email": "dupont@exemple.fr"})
    assert _status(connected)["last_run"] is None

    done = connected.post("/api/google-contacts/sync-all").get_json()
    assert done["success"] is True, done
    last = _status(connected)["last_run"]
    assert last is not None
    assert last["id"] == done["data"]["run_id"]
    assert last["status"] == "success"
    assert last["dry_run"] is False
    assert last["finished_at"]
    assert last["counts"]["google_to_atarys"]["created"] >= 1
    assert last["counts"]["atarys_to_google"]["created"] == 1

    preview = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()
    assert preview["data"]["dry_run"] is True
    runs = connected.get("/api/google-contacts/runs").get_json()["data"]
    assert runs[0]["id"] == preview["data"]["run_id"]  # the history lists the preview first
    assert _status(connected)["last_run"]["id"] == done["data"]["run_id"]

    # A background run becomes the last run once it has finished.
    job = connected.post("/api/google-contacts/sync-all", json={"async": True}).get_json()
    job_id = job["data"]["run_id"]
    deadline = time.monotonic() + 30
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = connected.get(f"/api/google-contacts/runs/{job_id}").get_json()["data"]
        if state["status"] in ("finished", "failed"):
            break
        time.sleep(0.1)
    assert state["status"] == "finished", state
    assert _status(connected)["last_run"]["id"] == state["engine_run_id"]


@pytest.fixture
def demo_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(
        {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "log_dir": tmp_path / "logs",
            "testing": True,
            "demo": True,
        }
    )
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_health_says_demo_mode(demo_app: Flask, anon_client: FlaskClient) -> None:
    """The login page learns from the (public) health check that this is the demo."""
    body = demo_app.test_client().get("/api/health").get_json()
    assert body["success"] is True
    assert body["data"] == {"status": "ok", "demo": True}
    normal = anon_client.get("/api/health").get_json()
    assert normal["data"] == {"status": "ok"}
