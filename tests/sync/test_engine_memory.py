"""The engine over the real database and an in-memory Google: behaviours independent of Google."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from atarys.google.connection import NotConnectedError
from atarys.models import Client, GoogleAccount
from atarys.sync.core.records import Record
from atarys.sync.service import SyncService, default_account, get_or_create_account
from atarys.sync.sides.base import NewItem
from atarys.sync.sides.google import QuotaBudget
from atarys.sync.sides.memory import MemorySide
from fixtures.sync import add_client


def test_progress_is_reported_and_kept_on_the_run(
    session: Session, memory_service: SyncService
) -> None:
    """progress(done, total) is called per batch; the run row keeps done/total for pollers."""
    for i in range(5):
        add_client(session, nom=f"N{i}", email=f"n{i}@example.com")
    seen: list[tuple[int, int]] = []
    result = memory_service.sync_all(progress=lambda done, total: seen.append((done, total)))
    assert seen
    assert seen[-1] == (5, 5)
    run = memory_service.get_run(result.run_id).to_dict()
    assert run["progress"] == {"done": 5, "total": 5}
    assert len(run["items"]) == 5


def test_an_email_another_client_has_is_shared_not_an_error(
    session: Session, memory_service: SyncService, memory_google: MemorySide
) -> None:
    """Google gives a contact the e-mail another client has (a shared company address):
    stored as it is, the run succeeds, the cursors move on, nothing lost or set aside."""
    add_client(session, nom="A", email="a@example.com")
    add_client(session, nom="B", email="b@example.com")
    memory_service.sync_all()
    token = memory_service.account.sync_token
    rn = next(i for i, e in memory_google.entries.items() if e.item.record.email == "a@example.com")
    memory_google.edit(rn, email="b@example.com")
    result = memory_service.sync_all()
    assert result.status == "success", result.errors
    assert result.google_to_atarys.updated == 1
    assert memory_service.account.sync_token != token
    assert memory_service.store.retries() == []
    emails = sorted(c.email or "" for c in session.scalars(select(Client)))
    assert emails == ["b@example.com", "b@example.com"]


def test_reading_needs_no_google(session: Session, account: GoogleAccount) -> None:
    """Runs, conflicts and duplicates are readable without a Google connection."""
    service = SyncService(session, account, None)
    assert service.list_runs(limit=5).to_dict()["items"] == []
    assert service.list_conflicts() == []
    with pytest.raises(NotConnectedError):
        service.sync_all()


def test_accounts(session: Session) -> None:
    assert default_account(session) is None
    a = get_or_create_account(session, "Staff@Example.com")
    assert get_or_create_account(session, "staff@example.com").id == a.id
    assert default_account(session) is a
    assert a.to_dict()["settings"]["conflict_policy"] == "newest"


def test_import_then_edit_round_trip(
    session: Session, memory_service: SyncService, memory_google: MemorySide, tmp_path: Path
) -> None:
    """A contact imported, then edited in ATARYS, reaches Google; a third run is quiet."""
    [item] = memory_google.create(
        [NewItem(Record(nom="Petit", email="p@example.com", telephone="06 12 34 56 78"))]
    )
    first = memory_service.sync_all()
    assert first.google_to_atarys.created == 1
    from atarys.models import Client

    client = session.query(Client).one()
    assert client.telephone == "+33612345678"
    client.ville = "Lyon"
    session.commit()
    memory_service.sync_all()
    assert memory_google.entries[item.id].item.record.ville == "Lyon"
    assert memory_google.entries[item.id].item.hint == str(client.id)
    writes = memory_google.writes
    memory_service.sync_all()
    assert memory_google.writes == writes


def test_quota_budget_waits_within_the_minute() -> None:
    """The client-side budget sleeps until the window has room (fake clock)."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = QuotaBudget({"critical_write": 12}, sleep=sleep, clock=lambda: now[0])
    for _ in range(2):
        budget.take({"critical_write": 6})
    assert slept == []
    budget.take({"critical_write": 6})
    assert slept == [60.0]
