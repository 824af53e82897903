"""Scheduler: each due job is queued exactly once across processes, for every connected
account; the queue's workers run it (the real engine against the emulator); client edits
become one debounced push per account."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from atarys import create_app
from atarys.emulator import DEFAULT_USER
from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.google_contacts import service as engine
from atarys.jobs import queue as job_queue
from atarys.jobs.scheduler import SyncScheduler, claim
from atarys.models import ScheduledJob, SyncRun, utcnow

from .conftest import first_sync_applied, hold_account_lock


def wait_jobs(app: Flask, timeout: float = 30.0) -> None:
    """Wait until no job is queued or running (every queued job done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            pending = job_queue.pending_jobs(db.session())
            db.session.remove()
        if not pending:
            return
        time.sleep(0.1)
    raise AssertionError(f"jobs still pending: {[(r.id, r.trigger, r.status) for r in pending]}")


@pytest.fixture
def two_apps(gapp: Flask, connected: FlaskClient) -> Iterator[tuple[Flask, Flask]]:
    """Two app instances (two "processes") on one database and data dir, an account connected."""
    first_sync_applied(gapp)
    other = create_app(
        {
            "database_url": gapp.config["SQLALCHEMY_DATABASE_URI"],
            "data_dir": gapp.config["ATARYS_SETTINGS"].data_dir,
            "log_dir": gapp.config["ATARYS_SETTINGS"].log_dir,
            "testing": True,
            "google_api_endpoint": gapp.config["ATARYS_SETTINGS"].google_api_endpoint,
        }
    )
    yield gapp, other
    job_queue.shutdown(other)
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_claim_is_won_once(two_apps: tuple[Flask, Flask]) -> None:
    app = two_apps[0]
    with app.app_context():
        now = utcnow()
        assert claim(db.session, "job", timedelta(minutes=5), now=now) is True
        assert claim(db.session, "job", timedelta(minutes=5), now=now) is False
        assert claim(db.session, "job", timedelta(minutes=5), now=now + timedelta(minutes=6))
        db.session.remove()


def test_scheduler_fires_once_with_two_instances(two_apps: tuple[Flask, Flask]) -> None:
    """Two schedulers ticking at the same moment on one database queue each due job once."""
    schedulers = [SyncScheduler(app) for app in two_apps]
    ran: list[str] = []
    for _ in range(5):  # SQLite may make both losers of a round: the next tick retries
        barrier = threading.Barrier(2)
        results: list[list[str]] = [[], []]

        def run(
            i: int, barrier: threading.Barrier = barrier, results: list[list[str]] = results
        ) -> None:
            barrier.wait()
            results[i] = schedulers[i].tick()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        ran += results[0] + results[1]
        if ran:
            break
    # The hourly full sync was queued exactly once; the poll at most once (it normally waits
    # one poll interval after a full sync, unless the other process claimed it in that instant).
    assert ran.count(f"sync:{DEFAULT_USER}") == 1
    assert ran.count(f"poll:{DEFAULT_USER}") <= 1
    wait_jobs(two_apps[0])
    app = two_apps[0]
    with app.app_context():
        runs = db.session.scalars(select_runs()).all()
        assert [r.trigger for r in runs].count("schedule") == 1
        assert all(r.status == "success" for r in runs), [(r.trigger, r.status) for r in runs]
        db.session.remove()
    # Nothing is due right after: another round of ticks does nothing.
    assert schedulers[0].tick() == []
    assert schedulers[1].tick() == []
    with app.app_context():
        row = db.session.get(ScheduledJob, f"sync:{DEFAULT_USER}")
        assert row is not None
        assert row.last_status == "queued"
        assert row.next_run_at - row.last_started_at == timedelta(minutes=60)  # type: ignore[operator]
        poll = db.session.get(ScheduledJob, f"poll:{DEFAULT_USER}")
        assert poll is not None
        assert timedelta(minutes=4) < poll.next_run_at - utcnow() <= timedelta(minutes=5)
        row.last_started_at = utcnow() - timedelta(minutes=10)
        # Five minutes later the poll is due (and only the poll).
        poll.next_run_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    assert schedulers[1].tick() == [f"poll:{DEFAULT_USER}"]
    assert schedulers[0].tick() == []
    wait_jobs(app)
    with app.app_context():
        last = db.session.scalars(select_runs()).all()[-1]
        assert (last.trigger, last.status) == ("poll", "success")
        db.session.remove()


def select_runs() -> Any:
    from sqlalchemy import select

    return select(SyncRun).order_by(SyncRun.id)


def _runs(http: FlaskClient) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = http.get("/api/google-contacts/runs?limit=200").get_json()["data"]
    return runs


def test_connecting_writes_nothing_until_the_first_sync_is_applied(
    gapp: Flask, connected: FlaskClient, people_service: Any
) -> None:
    """Right after the consent: the schedule, the poll and the push write nothing on either
    side (an hour of scheduler time), and the status says the first sync is pending."""
    _pushes_on(gapp)
    status = connected.get("/api/google-contacts/status").get_json()["data"]
    assert status["first_sync_pending"] is True
    connected.post("/api/clients/", json={"nom": "Nouveau", "email": "n@exemple.fr"})
    scheduler = SyncScheduler(gapp, tick_seconds=3600)
    for _ in range(12):  # an hour of 5-minute ticks
        assert scheduler.tick() == []
    assert job_queue.get_queue(gapp).request_push() == []
    wait_jobs(gapp)
    assert _runs(connected) == []
    listed = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields="names")
        .execute()
    )
    assert "connections" not in listed or not [
        c for c in listed["connections"] if c["names"][0].get("familyName") == "Nouveau"
    ]
    # a person's explicit sync-all is the consent: it runs, and the schedule may follow
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    status = connected.get("/api/google-contacts/status").get_json()["data"]
    assert status["first_sync_pending"] is False


def test_auto_sync_zero_turns_scheduled_syncs_off(gapp: Flask, connected: FlaskClient) -> None:
    """auto_sync_minutes = 0 in the settings: the scheduler queues nothing."""
    first_sync_applied(gapp)
    assert connected.put("/api/google-contacts/settings", json={"auto_sync_minutes": 0}).get_json()[
        "success"
    ]
    assert SyncScheduler(gapp).tick() == []
    assert _runs(connected) == []


def test_busy_account_waits_in_the_queue_not_failed(gapp: Flask, connected: FlaskClient) -> None:
    """A run holds the account's lock (another process): the scheduled job stays queued, says
    why in French, and is tried again later; it is never marked failed."""
    first_sync_applied(gapp)
    hold_account_lock(gapp)
    assert SyncScheduler(gapp).tick() == [f"sync:{DEFAULT_USER}"]
    deadline = time.monotonic() + 15
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = _runs(connected)
        if runs and runs[0]["error_message"]:
            break
        time.sleep(0.1)
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "queued")]
    assert "autre synchronisation" in runs[0]["error_message"]
    time.sleep(job_queue.BUSY_DELAY_SECONDS + 1)  # tried again: still waiting, one row
    assert [(r["trigger"], r["status"]) for r in _runs(connected)] == [("schedule", "queued")]
    # A second tick when due again does not queue a second job of that kind.
    with gapp.app_context():
        row = db.session.get(ScheduledJob, f"sync:{DEFAULT_USER}")
        assert row is not None
        row.next_run_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    assert SyncScheduler(gapp).tick() == [f"sync:{DEFAULT_USER}"]
    assert len(_runs(connected)) == 1


def test_google_down_is_recorded_on_the_job(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Google answers only 503 at the scheduled time: the job's run row says so."""
    first_sync_applied(gapp)
    emulator.set_faults(error_rate=1.0, error_codes=[503])
    assert SyncScheduler(gapp).tick() == [f"sync:{DEFAULT_USER}"]
    wait_jobs(gapp)
    runs = _runs(connected)
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "failed")]
    assert "indisponible" in runs[0]["error_message"]


def _person(people_service: Any, resource_name: str) -> dict[str, Any]:
    person: dict[str, Any] = (
        people_service.people()
        .get(resourceName=resource_name, personFields="names,addresses")
        .execute()
    )
    return person


def _links(http: FlaskClient, *ids: int) -> dict[int, dict[str, Any]]:
    data = http.get(f"/api/google-contacts/links?client_ids={','.join(map(str, ids))}")
    return {entry["client_id"]: entry for entry in data.get_json()["data"]}


def _pushes_on(app: Flask, delay: float = 1.0) -> None:
    settings = app.config["ATARYS_SETTINGS"]
    app.config["ATARYS_SETTINGS"] = settings.with_overrides(
        {"push_enabled": True, "push_delay_seconds": delay}
    )


def test_edits_are_pushed_to_google_debounced(
    gapp: Flask, connected: FlaskClient, people_service: Any
) -> None:
    """Quick edits through the API reach Google after the debounce, in one push run."""
    known = connected.post("/api/clients/", json={"nom": "Dupont", "email": "dupont@exemple.fr"})
    first = int(known.get_json()["data"]["id"])
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    contact = _links(connected, first)[first]["resource_name"]
    before = len(_runs(connected))
    _pushes_on(gapp)

    connected.patch(f"/api/clients/{first}", json={"ville": "Lyon"})
    connected.patch(f"/api/clients/{first}", json={"ville": "Paris"})
    made = connected.post("/api/clients/", json={"nom": "Durand", "email": "d@exemple.fr"})
    second = int(made.get_json()["data"]["id"])
    connected.patch(f"/api/clients/{second}", json={"prenom": "Jean"})
    # Not yet: the push waits for the edits to stop.
    assert "addresses" not in _person(people_service, contact)
    assert _links(connected, second)[second]["resource_name"] is None

    deadline = time.monotonic() + 15
    states: dict[int, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        states = _links(connected, first, second)
        if all(s["status"] == "linked" for s in states.values()):
            break
        time.sleep(0.1)
    assert [s["status"] for s in states.values()] == ["linked", "linked"], states
    wait_jobs(gapp)

    assert _person(people_service, contact)["addresses"][0]["city"] == "Paris"
    created = _person(people_service, states[second]["resource_name"])
    assert created["names"][0]["givenName"] == "Jean"
    assert created["names"][0]["familyName"] == "Durand"
    runs = _runs(connected)
    pushes = runs[: len(runs) - before]  # newest first
    assert [(r["trigger"], r["status"]) for r in pushes] == [("push", "success")]
    counts = pushes[0]["counts"]["atarys_to_google"]
    assert (counts["created"], counts["updated"]) == (1, 1)


def test_shorter_interval_applies_to_the_next_run(gapp: Flask, connected: FlaskClient) -> None:
    """Lowering auto_sync_minutes moves the next scheduled sync closer at once."""
    first_sync_applied(gapp)
    assert f"sync:{DEFAULT_USER}" in SyncScheduler(gapp).tick()
    wait_jobs(gapp)
    assert [r["trigger"] for r in _runs(connected)] == ["schedule"]
    assert connected.put(
        "/api/google-contacts/settings", json={"auto_sync_minutes": 15}
    ).get_json()["success"]
    with gapp.app_context():
        row = db.session.get(ScheduledJob, f"sync:{DEFAULT_USER}")
        assert row is not None
        assert row.last_started_at is not None
        assert row.next_run_at - row.last_started_at == timedelta(minutes=15)
        db.session.remove()


def test_a_job_the_queue_lost_is_sent_again(gapp: Flask, connected: FlaskClient) -> None:
    """A queued run row whose message never came (Redis restarted empty) runs after the
    scheduler's next tick finds it overdue; it runs once."""
    first_sync_applied(gapp)
    assert connected.put("/api/google-contacts/settings", json={"auto_sync_minutes": 0}).get_json()[
        "success"
    ]
    with gapp.app_context():
        account = engine.resolve_account(gapp)
        assert account is not None
        lost = SyncRun(
            account_id=account.id,
            trigger="api-async",
            status="queued",
            started_at=utcnow() - timedelta(minutes=10),
            counts={},
            api_calls={},
        )
        db.session.add(lost)
        db.session.commit()
        lost_id = lost.id
        db.session.remove()
    scheduler = SyncScheduler(gapp)
    assert scheduler.tick() == []
    assert scheduler.tick() == []  # not sent twice: it is due again from now
    wait_jobs(gapp)
    runs = _runs(connected)
    assert [(r["id"], r["status"]) for r in runs] == [(lost_id, "success")]
