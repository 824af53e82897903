"""Several Google accounts through the API: connecting a second one (``login_hint``), the
accounts list, one account's settings and filter, ``?account=``, disconnecting one; bad
input and unknown accounts answered in French."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.models import Client, GoogleAccount

from .conftest import GOOGLE_USER, connect_account, connect_google

SECOND = "chantier@example.com"


def two_accounts(client: FlaskClient) -> dict[str, dict[str, Any]]:
    assert connect_google(client)["location"].endswith("google=connected")
    connect_account(client, SECOND)
    accounts = client.get("/api/google-contacts/accounts").get_json()["data"]["accounts"]
    return {a["email"]: a for a in accounts}


def test_a_second_account_connects_and_both_are_listed(
    gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator
) -> None:
    accounts = two_accounts(gclient)
    assert set(accounts) == {"demo@example.com", SECOND}
    second = accounts[SECOND]
    assert second["mode"] == "oauth"
    assert second["connected"] is True
    assert second["state"] == "first_sync_pending"  # connecting writes nothing
    assert second["last_run"] is None
    assert second["client_filter"] is None
    assert second["linked_count"] == 0
    assert second["settings"]["account"] == SECOND
    assert second["settings"]["conflict_policy"] == "newest"
    answer = gclient.get("/api/google-contacts/accounts").get_json()
    assert answer["message"] == "2 compte(s) Google relié(s), dont 2 connecté(s)"


def test_filters_and_syncing_every_account(
    gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator
) -> None:
    accounts = two_accounts(gclient)
    second = accounts[SECOND]
    with gapp.app_context():
        db.session.add_all(
            [Client(nom="Abel", ville="Lyon", tag="chantier"), Client(nom="Brun", ville="Paris")]
        )
        db.session.commit()
    answer = gclient.put(
        f"/api/google-contacts/accounts/{second['id']}",
        json={"client_filter": {"tag": "Chantier"}, "import_scope": "all"},
    )
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert body["data"]["client_filter"] == {"tag": "Chantier"}
    assert body["data"]["settings"]["import_scope"] == "all"
    assert "nouveau filtre" in body["message"]

    # several accounts, no ?account=: sync-all syncs each, one after another
    run = gclient.post("/api/google-contacts/sync-all", json={}).get_json()
    assert run["success"] is True, run
    assert run["message"] == "Synchronisation complète terminée pour 2 comptes"
    by_email = {r["account"]: r for r in run["data"]["accounts"]}
    assert by_email[SECOND]["result"]["atarys_to_google"]["created"] == 1
    assert by_email["demo@example.com"]["result"]["atarys_to_google"]["created"] == 2

    # list-contacts answers for all, each contact saying whose phone it is on
    listed = gclient.get("/api/google-contacts/list-contacts").get_json()
    whose = sorted((c["account"], c["nom"]) for c in listed["data"])
    assert whose == [
        ("chantier@example.com", "Abel"),
        ("demo@example.com", "Abel"),
        ("demo@example.com", "Brun"),
    ]
    one = gclient.get(f"/api/google-contacts/list-contacts?account={SECOND}").get_json()
    assert [c["nom"] for c in one["data"]] == ["Abel"]

    # status: the first account on top (as before), every account in data.accounts
    status = gclient.get("/api/google-contacts/status").get_json()["data"]
    assert status["account"] == "demo@example.com"
    assert {a["email"]: a["linked_count"] for a in status["accounts"]} == {
        "demo@example.com": 2,
        SECOND: 1,
    }
    status = gclient.get(f"/api/google-contacts/status?account={SECOND}").get_json()["data"]
    assert status["account"] == SECOND
    assert status["last_run"]["status"] == "success"
    runs = gclient.get(f"/api/google-contacts/runs?account={SECOND}").get_json()
    assert runs["pagination"]["total"] == 1
    settings = gclient.get(f"/api/google-contacts/settings?account={SECOND}").get_json()
    assert settings["data"]["import_scope"] == "all"


def test_bad_input_and_unknown_accounts_in_french(
    gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator
) -> None:
    accounts = two_accounts(gclient)
    second = accounts[SECOND]
    url = f"/api/google-contacts/accounts/{second['id']}"
    bad = gclient.put(url, json={"client_filter": {"code_postal": "69<script>"}})
    assert bad.status_code == 422
    assert bad.get_json()["message"] == "Données invalides."
    assert "client_filter.code_postal" in bad.get_json()["errors"]
    bad = gclient.put(url, json={"client_filter": {"quartier": "Vaise"}})
    assert bad.status_code == 422
    assert "client_filter.quartier" in bad.get_json()["errors"]
    bad = gclient.put(url, json={"conflict_policy": "au hasard"})
    assert bad.status_code == 422
    assert "conflict_policy" in bad.get_json()["errors"]
    bad = gclient.post("/api/google-contacts/auth", json={"login_hint": "pas une adresse"})
    assert bad.status_code == 422
    assert "login_hint" in bad.get_json()["errors"]
    with gapp.app_context():
        account = db.session.get(GoogleAccount, second["id"])
        assert account is not None
        assert account.client_filter is None  # nothing changed
    for path in ("status", "list-contacts", "runs", "settings", "conflicts", "trash"):
        answer = gclient.get(f"/api/google-contacts/{path}?account=inconnu@example.com")
        assert answer.status_code == 404, path
        body = answer.get_json()
        assert body["success"] is False
        assert "Aucun compte Google « inconnu@example.com »" in body["message"]
        assert body["errors"] == {"account": "Compte Google inconnu."}
    missing = gclient.put("/api/google-contacts/accounts/999999", json={})
    assert missing.status_code == 404
    assert "rechargez la liste" in missing.get_json()["message"]
    with gapp.app_context():
        rows = db.session.scalars(select(GoogleAccount.email)).all()
        assert "inconnu@example.com" not in rows  # an unknown account is never created


def test_an_admin_disconnects_one_account_and_keeps_its_history(
    gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator
) -> None:
    from atarys.api.auth import create_token
    from atarys.models import User

    accounts = two_accounts(gclient)
    second = accounts[SECOND]
    with gapp.app_context():
        user = db.session.scalars(select(User).where(User.username == GOOGLE_USER)).one()
        writer = create_token(db.session, "bureau", user, scopes=["read", "write"])
        db.session.remove()
    refused = gapp.test_client().delete(
        f"/api/google-contacts/accounts/{second['id']}",
        headers={"Authorization": f"Bearer {writer}"},
    )
    assert refused.status_code == 403
    assert "administrateur" in refused.get_json()["message"]

    answer = gclient.delete(f"/api/google-contacts/accounts/{second['id']}")
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert body["data"] == {"disconnected": True, "revoked": True, "account": SECOND}
    assert body["message"] == f"Compte {SECOND} déconnecté : son historique est conservé"
    listed = gclient.get("/api/google-contacts/accounts").get_json()["data"]["accounts"]
    states = {a["email"]: a["state"] for a in listed}
    assert states == {"demo@example.com": "first_sync_pending", SECOND: "disconnected"}
    # the other account still works, and the seed's endpoints answer for it
    status = gclient.get("/api/google-contacts/status").get_json()["data"]
    assert status["account"] == "demo@example.com"
    assert status["authenticated"] is True


def test_background_sync_all_starts_one_job_per_account(
    gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator
) -> None:
    import threading
    import time

    two_accounts(gclient)
    with gapp.app_context():
        db.session.add(Client(nom="Abel", ville="Lyon"))
        db.session.commit()
    resp = gclient.post("/api/google-contacts/sync-all", json={"async": True})
    body = resp.get_json()
    assert resp.status_code == 202, body
    assert body["message"] == "Synchronisation de 2 comptes lancée en arrière-plan"
    jobs = {j["account"]: j for j in body["data"]["jobs"]}
    assert set(jobs) == {"demo@example.com", SECOND}
    for email, job in jobs.items():
        deadline = time.monotonic() + 30
        while True:
            data = gclient.get(job["location"]).get_json()["data"]
            if data["status"] in ("finished", "failed"):
                break
            assert time.monotonic() < deadline, f"{email}: still running"
            time.sleep(0.1)
        assert data["status"] == "finished", (email, data)
        assert data["result"]["atarys_to_google"]["created"] == 1
    for thread in threading.enumerate():  # their sessions closed before the app goes away
        if thread.name == "sync-all":
            thread.join(10)


def test_clients_carry_a_tag_that_search_finds(gclient: FlaskClient) -> None:
    created = gclient.post("/api/clients/", json={"nom": "Abel", "tag": "Chantier Vaise"})
    assert created.status_code == 201, created.get_json()
    client_id = created.get_json()["data"]["id"]
    assert created.get_json()["data"]["tag"] == "Chantier Vaise"
    found = gclient.get("/api/clients/?q=vaise").get_json()["data"]
    assert [c["id"] for c in found] == [client_id]
    patched = gclient.patch(f"/api/clients/{client_id}", json={"tag": "bureau"})
    assert patched.get_json()["data"]["tag"] == "bureau"
    too_long = gclient.patch(f"/api/clients/{client_id}", json={"tag": "x" * 101})
    assert too_long.status_code == 422
    assert too_long.get_json()["errors"] == {"tag": "Trop long : 100 caractères au maximum."}


def test_a_filter_that_takes_contacts_off_a_phone_waits_for_a_persons_confirmation(
    gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator
) -> None:
    """Narrowing a phone's filter names who would leave it and saves nothing until
    confirmed; once confirmed, the next run takes them off that phone (not a mass
    deletion to refuse) and every client stays in ATARYS."""
    accounts = two_accounts(gclient)
    second = accounts[SECOND]
    with gapp.app_context():
        db.session.add_all(
            [Client(nom="Abel", ville="Lyon", tag="chantier")]
            + [Client(nom=f"Nord{i:02d}", ville="Lille", tag="chantier") for i in range(30)]
        )
        db.session.commit()
    url = f"/api/google-contacts/accounts/{second['id']}"
    body = gclient.put(url, json={"client_filter": {"tag": "chantier"}}).get_json()
    assert body["success"] is True, body  # nothing linked yet: nothing leaves
    run = gclient.post(f"/api/google-contacts/sync-all?account={SECOND}", json={}).get_json()
    assert run["data"]["atarys_to_google"]["created"] == 31, run

    asked = gclient.put(url, json={"client_filter": {"tag": "chantier", "ville": "Lyon"}})
    body = asked.get_json()
    assert asked.status_code == 409, body
    assert body["data"]["reason"] == "filter_removes"
    assert body["data"]["leaving"] == 30
    assert body["message"].startswith(
        f"Avec ce filtre, 30 contacts quitteront le téléphone de {SECOND}"
    )
    assert "NORD00" in body["message"]
    assert "Rien n'est enregistré" in body["message"]
    with gapp.app_context():
        account = db.session.get(GoogleAccount, second["id"])
        assert account is not None
        assert account.client_filter == {"tag": "chantier"}  # unchanged

    confirmed = gclient.put(
        url, json={"client_filter": {"tag": "chantier", "ville": "Lyon"}, "confirm_removals": True}
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    run = gclient.post(f"/api/google-contacts/sync-all?account={SECOND}", json={}).get_json()
    assert run["success"] is True, run  # 30 of 31 leave the phone: no breaker
    assert run["data"]["atarys_to_google"]["deleted"] == 30
    with gapp.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Client).where(Client.deleted_at.is_(None))
            )
            == 31
        )
