"""The seed's seven endpoints: paths, methods, envelope, French messages and data keys.

Everything runs the real sync engine against the emulator: a sync's answer is checked
against what Google (the emulator) and the ATARYS database then really contain, and
each error answer comes from a real condition (emulator faults, the account's run
lock, a revoked grant, contacts deleted in Google, a sync token Google rejects).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.google.connection import stored_token
from atarys.google_contacts import service as engine

from .conftest import hold_account_lock, no_wait

PERSON_FIELDS = "names,emailAddresses,phoneNumbers,addresses,organizations,clientData"


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
    assert "guide de configuration" in body["message"]
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


def _new_client(http: FlaskClient, **fields: str) -> int:
    resp = http.post("/api/clients/", json=fields)
    assert resp.status_code == 201, resp.get_json()
    return int(resp.get_json()["data"]["id"])


def _clients(http: FlaskClient) -> dict[str, dict[str, Any]]:
    """The live ATARYS clients, by e-mail."""
    body = http.get("/api/clients/?per_page=100").get_json()
    assert body["pagination"]["pages"] <= 1
    return {c["email"]: c for c in body["data"]}


def _client_count(http: FlaskClient) -> int:
    return int(http.get("/api/clients/").get_json()["pagination"]["total"])


def _people(people_service: Any) -> dict[str, dict[str, Any]]:
    """Every contact in Google (the emulator), by resourceName."""
    answer = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields=PERSON_FIELDS, pageSize=1000)
        .execute()
    )
    assert "nextPageToken" not in answer
    return {p["resourceName"]: p for p in answer.get("connections", [])}


def _email(person: dict[str, Any]) -> str:
    return str(person["emailAddresses"][0]["value"])


def _new_contact(people_service: Any, given: str, family: str, email: str, **extra: Any) -> str:
    body = {
        "names": [{"givenName": given, "familyName": family}],
        "emailAddresses": [{"value": email}],
        **extra,
    }
    person = people_service.people().createContact(body=body).execute()
    return str(person["resourceName"])


def _runs(http: FlaskClient) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = http.get("/api/google-contacts/runs?limit=100").get_json()["data"]
    return runs


def _writes(emulator: RunningEmulator) -> int:
    """How many write calls the emulator answered so far."""
    methods = emulator.stats()["methods"]
    return sum(n for m, n in methods.items() if "Create" in m or "Update" in m or "Delete" in m)


def test_sync_to_google_shape(connected: FlaskClient, people_service: Any) -> None:
    """The client lands in Google with its fields; a second push changes nothing, an edit updates."""
    client_id = _new_client(
        connected,
        nom="Martin",
        prenom="Anne",
        email="anne.martin@exemple.fr",
        telephone="06 12 34 56 78",
        ville="Lyon",
        entreprise="Menuiserie Martin",
    )
    body = connected.post(f"/api/google-contacts/sync-to-google/{client_id}").get_json()
    google_id = body["data"]["google_id"]
    assert body == {
        "success": True,
        "message": "Contact created dans Google Contacts",
        "data": {"google_id": google_id, "action": "created"},
    }
    people = _people(people_service)
    assert list(people) == [google_id]
    person = people[google_id]
    assert person["names"][0]["givenName"] == "Anne"
    assert person["names"][0]["familyName"] == "Martin"
    assert _email(person) == "anne.martin@exemple.fr"
    assert person["phoneNumbers"][0]["value"] == "+33612345678"
    assert person["addresses"][0]["city"] == "Lyon"
    assert person["organizations"][0]["name"] == "Menuiserie Martin"

    again = connected.post(f"/api/google-contacts/sync-to-google/{client_id}").get_json()
    assert again["data"] == {"google_id": google_id, "action": "unchanged"}
    assert again["message"] == "Contact unchanged dans Google Contacts"

    connected.patch(f"/api/clients/{client_id}", json={"ville": "Grenoble"})
    updated = connected.post(f"/api/google-contacts/sync-to-google/{client_id}").get_json()
    assert updated["data"] == {"google_id": google_id, "action": "updated"}
    assert updated["message"] == "Contact updated dans Google Contacts"
    people = _people(people_service)
    assert list(people) == [google_id]
    assert people[google_id]["addresses"][0]["city"] == "Grenoble"


def test_sync_to_google_unknown_client_is_404(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    resp = connected.post("/api/google-contacts/sync-to-google/999999")
    assert resp.status_code == 404
    assert resp.get_json() == {
        "success": False,
        "message": "Client 999999 introuvable.",
        "data": None,
    }
    assert _writes(emulator) == 0


@pytest.mark.parametrize("short", [False, True])
def test_sync_from_google_shape(connected: FlaskClient, people_service: Any, short: bool) -> None:
    """Both ``people/c…`` and ``c…`` import the contact as a new client with its fields."""
    google_id = _new_contact(
        people_service,
        "Paul",
        "Lefèvre",
        "paul.lefevre@exemple.fr",
        phoneNumbers=[{"value": "+33 4 78 00 00 00"}],
        addresses=[{"city": "Annecy", "postalCode": "74000"}],
    )
    path = google_id.removeprefix("people/") if short else google_id
    body = connected.post(f"/api/google-contacts/sync-from-google/{path}").get_json()
    assert body["success"] is True, body
    assert body["message"] == "Client created dans ATARYS"
    assert body["data"]["action"] == "created"
    client_id = body["data"]["client_id"]
    assert isinstance(client_id, int)
    client = connected.get(f"/api/clients/{client_id}").get_json()["data"]
    assert (client["prenom"], client["nom"]) == ("Paul", "Lefèvre")
    assert client["email"] == "paul.lefevre@exemple.fr"
    assert client["telephone"] == "+33478000000"
    assert (client["ville"], client["code_postal"]) == ("Annecy", "74000")
    assert list(_clients(connected)) == ["paul.lefevre@exemple.fr"]

    again = connected.post(f"/api/google-contacts/sync-from-google/{path}").get_json()
    assert (again["data"]["client_id"], again["data"]["action"]) == (client_id, "unchanged")
    assert len(_clients(connected)) == 1


def test_sync_from_google_unknown_contact_is_404(connected: FlaskClient) -> None:
    resp = connected.post("/api/google-contacts/sync-from-google/c999999")
    assert resp.status_code == 404
    assert resp.get_json()["message"] == "Contact Google people/c999999 introuvable."
    assert _clients(connected) == {}


def test_sync_from_google_rejects_garbage(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    emulator.reset_stats()
    resp = connected.post("/api/google-contacts/sync-from-google/people/c1/../../x")
    assert resp.status_code in (404, 422)
    assert emulator.stats()["requests"] == 0  # Google was not even asked
    assert _clients(connected) == {}


def test_sync_all_shape(connected: FlaskClient, people_service: Any) -> None:
    """Two clients go to Google, three contacts come to ATARYS: the counts say so, both sides agree."""
    for name in ("Durand", "Petit"):
        _new_client(connected, nom=name, email=f"{name.lower()}@exemple.fr")
    for given, family in (("Léa", "Roux"), ("Marc", "Blanc"), ("Inès", "Faure")):
        _new_contact(people_service, given, family, f"{given.lower()}@exemple.fr")

    body = connected.post("/api/google-contacts/sync-all").get_json()
    assert body["success"] is True, body
    assert body["message"] == "Synchronisation complète terminée"
    data = body["data"]
    assert data["dry_run"] is False
    assert data["atarys_to_google"] == {
        "success": 2,
        "errors": 0,
        "created": 2,
        "updated": 0,
        "deleted": 0,
        "linked": 0,
        "unlinked": 0,
    }
    assert data["google_to_atarys"] == {
        "success": 3,
        "errors": 0,
        "created": 3,
        "updated": 0,
        "deleted": 0,
        "linked": 0,
        "unlinked": 0,
    }
    emails = {"durand@exemple.fr", "petit@exemple.fr", "léa@exemple.fr", "marc@exemple.fr"}
    emails.add("inès@exemple.fr")
    people = _people(people_service)
    assert {_email(p) for p in people.values()} == emails
    assert len(people) == 5
    clients = _clients(connected)
    assert set(clients) == emails
    assert (clients["marc@exemple.fr"]["prenom"], clients["marc@exemple.fr"]["nom"]) == (
        "Marc",
        "Blanc",
    )
    runs = _runs(connected)
    assert runs[0]["id"] == data["run_id"]
    assert runs[0]["trigger"] == "api"

    # Everything is in step: the next run has nothing to do.
    second = connected.post("/api/google-contacts/sync-all").get_json()["data"]
    for side in ("atarys_to_google", "google_to_atarys"):
        assert second[side]["success"] == second[side]["errors"] == 0
    assert len(_people(people_service)) == 5
    assert len(_clients(connected)) == 5


def test_sync_all_dry_run(
    connected: FlaskClient, people_service: Any, emulator: RunningEmulator
) -> None:
    _new_client(connected, nom="Garnier", email="garnier@exemple.fr")
    _new_contact(people_service, "Zoé", "Morel", "zoe@exemple.fr")
    _new_contact(people_service, "Hugo", "Girard", "hugo@exemple.fr")
    writes = _writes(emulator)

    body = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()
    assert body["success"] is True
    assert body["message"] == "Simulation terminée : aucune modification appliquée"
    assert body["data"]["dry_run"] is True
    plan = body["data"]["plan"]
    assert sorted(p["direction"] for p in plan) == [
        "atarys_to_google",
        "google_to_atarys",
        "google_to_atarys",
    ]
    assert {p["to_atarys"]["email"]["after"] for p in plan if p["to_atarys"]} == {
        "zoe@exemple.fr",
        "hugo@exemple.fr",
    }
    assert _writes(emulator) == writes
    assert len(_people(people_service)) == 2
    assert list(_clients(connected)) == ["garnier@exemple.fr"]


def _poll(http: FlaskClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        data: dict[str, Any] = http.get(f"/api/google-contacts/runs/{job_id}").get_json()["data"]
        if data["status"] in ("finished", "failed") or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def test_sync_all_async_answers_202_and_progress(
    connected: FlaskClient, emulator: RunningEmulator, people_service: Any
) -> None:
    emulator.seed(12, random_seed=4)
    _new_client(connected, nom="Lambert", email="lambert@exemple.fr")
    resp = connected.post("/api/google-contacts/sync-all", json={"async": True})
    assert resp.status_code == 202
    job = resp.get_json()["data"]
    assert isinstance(job["run_id"], int)  # the run's own id: its row is the job
    assert resp.headers["Location"].endswith(f"/runs/{job['run_id']}")

    polled = _poll(connected, job["run_id"])
    assert polled["status"] == "finished", polled
    result = polled["result"]
    assert result["atarys_to_google"]["created"] == 1
    assert result["atarys_to_google"]["errors"] == 0
    assert result["google_to_atarys"]["errors"] == 0
    imported = result["google_to_atarys"]["created"]
    assert polled["progress"]["total"] >= 13
    assert polled["progress"]["done"] == polled["progress"]["total"]
    assert polled["run"]["id"] == polled["engine_run_id"] == result["run_id"]
    assert len(_people(people_service)) == 13
    assert _client_count(connected) == 1 + imported


def test_sync_all_rejects_unknown_options(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    emulator.reset_stats()
    resp = connected.post("/api/google-contacts/sync-all", json={"dry_run": "oui"})
    assert resp.status_code == 422
    assert "dry_run" in resp.get_json()["errors"]
    assert connected.post("/api/google-contacts/sync-all", json={"x": 1}).status_code == 422
    assert emulator.stats()["requests"] == 0
    assert _runs(connected) == []


def test_sync_without_google_is_409(client: FlaskClient) -> None:
    for path in ("sync-all", "sync-to-google/1", "sync-from-google/c1"):
        resp = client.post(f"/api/google-contacts/{path}")
        assert resp.status_code == 409, path
        body = resp.get_json()
        assert body["success"] is False
        assert body["data"]["authenticated"] is False


def _refused(resp: Any, status: int, reason: str, retry_after: str | None) -> dict[str, Any]:
    """An error envelope in French with this status, ``data.reason`` and ``Retry-After``."""
    assert resp.status_code == status, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    assert body["success"] is False
    assert body["data"]["reason"] == reason
    assert resp.headers.get("Retry-After") == retry_after
    return body


def test_busy_account_is_409_with_retry_after(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Another process holds the account's run lock: refused, and nothing is written."""
    client_id = _new_client(connected, nom="Occupé", email="occupe@exemple.fr")
    hold_account_lock(gapp)
    no_wait(gapp)  # past the (bounded) wait for the other run, still busy
    for path in ("sync-all", f"sync-to-google/{client_id}"):
        body = _refused(connected.post(f"/api/google-contacts/{path}"), 409, "busy", "10")
        assert body["message"] == (
            "Une synchronisation est déjà en cours pour ce compte : réessayez dans un instant."
        )
    assert _writes(emulator) == 0
    assert _runs(connected) == []


def test_quota_exhausted_is_429_with_retry_after(
    connected: FlaskClient, emulator: RunningEmulator, people_service: Any
) -> None:
    """Google's read quota is used up: 429 with Google's delay (60 s), nothing imported."""
    _new_contact(people_service, "Noé", "Perrin", "noe@exemple.fr")
    emulator.set_faults(quota={"critical_read": 0})
    body = _refused(connected.post("/api/google-contacts/sync-all"), 429, "quota", "60")
    assert body["data"]["retry_after"] == 60
    assert body["message"] == "Quota de l'API Google dépassé : réessayez dans 60 s."
    assert _clients(connected) == {}

    emulator.set_faults(quota={})
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    assert list(_clients(connected)) == ["noe@exemple.fr"]


def test_google_down_is_503_then_a_blip_is_retried(
    connected: FlaskClient, emulator: RunningEmulator, people_service: Any
) -> None:
    """Google answers only 503: refused with Retry-After; a short outage is absorbed by retries."""
    client_id = _new_client(connected, nom="Panne", email="panne@exemple.fr")
    emulator.set_faults(error_rate=1.0, error_codes=[503])
    for path in ("sync-all", f"sync-to-google/{client_id}"):
        body = _refused(
            connected.post(f"/api/google-contacts/{path}"), 503, "google_unavailable", "30"
        )
        assert body["message"] == (
            "Google Contacts est momentanément indisponible : réessayez plus tard."
        )
    assert emulator.stats()["errors"]["UNAVAILABLE"] > 2  # each call was retried first

    emulator.set_faults(error_rate=0.0, fail_next=2, fail_next_code=503)
    body = connected.post("/api/google-contacts/sync-all").get_json()
    assert body["success"] is True, body
    assert body["data"]["atarys_to_google"]["created"] == 1
    assert [_email(p) for p in _people(people_service).values()] == ["panne@exemple.fr"]


def test_revoked_grant_is_409_not_connected(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """The user revoked ATARYS in their Google account: 409 (not 401), reconnect needed."""
    _new_client(connected, nom="Révoqué", email="revoque@exemple.fr")
    token = stored_token(gapp)
    assert token is not None
    assert requests.post(emulator.url + "revoke", data={"token": token.refresh_token}, timeout=5).ok
    resp = connected.post("/api/google-contacts/sync-all")
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["success"] is False
    assert body["data"]["authenticated"] is False
    assert "reconnectez" in body["message"]
    assert _writes(emulator) == 0


def test_mass_deletion_is_409_until_forced(connected: FlaskClient, people_service: Any) -> None:
    """11 of 12 linked contacts deleted in Google: refused with counts; ``force`` applies it."""
    for i in range(12):
        _new_client(connected, nom=f"Client{i}", email=f"c{i}@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    people = _people(people_service)
    doomed = sorted(rn for rn, p in people.items() if _email(p) != "c0@exemple.fr")
    people_service.people().batchDeleteContacts(body={"resourceNames": doomed}).execute()

    resp = connected.post("/api/google-contacts/sync-all")
    body = _refused(resp, 409, "mass_deletion", None)
    assert body["data"]["counts"] == {"google": 0, "atarys": 11, "linked": 12}
    assert body["data"]["reasons"]
    assert "11 clients ATARYS seraient supprimés" in body["message"]
    assert "Aperçu" in body["message"]
    assert "force" not in body["message"]
    assert len(_clients(connected)) == 12  # nothing deleted

    forced = connected.post("/api/google-contacts/sync-all", json={"force": True}).get_json()
    assert forced["success"] is True, forced
    assert forced["data"]["google_to_atarys"]["deleted"] == 11
    assert list(_clients(connected)) == ["c0@exemple.fr"]


def test_a_refused_sync_token_costs_one_full_listing(gapp: Flask, connected: FlaskClient) -> None:
    """Google rejects the stored sync token as invalid (400, not "expired"): the sync drops
    it and lists everything once, instead of failing at every run."""
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    with gapp.app_context():
        account = engine.resolve_account(gapp)
        assert account is not None
        account.sync_token = "pas-un-jeton"
        db.session.commit()
        db.session.remove()
    body = connected.post("/api/google-contacts/sync-all").get_json()
    assert body["success"] is True
    assert body["data"]["full_listing"] is True


def test_unexpected_google_answer_is_502(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Google answers a request with an unexpected 400: a 502 that says so, nothing lost."""
    client_id = _new_client(connected, nom="Martin", email="martin@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    connected.patch(f"/api/clients/{client_id}", json={"ville": "Lyon"})
    emulator.set_faults(fail_next=50, fail_next_code=400)
    resp = connected.post(f"/api/google-contacts/sync-to-google/{client_id}")
    assert resp.status_code in (502, 503)
    body = resp.get_json()
    assert body["success"] is False
    assert "Google" in body["message"]
    assert "réessayez" in body["message"] or "inattendue" in body["message"]


def _conflict(connected: FlaskClient, people_service: Any) -> int:
    """A client and its contact both change ``ville`` under the manual policy: its id."""
    client_id = _new_client(connected, nom="Conflit", email="conflit@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    connected.put("/api/google-contacts/settings", json={"conflict_policy": "manual"})
    connected.patch(f"/api/clients/{client_id}", json={"ville": "Lyon"})
    google_id = next(iter(_people(people_service)))
    person = people_service.people().get(resourceName=google_id, personFields="metadata").execute()
    people_service.people().updateContact(
        resourceName=google_id,
        updatePersonFields="addresses",
        body={"etag": person["etag"], "addresses": [{"city": "Nantes"}]},
    ).execute()
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    return client_id


def test_runs_conflicts_duplicates(connected: FlaskClient, people_service: Any) -> None:
    client_id = _conflict(connected, people_service)
    for given in ("Premier", "Second"):  # two Google contacts with one client's e-mail
        _new_contact(people_service, given, "Jumeau", "jumeau@exemple.fr")
    _new_client(connected, nom="Jumeau", email="jumeau@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True

    runs = connected.get("/api/google-contacts/runs").get_json()
    assert runs["success"] is True
    assert [r["trigger"] for r in runs["data"]] == ["api", "api", "api"]
    newest = runs["data"][0]["id"]
    detail = connected.get(f"/api/google-contacts/runs/{newest}").get_json()["data"]
    assert detail["id"] == newest
    assert isinstance(detail["items"], list)
    missing = connected.get("/api/google-contacts/runs/999999")
    assert missing.status_code == 404
    assert missing.get_json()["success"] is False

    conflicts = connected.get("/api/google-contacts/conflicts").get_json()
    assert conflicts["message"] == "1 conflit(s) à résoudre"
    [conflict] = conflicts["data"]
    assert conflict["field"] == "ville"
    bad = connected.post(
        f"/api/google-contacts/conflicts/{conflict['id']}/resolve", json={"choice": "value"}
    )
    assert bad.status_code == 422
    resolved = connected.post(
        f"/api/google-contacts/conflicts/{conflict['id']}/resolve", json={"choice": "google"}
    ).get_json()
    assert resolved["success"] is True
    assert resolved["message"] == "Conflit résolu"
    assert connected.get(f"/api/clients/{client_id}").get_json()["data"]["ville"] == "Nantes"
    assert connected.get("/api/google-contacts/conflicts").get_json()["data"] == []
    # a decided conflict can be switched back to the other value (for 30 days)
    again = connected.post(
        f"/api/google-contacts/conflicts/{conflict['id']}/resolve", json={"choice": "atarys"}
    )
    assert again.status_code == 200
    assert connected.get(f"/api/clients/{client_id}").get_json()["data"]["ville"] == "Lyon"
    unknown = connected.post(
        "/api/google-contacts/conflicts/999999/resolve", json={"choice": "google"}
    )
    assert unknown.status_code == 404

    duplicates = connected.get("/api/google-contacts/duplicates").get_json()["data"]
    assert len(duplicates) == 1
    # Reported, never merged: both contacts are still in Google.
    jumeaux = [p for p in _people(people_service).values() if _email(p) == "jumeau@exemple.fr"]
    assert len(jumeaux) == 2


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
