"""Background ``sync-all`` runs (``{"async": true}``): a failure tells as much as a synchronous one."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from atarys import create_app
from atarys.clients.service import client_changed
from atarys.emulator import DEFAULT_USER
from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.google_contacts import service as engine
from atarys.jobs import queue as job_queue
from atarys.models import SyncRun

from .conftest import connect_account, hold_account_lock, no_wait, wait_run
from .test_scheduler import wait_jobs

SYNC_ALL = "/api/google-contacts/sync-all"


def _finished_job(http: FlaskClient) -> dict[str, Any]:
    resp = http.post(SYNC_ALL, json={"async": True})
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["data"]["run_id"]
    data = wait_run(http, job_id, lambda job: job["status"] in ("finished", "failed"))
    assert data["status"] in ("finished", "failed"), f"job {job_id} still running"
    return data


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


def test_busy_account_waits_for_its_turn(gapp: Flask, connected: FlaskClient) -> None:
    """Another run holds the account: the job stays queued and says why; not a failure."""
    hold_account_lock(gapp)
    resp = connected.post(SYNC_ALL, json={"async": True})
    assert resp.status_code == 202
    run_id = resp.get_json()["data"]["run_id"]
    data = wait_run(connected, run_id, lambda job: bool(job["run"]["error_message"]), 15)
    assert data["status"] == "queued"
    assert "autre synchronisation" in data["run"]["error_message"]
    # Asking again while it waits gives the same job, not a second one, and says so (the
    # page then shows that run's progress as someone else's).
    again = connected.post(SYNC_ALL, json={"async": True}).get_json()
    assert again["data"]["run_id"] == run_id
    assert again["message"] == "Une synchronisation est déjà en cours : suivez-la ici"
    no_wait(gapp)  # the synchronous call waits for the other run first (test_sync_wait.py)
    answer = connected.post(SYNC_ALL)
    assert answer.status_code == 409
    assert answer.headers["Retry-After"] == "10"


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


# --- several accounts: pushes, origin, budgets ----------------------------------------------


def _accounts(gapp: Flask, emails: list[str]) -> dict[str, int]:
    with gapp.app_context():
        ids = {}
        for email in emails:
            account = engine.ensure_account(db.session, email)
            account.first_sync_pending = False
            account.import_scope = "all"
            ids[email] = account.id
        db.session.commit()
        db.session.remove()
    return ids


def _pushes_on(app: Flask, delay: float) -> None:
    settings = app.config["ATARYS_SETTINGS"]
    app.config["ATARYS_SETTINGS"] = settings.with_overrides(
        {"push_enabled": True, "push_delay_seconds": delay}
    )


def _runs_by_account(gapp: Flask) -> dict[int, list[tuple[str, str]]]:
    with gapp.app_context():
        rows = db.session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        out: dict[int, list[tuple[str, str]]] = {}
        for row in rows:
            out.setdefault(row.account_id, []).append((row.trigger, row.status))
        db.session.remove()
    return out


PHONES = [DEFAULT_USER, "chantier@example.com", "commercial@example.com"]


def test_a_burst_of_edits_is_one_push_per_account(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """50 clients written in a burst: one push run per connected account, not 50 — and every
    phone holds the 50 clients after it."""
    for email in PHONES[1:]:
        connect_account(connected, email)
    ids = _accounts(gapp, PHONES)
    _pushes_on(gapp, 2.0)
    started = time.monotonic()
    for i in range(25):
        made = connected.post("/api/clients/", json={"nom": f"Rafale{i}", "email": f"r{i}@ex.fr"})
        assert made.status_code == 201, made.get_json()
        connected.patch(f"/api/clients/{made.get_json()['data']['id']}", json={"ville": "Lyon"})
    burst = time.monotonic() - started
    wait_jobs(gapp, 60)
    total = connected.get("/api/clients/").get_json()["pagination"]["total"]
    assert total >= 25
    runs = _runs_by_account(gapp)
    expected = 1 if burst < 8 else 2  # a burst longer than 10 s is pushed every 10 s
    for email in PHONES:
        pushes = [r for r in runs.get(ids[email], []) if r[0] == "push"]
        assert 1 <= len(pushes) <= expected, (email, burst, pushes)
        assert all(status == "success" for _, status in pushes), pushes
        with emulator.state.lock:
            assert emulator.state.user(email).live_count == total, email


def test_origin_account_gets_no_echo_push(gapp: Flask, connected: FlaskClient) -> None:
    """A client changed by a sync run of account A (``origin``): the others are pushed, not A."""
    for email in PHONES[1:]:
        connect_account(connected, email)
    ids = _accounts(gapp, PHONES)
    _pushes_on(gapp, 60.0)  # stays queued: the test reads the pending rows
    with gapp.app_context():
        client_changed.send(1, origin=PHONES[1].upper())
        client_changed.send(2)  # no origin (the clients API): every account
        client_changed.send(4, origin=PHONES[1])  # a moment later: nothing more to queue
        rows = job_queue.pending_jobs(db.session())
        db.session.remove()
    pushed = sorted(r.account_id for r in rows if r.trigger == "push")
    assert pushed == sorted(ids.values())  # one per account: A's came from the second edit
    with gapp.app_context():
        for row in job_queue.pending_jobs(db.session()):
            db.session.delete(row)
        db.session.commit()
        time.sleep(job_queue.COALESCE_SECONDS)  # signals closer together coalesce
        client_changed.send(3, origin=PHONES[1])
        rows = job_queue.pending_jobs(db.session())
        db.session.remove()
    assert sorted(r.account_id for r in rows) == sorted(ids[e] for e in PHONES if e != PHONES[1])


def test_daily_quota_makes_jobs_wait_until_tomorrow(gapp: Flask, connected: FlaskClient) -> None:
    """The project's daily budget is spent: a job waits, saying so in French; nothing fails."""
    assert connected.post(SYNC_ALL).get_json()["success"] is True  # spends a few calls
    settings = gapp.config["ATARYS_SETTINGS"]
    gapp.config["ATARYS_SETTINGS"] = settings.with_overrides({"daily_quota": 1})
    resp = connected.post(SYNC_ALL, json={"async": True})
    run_id = resp.get_json()["data"]["run_id"]
    data = wait_run(connected, run_id, lambda job: bool(job["run"]["error_message"]), 15)
    assert data["status"] == "queued"
    assert "quota quotidien" in data["run"]["error_message"]
    assert "demain" in data["run"]["error_message"]


def test_google_quota_day_starts_at_midnight_pacific_time() -> None:
    """Google resets its daily quotas at midnight in California, not in London."""
    from atarys.jobs.queue import daily_message, day_start, next_day_start

    winter = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)  # 23:30 the day before, in California
    assert day_start(winter) == datetime(2026, 1, 14, 8, 0, tzinfo=UTC)
    assert next_day_start(winter) == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert day_start(summer) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    # the day the clocks go back lasts 25 hours
    change = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert next_day_start(change) - day_start(change) == timedelta(hours=25)
    assert "demain vers 9 h 00 (heure de Paris)" in daily_message(next_day_start(winter))
