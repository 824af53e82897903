"""Never stuck: a crashed run frees its lock within seconds; its run reads "interrupted"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from atarys.models import GoogleAccount, SyncRun, utcnow
from atarys.sync.core.errors import AccountBusyError
from atarys.sync.service import SyncService
from atarys.sync.sides.memory import MemorySide
from atarys.sync.store import Store
from fixtures.sync import add_client


def _crash(session: Session, account: GoogleAccount, seconds_ago: float) -> SyncRun:
    """What kill -9 during a run leaves: the lock row set, a run "running", no live owner."""
    store = Store(session, account)
    run = store.start_run(trigger="manual", dry_run=False, forced=False)
    session.execute(
        update(GoogleAccount)
        .where(GoogleAccount.id == account.id)
        .values(
            lock_owner="dead-host:4242:0", lock_heartbeat=utcnow() - timedelta(seconds=seconds_ago)
        )
    )
    session.commit()
    return run


def test_a_crashed_run_frees_the_account_within_30_seconds(
    session: Session, account: GoogleAccount, memory_service: SyncService
) -> None:
    """After a crash, the next sync starts (SQLite: once the heartbeat is 30 s old;
    PostgreSQL: at once, the dead session's advisory lock is gone) and the crashed run
    reads "interrupted" in the history."""
    add_client(session, nom="Martin", email="jean@example.com")
    crashed = _crash(session, account, seconds_ago=31)
    result = memory_service.sync_all()
    assert result.status == "success"
    session.refresh(crashed)
    assert crashed.status == "interrupted"
    assert "interrompue" in (crashed.error_message or "")


def test_a_live_run_keeps_its_lock(
    session: Session, account: GoogleAccount, memory_service: SyncService
) -> None:
    """A run whose owner is alive is never taken over, however long it lasts."""
    owner = "colleague:1:abc"
    store = Store(session, account)
    store.acquire_lock(owner)
    try:
        session.execute(
            update(GoogleAccount)
            .where(GoogleAccount.id == account.id)
            .values(lock_heartbeat=utcnow() - timedelta(seconds=5))
        )
        session.commit()
        with pytest.raises(AccountBusyError):
            memory_service.sync_all()
    finally:
        store.release_lock(owner)
    assert memory_service.sync_all().status == "success"


def test_a_recent_crash_on_sqlite_waits_for_the_heartbeat(
    session: Session, account: GoogleAccount, memory_service: SyncService
) -> None:
    """SQLite cannot see a process die: a lock refreshed 5 s ago still counts as held."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL sees the dead session at once")
    _crash(session, account, seconds_ago=5)
    with pytest.raises(AccountBusyError):
        memory_service.sync_all()


def test_a_run_always_ends_whatever_an_item_raises(
    session: Session, account: GoogleAccount, memory_service: SyncService, memory_google: MemorySide
) -> None:
    """An unexpected error in the middle of a run closes it as failed, with a message a
    person can act on; the lock is freed and the next run works."""
    add_client(session, nom="Martin", email="jean@example.com")

    def broken(items: object) -> list[object]:
        raise RuntimeError("unexpected")

    original = memory_google.create
    memory_google.create = broken  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        memory_service.sync_all()
    run = memory_service.list_runs(limit=1).items[0]
    assert run.status == "failed"
    assert "relancez" in (run.error_message or "")
    memory_google.create = original  # type: ignore[method-assign]
    assert memory_service.sync_all().status == "success"
