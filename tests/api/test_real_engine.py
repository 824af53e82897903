"""The API over the real sync engine and the emulator: the issue's "done when" path."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from atarys.emulator.server import RunningEmulator


def _contacts(client: FlaskClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = ""
    while True:
        body = client.get(f"/api/google-contacts/list-contacts?page_size=50&page_token={token}")
        data = body.get_json()
        found += data["data"]
        token = data["pagination"]["next_page_token"] or ""
        if not token:
            return found


def test_sync_all_list_and_resolve_a_conflict(
    connected: FlaskClient, emulator: RunningEmulator, people_service: Any
) -> None:
    """Clients and contacts sync both ways; a conflict appears and is resolved through the API."""
    emulator.seed(120, random_seed=5)
    for i in range(3):
        made = connected.post(
            "/api/clients/", json={"nom": f"Client{i}", "email": f"client{i}@exemple.fr"}
        )
        assert made.status_code == 201
    body = connected.post("/api/google-contacts/sync-all").get_json()
    assert body["success"] is True, body
    assert body["message"] == "Synchronisation complète terminée"
    assert body["data"]["atarys_to_google"]["success"] >= 3
    assert body["data"]["atarys_to_google"]["errors"] == 0
    assert body["data"]["google_to_atarys"]["success"] >= 100  # the seed has duplicates
    contacts = _contacts(connected)
    assert len(contacts) == 123
    metrics = connected.get("/metrics").get_data(as_text=True)
    assert 'atarys_sync_runs_total{outcome="ok",trigger="api"}' in metrics
    assert 'atarys_google_api_calls_total{method="people.people.connections.list"}' in metrics
    assert 'atarys_sync_items_total{action="created",direction="google_to_atarys"}' in metrics
    assert len({c["google_id"] for c in contacts}) == 123

    status = connected.get("/api/google-contacts/status").get_json()["data"]
    assert status["last_run"]["status"] == "success"
    runs = connected.get("/api/google-contacts/runs").get_json()
    run_id = runs["data"][0]["id"]
    detail = connected.get(f"/api/google-contacts/runs/{run_id}").get_json()
    assert detail["success"] is True
    assert len(detail["data"]["items"]) >= 3

    # Both sides change the same field of one pair: with the manual policy, a conflict.
    assert connected.put(
        "/api/google-contacts/settings", json={"conflict_policy": "manual"}
    ).get_json()["success"]
    target = next(c for c in contacts if c["email"] == "client0@exemple.fr")
    clients = connected.get("/api/clients/?q=client0@exemple.fr").get_json()["data"]
    connected.patch(f"/api/clients/{clients[0]['id']}", json={"ville": "Lyon"})
    person = (
        people_service.people()
        .get(resourceName=target["google_id"], personFields="addresses,metadata")
        .execute()
    )
    people_service.people().updateContact(
        resourceName=target["google_id"],
        updatePersonFields="addresses",
        body={"etag": person["etag"], "addresses": [{"city": "Nantes"}]},
    ).execute()
    connected.post("/api/google-contacts/sync-all")
    conflicts = connected.get("/api/google-contacts/conflicts").get_json()["data"]
    assert [c["field"] for c in conflicts] == ["ville"]
    resolved = connected.post(
        f"/api/google-contacts/conflicts/{conflicts[0]['id']}/resolve", json={"choice": "google"}
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert connected.get("/api/google-contacts/conflicts").get_json()["data"] == []
    assert connected.get(f"/api/clients/{clients[0]['id']}").get_json()["data"]["ville"] == "Nantes"


def test_seed_single_item_syncs(connected: FlaskClient, emulator: RunningEmulator) -> None:
    made = connected.post("/api/clients/", json={"nom": "Martin", "email": "m@exemple.fr"})
    client_id = made.get_json()["data"]["id"]
    body = connected.post(f"/api/google-contacts/sync-to-google/{client_id}").get_json()
    assert body["success"] is True, body
    assert body["data"]["action"] == "created"
    assert body["message"] == "Contact created dans Google Contacts"
    google_id = body["data"]["google_id"]
    assert google_id.startswith("people/c")

    emulator.seed(1, random_seed=9)
    contacts = _contacts(connected)
    other = next(c for c in contacts if c["google_id"] != google_id)
    short = other["google_id"].removeprefix("people/")
    body = connected.post(f"/api/google-contacts/sync-from-google/{short}").get_json()
    assert body["success"] is True, body
    assert body["data"]["action"] == "created"
    assert isinstance(body["data"]["client_id"], int)
    assert body["message"] == "Client created dans ATARYS"
    missing = connected.post("/api/google-contacts/sync-to-google/999999")
    assert missing.status_code == 404


def test_async_sync_all_reports_progress(connected: FlaskClient, emulator: RunningEmulator) -> None:
    emulator.seed(30, random_seed=1)
    resp = connected.post("/api/google-contacts/sync-all", json={"async": True})
    assert resp.status_code == 202
    job_id = resp.get_json()["data"]["run_id"]
    deadline = time.monotonic() + 30
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = connected.get(f"/api/google-contacts/runs/{job_id}").get_json()["data"]
        if data["status"] in ("finished", "failed"):
            break
        time.sleep(0.1)
    assert data["status"] == "finished", data
    assert data["progress"]["total"] >= 30
    assert data["progress"]["done"] == data["progress"]["total"]
    assert data["run"]["id"] == data["engine_run_id"]


def test_dry_run_plans_without_writing(connected: FlaskClient, emulator: RunningEmulator) -> None:
    emulator.seed(5, random_seed=2)
    body = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()
    assert body["data"]["dry_run"] is True
    assert len(body["data"]["plan"]) == 5
    assert connected.get("/api/clients/").get_json()["pagination"]["total"] == 0


def test_edit_is_pushed_to_google_within_seconds(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """A client created through the API shows up in Google a few seconds later, without a sync
    (once a person has applied the first sync)."""
    assert connected.post("/api/google-contacts/sync-all").status_code == 200
    settings = gapp.config["ATARYS_SETTINGS"]
    gapp.config["ATARYS_SETTINGS"] = settings.with_overrides({"push_enabled": True})
    started = time.monotonic()
    connected.post("/api/clients/", json={"nom": "Poussé", "email": "pousse@exemple.fr"})
    found: list[dict[str, Any]] = []
    while time.monotonic() - started < 15 and not found:
        time.sleep(0.2)
        found = [c for c in _contacts(connected) if c["email"] == "pousse@exemple.fr"]
    elapsed = time.monotonic() - started
    assert found
    assert found[0]["nom"] == "Poussé"
    assert elapsed < 6
