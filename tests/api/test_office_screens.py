"""What the office screens rely on: waiting for a busy account, the history without previews,
duplicates shown by name and dismissed for good, messages in plain French."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from atarys.extensions import db
from atarys.google_contacts import service as engine
from atarys.models import SyncDuplicate, SyncRun, utcnow
from atarys.sync.core.actions import Duplicate
from atarys.sync.store import Store

from .conftest import hold_account_lock, no_wait

SYNC_ALL = "/api/google-contacts/sync-all"


def _contact(people_service: Any, given: str, family: str, email: str) -> str:
    body = {
        "names": [{"givenName": given, "familyName": family}],
        "emailAddresses": [{"value": email}],
    }
    return str(people_service.people().createContact(body=body).execute()["resourceName"])


def _release_later(app: Flask, owner: str, after: float) -> threading.Thread:
    def release() -> None:
        time.sleep(after)
        with app.app_context():
            account = engine.resolve_account(app)
            assert account is not None
            Store(db.session(), account).release_lock(owner)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def test_seed_sync_all_waits_for_the_scheduled_run_then_answers_its_result(
    gapp: Flask, connected: FlaskClient
) -> None:
    """A scheduled run holds the account: the caller gets a result, not a busy answer."""
    connected.post("/api/clients/", json={"nom": "Attente", "email": "attente@exemple.fr"})
    no_wait(gapp, 20)
    hold_account_lock(gapp, "scheduled-run-a")
    thread = _release_later(gapp, "scheduled-run-a", 1.0)
    started = time.monotonic()
    resp = connected.post(SYNC_ALL)
    thread.join()
    assert time.monotonic() - started >= 0.9
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["success"] is True
    assert body["data"]["atarys_to_google"]["created"] == 1


def test_the_wait_is_bounded_then_says_what_to_do(gapp: Flask, connected: FlaskClient) -> None:
    hold_account_lock(gapp, "scheduled-run-b")
    no_wait(gapp, 0.3)
    started = time.monotonic()
    resp = connected.post(SYNC_ALL)
    assert time.monotonic() - started < 5
    assert resp.status_code == 409
    assert "réessayez dans un instant" in resp.get_json()["message"]
    _release_later(gapp, "scheduled-run-b", 0).join()


def test_async_sync_all_follows_the_run_holding_the_account(
    gapp: Flask, connected: FlaskClient
) -> None:
    """The button pressed during a scheduled run: 202 with that run to follow, no failed row."""
    hold_account_lock(gapp, "scheduled-run-c")
    with gapp.app_context():
        account = engine.resolve_account(gapp)
        assert account is not None
        run = SyncRun(
            account_id=account.id,
            trigger="schedule",
            status="running",
            started_at=utcnow(),
            counts={},
            api_calls={},
            progress_done=3,
            progress_total=10,
        )
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        db.session.remove()
    resp = connected.post(SYNC_ALL, json={"async": True})
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    assert data["run_id"] == run_id
    assert data["status"] == "running"
    assert data["progress"] == {"done": 3, "total": 10}
    assert resp.headers["Location"].endswith(f"/runs/{run_id}")
    runs = connected.get("/api/google-contacts/runs").get_json()["data"]
    assert [r["id"] for r in runs] == [run_id]  # no "failed" run added
    _release_later(gapp, "scheduled-run-c", 0).join()


def test_history_leaves_previews_out_when_asked(connected: FlaskClient) -> None:
    connected.post("/api/clients/", json={"nom": "Histoire", "email": "h@exemple.fr"})
    assert connected.post(SYNC_ALL, json={"dry_run": True}).status_code == 200
    assert connected.post(SYNC_ALL).status_code == 200
    everything = connected.get("/api/google-contacts/runs").get_json()
    assert [r["dry_run"] for r in everything["data"]] == [False, True]
    real = connected.get("/api/google-contacts/runs?dry_run=false").get_json()
    assert [r["dry_run"] for r in real["data"]] == [False]
    assert real["pagination"]["total"] == 1
    previews = connected.get("/api/google-contacts/runs?dry_run=true").get_json()
    assert [r["dry_run"] for r in previews["data"]] == [True]
    bad = connected.get("/api/google-contacts/runs?dry_run=peut-etre")
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {"dry_run": "Attendu : true ou false."}


def test_duplicates_show_people_and_a_dismissed_pair_never_comes_back(
    gapp: Flask, connected: FlaskClient, people_service: Any
) -> None:
    _contact(people_service, "Zoé", "Lefèvre", "zoe@exemple.fr")
    _contact(people_service, "Zoé", "Lefevre", "ZOE@exemple.fr")
    assert connected.post(SYNC_ALL).status_code == 200
    body = connected.get("/api/google-contacts/duplicates?limit=10").get_json()
    assert body["pagination"]["total"] == 1
    duplicate = body["data"][0]
    assert sorted(r["name"] for r in duplicate["records"]) == ["LEFEVRE Zoé", "LEFÈVRE Zoé"]
    assert {r["side"] for r in duplicate["records"]} == {"google"}
    assert all(r["fields"]["email"].lower() == "zoe@exemple.fr" for r in duplicate["records"])

    resp = connected.post(f"/api/google-contacts/duplicates/{duplicate['id']}/dismiss")
    assert resp.status_code == 200
    assert "ne seront plus proposées" in resp.get_json()["message"]
    assert connected.get("/api/google-contacts/duplicates").get_json()["data"] == []
    # The next runs see the same pair: it stays dismissed.
    assert connected.post(SYNC_ALL).status_code == 200
    assert connected.get("/api/google-contacts/duplicates").get_json()["data"] == []
    # A record the group did not hold is new information: the group is proposed again.
    with gapp.app_context():
        account = engine.resolve_account(gapp)
        assert account is not None
        store = Store(db.session(), account)
        run = store.start_run(trigger="schedule", dry_run=False, forced=False)
        row = db.session.get(SyncDuplicate, duplicate["id"])
        assert row is not None
        same = Duplicate(
            email_key=row.email_key,
            client_ids=(),
            resource_names=tuple(row.resource_names),
            reason=row.reason,
        )
        store.record_duplicates(run, [same])
        assert row.status == "dismissed"
        store.record_duplicates(run, [same.model_copy(update={"client_ids": ("7",)})])
        assert row.status == "open"
        db.session.rollback()
        db.session.remove()

    missing = connected.post("/api/google-contacts/duplicates/999999/dismiss")
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "Ce doublon n'existe plus : rechargez la page."
