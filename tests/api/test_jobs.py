"""Background ``sync-all`` runs (``{"async": true}``): a failure tells as much as a synchronous one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from atarys import create_app
from atarys.emulator.server import RunningEmulator
from atarys.extensions import db

from .conftest import hold_account_lock, no_wait

SYNC_ALL = "/api/google-contacts/sync-all"


def _finished_job(http: FlaskClient) -> dict[str, Any]:
    resp = http.post(SYNC_ALL, json={"async": True})
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["data"]["run_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        data: dict[str, Any] = http.get(f"/api/google-contacts/runs/{job_id}").get_json()["data"]
        if data["status"] in ("finished", "failed"):
            return data
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running")


def _same_as_sync(error: dict[str, Any], http: FlaskClient) -> Any:
    """The job's error carries the synchronous answer's envelope; returns that answer."""
    answer = http.post(SYNC_ALL)
    body = answer.get_json()
    assert error["status"] == answer.status_code
    assert {k: error[k] for k in ("success", "message", "data")} == body
    return answer


def test_breaker_refusal_keeps_its_counts_and_reasons(
    connected: FlaskClient, people_service: Any
) -> None:
    """15 of 20 contacts deleted in Google: the background run is refused, and says why."""
    ids = [
        connected.post(
            "/api/clients/", json={"nom": f"Client{i}", "email": f"c{i}@exemple.fr"}
        ).get_json()["data"]["id"]
        for i in range(20)
    ]
    assert connected.post(SYNC_ALL).get_json()["success"] is True
    links = connected.get(
        f"/api/google-contacts/links?client_ids={','.join(map(str, ids))}"
    ).get_json()["data"]
    people_service.people().batchDeleteContacts(
        body={"resourceNames": [link["resource_name"] for link in links[:15]]}
    ).execute()

    job = _finished_job(connected)
    assert job["status"] == "failed"
    error = job["error"]
    assert error["status"] == 409
    assert error["reason"] == "mass_deletion"
    assert error["data"]["reason"] == "mass_deletion"
    assert error["data"]["counts"]
    assert error["data"]["reasons"]
    assert "Aperçu" in error["message"]
    assert "force" not in error["message"]
    _same_as_sync(error, connected)
    # Nothing was deleted in ATARYS.
    assert connected.get("/api/clients/").get_json()["pagination"]["total"] == 20


def test_quota_failure_keeps_retry_after(connected: FlaskClient, emulator: RunningEmulator) -> None:
    """Google's quota is exhausted: the failed job says when to retry, like the 429 does."""
    emulator.set_faults(quota={"critical_read": 0})
    job = _finished_job(connected)
    assert job["status"] == "failed"
    error = job["error"]
    assert error["status"] == 429
    assert error["reason"] == "quota"
    assert error["retry_after"] == 60
    assert error["data"] == {"reason": "quota", "retry_after": 60}
    assert "60 s" in error["message"]
    answer = _same_as_sync(error, connected)
    assert answer.headers["Retry-After"] == "60"


def test_busy_account_keeps_its_retry_after(gapp: Flask, connected: FlaskClient) -> None:
    """Another run holds the account: the job's error gives the Retry-After of the 409."""
    hold_account_lock(gapp)
    job = _finished_job(connected)
    assert job["status"] == "failed"
    assert job["error"]["status"] == 409
    assert job["error"]["reason"] == "busy"
    assert job["error"]["retry_after"] == 10
    assert job["error"]["data"] == {"reason": "busy", "retry_after": 10}
    no_wait(gapp)  # the synchronous call waits for the other run first (test_sync_wait.py)
    answer = connected.post(SYNC_ALL)
    assert answer.status_code == 409
    assert answer.headers["Retry-After"] == "10"
    assert answer.get_json()["message"] == job["error"]["message"]


def test_another_process_follows_the_background_run(
    connected: FlaskClient, database_url: str, tmp_path: Path
) -> None:
    """The run row is the job: a second server on the same database answers ``GET runs/<id>``."""
    other = create_app(
        {
            "database_url": database_url,
            "data_dir": tmp_path / "other-data",
            "log_dir": tmp_path / "other-logs",
            "testing": True,
        }
    )
    try:
        elsewhere = other.test_client()
        elsewhere.environ_base["HTTP_AUTHORIZATION"] = connected.environ_base["HTTP_AUTHORIZATION"]
        job = _finished_job(connected)
        seen = elsewhere.get(f"/api/google-contacts/runs/{job['run_id']}").get_json()
        assert seen["success"] is True
        assert seen["data"]["status"] == job["status"] == "finished"
        assert seen["data"]["run"]["id"] == job["run_id"]
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
