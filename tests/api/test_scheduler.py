"""Scheduler: each due job runs exactly once across processes; edits are pushed to Google debounced.

The real engine runs against the emulator everywhere except the cross-process claim race,
which keeps a ``FakeService``: it is about the ``scheduled_jobs`` claim, and a fake run
that returns at once keeps both "processes" ticking in the same instant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from atarys import create_app
from atarys.emulator import DEFAULT_USER
from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.google_contacts import service as engine
from atarys.jobs.scheduler import SyncScheduler, claim
from atarys.models import ScheduledJob, utcnow

from .conftest import first_sync_applied, hold_account_lock


@dataclass
class _Run:
    run_id: int

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "dry_run": False}


@dataclass
class FakeService:
    """Only for the claim race: a ``sync_all`` that returns at once and records its trigger."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def sync_all(
        self, *, dry_run: bool = False, force: bool = False, trigger: str = "", progress: Any = None
    ) -> _Run:
        self.calls.append(("sync_all", {"dry_run": dry_run, "force": force, "trigger": trigger}))
        return _Run(len(self.calls))


def _make_app(database_url: str, tmp_path: Path, name: str, **extra: object) -> Flask:
    return create_app(
        {
            "database_url": database_url,
            "data_dir": tmp_path / name,
            "log_dir": tmp_path / "logs",
            "testing": True,
            **extra,
        }
    )


@pytest.fixture
def two_apps(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    """Two app instances (two "processes") on one database, with a connected account."""
    apps = (_make_app(database_url, tmp_path, "a"), _make_app(database_url, tmp_path, "b"))
    with apps[0].app_context():
        engine.ensure_account(db.session, "demo@example.com").first_sync_pending = False
        db.session.commit()
        db.session.remove()
    yield apps
    for app in apps:
        with app.app_context():
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
    """Two schedulers ticking at the same moment on one database run each due job once."""
    service = FakeService()
    schedulers = [SyncScheduler(app, opener=lambda _app: service) for app in two_apps]
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
    # The hourly full sync ran exactly once; the poll at most once (it normally waits one
    # poll interval after a full sync, unless the other process claimed it in the same instant).
    assert ran.count("sync:demo@example.com") == 1
    assert ran.count("poll:demo@example.com") <= 1
    ran = [r for r in ran if r.startswith("sync:")]
    triggers = sorted(arg["trigger"] for name, arg in service.calls if name == "sync_all")
    assert triggers.count("schedule") == 1
    # Nothing is due right after: another round of ticks does nothing.
    assert schedulers[0].tick() == []
    assert schedulers[1].tick() == []
    with two_apps[0].app_context():
        row = db.session.get(ScheduledJob, "sync:demo@example.com")
        assert row is not None
        assert row.last_status == "ok"
        assert row.next_run_at - row.last_started_at == timedelta(minutes=60)  # type: ignore[operator]
        poll = db.session.get(ScheduledJob, "poll:demo@example.com")
        assert poll is not None
        assert timedelta(minutes=4) < poll.next_run_at - utcnow() <= timedelta(minutes=5)
        row.last_started_at = utcnow() - timedelta(minutes=10)
        # Five minutes later the poll is due (and only the poll).
        poll.next_run_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    assert schedulers[1].tick() == ["poll:demo@example.com"]
    assert schedulers[0].tick() == []
    assert service.calls[-1] == ("sync_all", {"dry_run": False, "force": False, "trigger": "poll"})


def _runs(http: FlaskClient) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = http.get("/api/google-contacts/runs?limit=200").get_json()["data"]
    return runs


def test_connecting_writes_nothing_until_the_first_sync_is_applied(
    gapp: Flask, connected: FlaskClient, people_service: Any
) -> None:
    """Right after the consent: the schedule, the poll and the push write nothing on either
    side (an hour of scheduler time), and the status says the first sync is pending."""
    status = connected.get("/api/google-contacts/status").get_json()["data"]
    assert status["first_sync_pending"] is True
    made = connected.post("/api/clients/", json={"nom": "Nouveau", "email": "n@exemple.fr"})
    client_id = made.get_json()["data"]["id"]
    scheduler = SyncScheduler(gapp, tick_seconds=3600)
    for _ in range(12):  # an hour of 5-minute ticks
        assert scheduler.tick() == []
    assert scheduler.push_pending() == {}
    scheduler.enqueue([client_id], delay=0)
    assert scheduler.push_pending() == {client_id: "first_sync_pending"}
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
    """auto_sync_minutes = 0 in the settings: the scheduler runs nothing."""
    assert connected.put("/api/google-contacts/settings", json={"auto_sync_minutes": 0}).get_json()[
        "success"
    ]
    assert SyncScheduler(gapp).tick() == []
    assert _runs(connected) == []


def test_busy_account_is_skipped_not_failed(gapp: Flask, connected: FlaskClient) -> None:
    """A run holds the account's lock (another process): the scheduled sync is skipped as busy."""
    first_sync_applied(gapp)
    hold_account_lock(gapp)
    assert SyncScheduler(gapp).tick() == [f"sync:{DEFAULT_USER}"]
    with gapp.app_context():
        row = db.session.get(ScheduledJob, f"sync:{DEFAULT_USER}")
        assert row is not None
        assert row.last_status == "busy"
        db.session.remove()
    assert _runs(connected) == []


def test_google_down_is_recorded_on_the_job(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Google answers only 503 at the scheduled time: the job row says so and no run succeeded."""
    first_sync_applied(gapp)
    emulator.set_faults(error_rate=1.0, error_codes=[503])
    assert SyncScheduler(gapp).tick() == [f"sync:{DEFAULT_USER}"]
    with gapp.app_context():
        row = db.session.get(ScheduledJob, f"sync:{DEFAULT_USER}")
        assert row is not None
        assert row.last_status == "error-503"
        assert row.last_finished_at is not None
        db.session.remove()
    runs = _runs(connected)
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "failed")]


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


def test_edits_are_pushed_to_google_debounced(
    gapp: Flask, connected: FlaskClient, people_service: Any
) -> None:
    """Quick edits through the API reach Google after the debounce: one push per client."""
    settings = gapp.config["ATARYS_SETTINGS"]
    gapp.config["ATARYS_SETTINGS"] = settings.with_overrides({"push_delay_seconds": 1.0})
    known = connected.post("/api/clients/", json={"nom": "Dupont", "email": "dupont@exemple.fr"})
    first = int(known.get_json()["data"]["id"])
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    contact = _links(connected, first)[first]["resource_name"]
    before = len(_runs(connected))

    scheduler = SyncScheduler(gapp, tick_seconds=3600)
    scheduler.start()
    try:
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
        time.sleep(0.5)  # nothing more comes
    finally:
        scheduler.shutdown()

    assert _person(people_service, contact)["addresses"][0]["city"] == "Paris"
    created = _person(people_service, states[second]["resource_name"])
    assert created["names"][0]["givenName"] == "Jean"
    assert created["names"][0]["familyName"] == "Durand"
    runs = _runs(connected)
    pushes = runs[: len(runs) - before]  # newest first
    assert [r["trigger"] for r in pushes] == ["client", "client"]
    created_or_updated = [r["counts"]["atarys_to_google"] for r in pushes]
    assert sorted((c["created"], c["updated"]) for c in created_or_updated) == [(0, 1), (1, 0)]


def test_shorter_interval_applies_to_the_next_run(gapp: Flask, connected: FlaskClient) -> None:
    """Lowering auto_sync_minutes moves the next scheduled sync closer at once."""
    first_sync_applied(gapp)
    assert f"sync:{DEFAULT_USER}" in SyncScheduler(gapp).tick()
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
