"""Scheduler: each due job runs exactly once across processes; edits are pushed to Google debounced."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from atarys import create_app
from atarys.api import engine
from atarys.api.auth import create_token, create_user
from atarys.api.scheduler import SyncScheduler, claim
from atarys.extensions import db
from atarys.models import ScheduledJob, utcnow

from .conftest import FakeService


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
        engine.ensure_account(db.session, "demo@example.com")
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
    for app in two_apps:
        app.extensions[engine.FACTORY_KEY] = lambda *_args: service
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


def test_auto_sync_zero_turns_scheduled_syncs_off(two_apps: tuple[Flask, Flask]) -> None:
    app = two_apps[0]
    service = FakeService()
    app.extensions[engine.FACTORY_KEY] = lambda *_args: service
    with app.app_context():
        account = engine.current_account(app, db.session)
        account.auto_sync_minutes = 0
        db.session.commit()
        db.session.remove()
    assert SyncScheduler(app).tick() == []
    assert service.calls == []


def test_busy_account_is_skipped_not_failed(two_apps: tuple[Flask, Flask]) -> None:
    from atarys.sync.errors import AccountBusyError

    app = two_apps[0]
    service = FakeService(raises=AccountBusyError())
    app.extensions[engine.FACTORY_KEY] = lambda *_args: service
    assert SyncScheduler(app).tick() == ["sync:demo@example.com"]
    with app.app_context():
        row = db.session.get(ScheduledJob, "sync:demo@example.com")
        assert row is not None
        assert row.last_status == "busy"
        db.session.remove()


def test_edits_are_pushed_to_google_debounced(database_url: str, tmp_path: Path) -> None:
    """Three quick edits through the API: one push shortly after, one call per client."""
    app = _make_app(database_url, tmp_path, "push", push_delay_seconds=0.3)
    service = FakeService()
    app.extensions[engine.FACTORY_KEY] = lambda *_args: service
    with app.app_context():
        engine.ensure_account(db.session, "demo@example.com")
        token = create_token(db.session, "t", create_user(db.session, "u", "mot-de-passe-long"))
        db.session.remove()
    scheduler = SyncScheduler(app, tick_seconds=3600)
    scheduler.start()
    try:
        http = app.test_client()
        http.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        first = http.post("/api/clients/", json={"nom": "Dupont"}).get_json()["data"]["id"]
        second = http.post("/api/clients/", json={"nom": "Durand"}).get_json()["data"]["id"]
        http.patch(f"/api/clients/{first}", json={"prenom": "Jean"})
        assert service.calls == []  # not yet: debounced
        deadline = time.monotonic() + 10
        while len(service.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert sorted(service.calls) == [("to_google", first), ("to_google", second)]
    finally:
        scheduler.shutdown()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_shorter_interval_applies_to_the_next_run(two_apps: tuple[Flask, Flask]) -> None:
    """Lowering auto_sync_minutes moves the next scheduled sync closer at once."""
    from atarys.api.scheduler import interval_changed

    app = two_apps[0]
    app.extensions[engine.FACTORY_KEY] = lambda *_args: FakeService()
    assert "sync:demo@example.com" in SyncScheduler(app).tick()
    with app.app_context():
        interval_changed(db.session, "demo@example.com", 15)
        row = db.session.get(ScheduledJob, "sync:demo@example.com")
        assert row is not None
        assert row.last_started_at is not None
        assert row.next_run_at - row.last_started_at == timedelta(minutes=15)
        db.session.remove()
