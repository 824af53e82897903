"""Issue 12 item 8: one failing item never freezes the cursor; the retry list is shown."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.google_contacts import service as engine
from atarys.models import GoogleAccount, SyncPending, utcnow


def _account(app: Flask) -> GoogleAccount:
    with app.app_context():
        account = engine.resolve_account(app)
        assert account is not None
        db.session.expunge(account)
        return account


def _sync(client: FlaskClient) -> dict[str, object]:
    body = client.post("/api/google-contacts/sync-all").get_json()
    data: dict[str, object] = body["data"]
    return data


def test_failed_item_is_kept_for_retry_and_the_cursors_move(
    connected: FlaskClient, emulator: RunningEmulator, app: Flask
) -> None:
    emulator.set_faults(reject_marker="Lyon")
    for nom, ville in (("Martin", "Lyon"), ("Durand", "Paris")):
        made = connected.post("/api/clients/", json={"nom": nom, "ville": ville})
        assert made.status_code == 201
    first = _sync(connected)
    assert first["atarys_to_google"]["errors"] == 1  # type: ignore[index]
    token = _account(app).sync_token
    assert token is not None  # the cursor moved although one item failed

    answer = connected.get("/api/google-contacts/retries").get_json()
    assert answer["success"] is True
    [item] = answer["data"]
    assert item["name"] == "MARTIN"
    assert "Google a refusé" in item["message"]
    assert item["attempts"] == 1
    assert "1 élément(s) en échec" in answer["message"]

    # the next run is incremental and tries the item again at once (still refused)
    second = _sync(connected)
    assert second["full_listing"] is False
    assert second["atarys_to_google"]["errors"] == 1  # type: ignore[index]
    [item] = connected.get("/api/google-contacts/retries").get_json()["data"]
    assert item["attempts"] == 2
    # then with backoff: its next attempt is set later
    assert item["next_attempt_at"] > item["last_failed_at"]

    # Google accepts it again; once due, it goes through and leaves the list
    emulator.set_faults(reject_marker=None)
    with app.app_context():
        db.session.execute(update(SyncPending).values(next_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    fourth = _sync(connected)
    assert fourth["atarys_to_google"]["created"] == 1  # type: ignore[index]
    assert fourth["atarys_to_google"]["errors"] == 0  # type: ignore[index]
    answer = connected.get("/api/google-contacts/retries").get_json()
    assert answer["data"] == []
    assert answer["message"] == "Aucun élément en échec"


def test_failed_update_is_read_again_after_the_cursor_moved(
    connected: FlaskClient, emulator: RunningEmulator, app: Flask
) -> None:
    """An update refused by Google: the client is past the watermark, yet the retry list
    brings it back and the change reaches Google."""
    made = connected.post("/api/clients/", json={"nom": "Martin", "ville": "Paris"}).get_json()
    client_id = made["data"]["id"]
    assert _sync(connected)["atarys_to_google"]["created"] == 1  # type: ignore[index]
    emulator.set_faults(reject_marker="Lyon")
    assert (
        connected.put(
            f"/api/clients/{client_id}", json={"nom": "Martin", "ville": "Lyon"}
        ).status_code
        == 200
    )
    failed = _sync(connected)
    assert failed["atarys_to_google"]["errors"] == 1  # type: ignore[index]
    emulator.set_faults(reject_marker=None)
    with app.app_context():
        db.session.execute(update(SyncPending).values(next_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    again = _sync(connected)
    assert again["atarys_to_google"]["updated"] == 1, again  # type: ignore[index]
    assert connected.get("/api/google-contacts/retries").get_json()["data"] == []
