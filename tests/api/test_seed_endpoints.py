"""The seed's seven endpoints: paths, methods, envelope, French messages and data keys."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from atarys.emulator.server import RunningEmulator
from atarys.sync import errors

from .conftest import FakeService


def _envelope(body: dict[str, Any]) -> None:
    assert set(body) >= {"success", "message", "data"}
    assert isinstance(body["message"], str)
    assert body["message"]


def test_status_probes_google_before_connection(gclient: FlaskClient) -> None:
    """Not connected yet: status still tells whether Google (here the emulator) answers."""
    data = gclient.get("/api/google-contacts/status").get_json()["data"]
    assert data["authenticated"] is False
    assert data["google_reachable"] is True


def test_auth_shape_when_not_connected(gclient: FlaskClient) -> None:
    body = gclient.post("/api/google-contacts/auth").get_json()
    _envelope(body)
    assert body["success"] is True
    assert {"authenticated", "service_available", "authorization_url"} <= set(body["data"])


def test_auth_without_client_secrets_is_503(client: FlaskClient) -> None:
    resp = client.post("/api/google-contacts/auth")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["success"] is False
    assert "setup-instructions" in body["message"]
    assert body["data"] == {"credentials_file_exists": False}


def test_status_shape(connected: FlaskClient) -> None:
    body = connected.get("/api/google-contacts/status").get_json()
    _envelope(body)
    assert body["message"] == "✅ Service Google Contacts disponible"
    data = body["data"]
    assert data["authenticated"] is True
    assert data["service_available"] is True
    assert data["credentials_file_exists"] is True
    assert data["token_file_exists"] is True
    assert data["google_reachable"] is True
    assert "last_run" in data
    assert "next_run" in data
    assert data["next_run"]["auto_sync_minutes"] == 60


def test_status_when_nothing_is_set_up(client: FlaskClient) -> None:
    body = client.get("/api/google-contacts/status").get_json()
    assert body["success"] is True
    assert body["data"]["authenticated"] is False
    assert body["data"]["credentials_file_exists"] is False
    assert body["data"]["token_file_exists"] is False
    assert body["message"].startswith("⚠️")


def test_status_when_google_is_down(connected: FlaskClient, emulator: RunningEmulator) -> None:
    emulator.set_faults(error_rate=1.0, error_codes=[503])
    body = connected.get("/api/google-contacts/status").get_json()
    assert body["data"]["authenticated"] is True
    assert body["data"]["service_available"] is False
    assert body["data"]["google_reachable"] is False
    assert "injoignable" in body["message"]


def test_list_contacts_reaches_every_contact(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Following next_page_token walks through every contact, not just the first page."""
    emulator.seed(250, random_seed=3)
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        query = "page_size=100" + (f"&page_token={token}" if token else "")
        body = connected.get(f"/api/google-contacts/list-contacts?{query}").get_json()
        assert body["success"] is True
        assert body["message"] == "250 contacts trouvés dans Google"
        for contact in body["data"]:
            assert {"google_id", "nom", "prenom", "email", "etag"} <= set(contact)
            assert contact["google_id"].startswith("people/c")
        seen += [c["google_id"] for c in body["data"]]
        pages += 1
        token = body["pagination"]["next_page_token"]
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 250


def test_list_contacts_not_connected_is_409(client: FlaskClient) -> None:
    resp = client.get("/api/google-contacts/list-contacts")
    assert resp.status_code == 409
    assert resp.get_json()["data"]["authenticated"] is False


@pytest.mark.parametrize("size", ["0", "1001", "abc"])
def test_list_contacts_bad_page_size_is_422(client: FlaskClient, size: str) -> None:
    resp = client.get(f"/api/google-contacts/list-contacts?page_size={size}")
    assert resp.status_code == 422
    assert "page_size" in resp.get_json()["errors"]


def test_setup_instructions_shape(client: FlaskClient) -> None:
    body = client.get("/api/google-contacts/setup-instructions").get_json()
    _envelope(body)
    assert body["message"] == "Instructions de configuration Google Contacts"
    data = body["data"]
    assert data["required_files"] == ["data/google_credentials.json"]
    assert data["scopes"] == ["https://www.googleapis.com/auth/contacts"]
    assert data["steps"][0] == {
        "step": 1,
        "title": "Créer un projet Google Cloud",
        "description": "Allez sur https://console.cloud.google.com et créez un nouveau projet",
        "url": "https://console.cloud.google.com",
    }
    assert any("google_credentials.json" in m for m in data["missing"])


def test_setup_instructions_with_credentials(gclient: FlaskClient) -> None:
    ready = gclient.get("/api/google-contacts/setup-instructions").get_json()["data"]
    assert ready["missing"] == ["aucun compte Google connecté (étape 6)"]


def test_sync_to_google_shape(connected: FlaskClient, gfake: FakeService) -> None:
    body = connected.post("/api/google-contacts/sync-to-google/42").get_json()
    assert body == {
        "success": True,
        "message": "Contact created dans Google Contacts",
        "data": {"google_id": "people/c42", "action": "created"},
    }
    assert gfake.calls == [("to_google", 42)]


@pytest.mark.parametrize("google_id", ["people/c123", "c123"])
def test_sync_from_google_shape(connected: FlaskClient, gfake: FakeService, google_id: str) -> None:
    body = connected.post(f"/api/google-contacts/sync-from-google/{google_id}").get_json()
    assert body["success"] is True
    assert body["message"] == "Client created dans ATARYS"
    assert body["data"]["client_id"] == 42
    assert body["data"]["action"] == "created"
    assert gfake.calls == [("from_google", "people/c123")]


def test_sync_from_google_rejects_garbage(connected: FlaskClient, gfake: FakeService) -> None:
    resp = connected.post("/api/google-contacts/sync-from-google/people/c1/../../x")
    assert resp.status_code in (404, 422)
    assert gfake.calls == []


def test_sync_all_shape(connected: FlaskClient, gfake: FakeService) -> None:
    body = connected.post("/api/google-contacts/sync-all").get_json()
    assert body["success"] is True
    assert body["message"] == "Synchronisation complète terminée"
    assert body["data"]["atarys_to_google"]["success"] == 3
    assert body["data"]["atarys_to_google"]["errors"] == 0
    assert body["data"]["google_to_atarys"] == {
        "success": 3,
        "errors": 0,
        "created": 1,
        "updated": 2,
        "deleted": 0,
        "linked": 0,
    }
    assert gfake.calls == [("sync_all", {"dry_run": False, "force": False, "trigger": "api"})]


def test_sync_all_dry_run(connected: FlaskClient, gfake: FakeService) -> None:
    body = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()
    assert body["data"]["dry_run"] is True
    assert body["message"] == "Simulation terminée : aucune modification appliquée"


def test_sync_all_async_answers_202_and_progress(
    connected: FlaskClient, gfake: FakeService
) -> None:
    resp = connected.post("/api/google-contacts/sync-all", json={"async": True})
    assert resp.status_code == 202
    job = resp.get_json()["data"]
    assert job["run_id"].startswith("job-")
    assert resp.headers["Location"].endswith(job["run_id"])
    deadline = time.monotonic() + 10
    while True:
        polled = connected.get(f"/api/google-contacts/runs/{job['run_id']}").get_json()["data"]
        if polled["status"] == "finished" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert polled["status"] == "finished"
    assert polled["progress"] == {"done": 3, "total": 3}
    assert polled["result"]["atarys_to_google"]["success"] == 3
    assert polled["run"] == {"id": 7, "items": []}


def test_sync_all_rejects_unknown_options(connected: FlaskClient, gfake: FakeService) -> None:
    resp = connected.post("/api/google-contacts/sync-all", json={"dry_run": "oui"})
    assert resp.status_code == 422
    assert connected.post("/api/google-contacts/sync-all", json={"x": 1}).status_code == 422
    assert gfake.calls == []


def test_sync_without_google_is_409(client: FlaskClient) -> None:
    for path in ("sync-all", "sync-to-google/1", "sync-from-google/c1"):
        resp = client.post(f"/api/google-contacts/{path}")
        assert resp.status_code == 409, path
        body = resp.get_json()
        assert body["success"] is False
        assert body["data"]["authenticated"] is False


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (errors.AccountBusyError(), 409, "10"),
        (errors.QuotaExceededError(41.5), 429, "41"),
        (errors.GoogleUnavailableError(), 503, "30"),
        (errors.AuthError(), 409, None),
        (errors.MassDeletionError({"google": 50}, ["50 suppressions"]), 409, None),
        (errors.ClientNotFound(9), 404, None),
        (errors.GoogleApiError(400, "BAD", "détail"), 502, None),
    ],
)
def test_engine_errors_become_french_envelopes(
    connected: FlaskClient,
    gfake: FakeService,
    error: Exception,
    status: int,
    retry_after: str | None,
) -> None:
    gfake.raises = error
    resp = connected.post("/api/google-contacts/sync-all")
    assert resp.status_code == status
    body = resp.get_json()
    assert body["success"] is False
    assert body["message"]
    assert resp.headers.get("Retry-After") == retry_after


def test_runs_conflicts_duplicates(connected: FlaskClient, gfake: FakeService) -> None:
    runs = connected.get("/api/google-contacts/runs").get_json()
    assert runs["data"] == [{"id": 7, "status": "finished"}]
    assert connected.get("/api/google-contacts/runs/7").get_json()["data"]["id"] == 7
    assert connected.get("/api/google-contacts/runs/8").status_code == 404
    conflicts = connected.get("/api/google-contacts/conflicts").get_json()
    assert conflicts["message"] == "1 conflit(s) à résoudre"
    resolved = connected.post(
        "/api/google-contacts/conflicts/1/resolve", json={"choice": "google"}
    ).get_json()
    assert resolved["success"] is True
    assert resolved["message"] == "Conflit résolu"
    assert ("resolve", (1, "google", None)) in gfake.calls
    bad = connected.post("/api/google-contacts/conflicts/1/resolve", json={"choice": "value"})
    assert bad.status_code == 422
    assert connected.get("/api/google-contacts/duplicates").get_json()["data"] == []


def test_lists_are_empty_before_any_connection(client: FlaskClient) -> None:
    for path in ("runs", "conflicts", "duplicates"):
        body = client.get(f"/api/google-contacts/{path}").get_json()
        assert body["success"] is True, path
        assert body["data"] == [], path


def test_settings_get_put(connected: FlaskClient, gapp: Flask) -> None:
    body = connected.get("/api/google-contacts/settings").get_json()
    assert body["data"]["conflict_policy"] == "newest"
    assert body["data"]["auto_sync_minutes"] == 60
    changed = connected.put(
        "/api/google-contacts/settings",
        json={"conflict_policy": "manual", "auto_sync_minutes": 15, "phone_region": "be"},
    ).get_json()
    assert changed["data"]["conflict_policy"] == "manual"
    assert changed["data"]["auto_sync_minutes"] == 15
    assert changed["data"]["phone_region"] == "BE"
    bad = connected.put("/api/google-contacts/settings", json={"conflict_policy": "moi"})
    assert bad.status_code == 422
    assert "conflict_policy" in bad.get_json()["errors"]


def test_settings_without_account_is_409(client: FlaskClient) -> None:
    assert client.get("/api/google-contacts/settings").status_code == 409
