"""A sync a company can trust: preview, then apply exactly what was previewed (issue 14)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.models import SyncPlan, utcnow

from .conftest import wait_run

WRITES = ("people.batchCreateContacts", "people.batchUpdateContacts", "people.batchDeleteContacts")


def _writes(emulator: RunningEmulator) -> int:
    methods = emulator.stats()["methods"]
    return sum(v for k, v in methods.items() if any(k.endswith(w.split(".")[-1]) for w in WRITES))


def _client(http: FlaskClient, nom: str, email: str) -> int:
    made = http.post("/api/clients/", json={"nom": nom, "email": email})
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["data"]["id"])


def test_apply_writes_exactly_the_preview_once(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Aperçu lists three new clients by name and writes nothing; Appliquer writes those
    three, once; a second Appliquer is refused."""
    for nom in ("Martin", "Dubois", "Leroy"):
        _client(connected, nom, f"{nom.lower()}@exemple.fr")
    before = _writes(emulator)
    preview = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()
    assert preview["success"] is True
    data = preview["data"]
    names = sorted(item["name"] for item in data["plan"])
    assert names == ["DUBOIS", "LEROY", "MARTIN"]
    assert _writes(emulator) == before  # the preview wrote nothing
    plan_id = data["plan_id"]
    applied = connected.post(f"/api/google-contacts/plans/{plan_id}/apply").get_json()
    assert applied["success"] is True, applied
    assert applied["data"]["atarys_to_google"]["created"] == 3
    assert applied["data"]["changed_since_preview"] == []
    again = connected.post(f"/api/google-contacts/plans/{plan_id}/apply")
    assert again.status_code == 409
    assert "déjà été appliqué" in again.get_json()["message"]
    # what was previewed is now true: a new preview has nothing left to do
    after = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()
    assert after["data"]["plan"] == []


def test_an_item_changed_after_the_preview_is_reported_not_applied(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Two clients previewed; one is edited before Appliquer: the other is written, the edited
    one is listed under changed_since_preview, and the next sync carries its new value."""
    first = _client(connected, "Martin", "martin@exemple.fr")
    _client(connected, "Dubois", "dubois@exemple.fr")
    plan_id = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()[
        "data"
    ]["plan_id"]
    assert connected.patch(f"/api/clients/{first}", json={"ville": "Lyon"}).status_code == 200
    applied = connected.post(f"/api/google-contacts/plans/{plan_id}/apply").get_json()
    assert applied["data"]["atarys_to_google"]["created"] == 1
    changed = applied["data"]["changed_since_preview"]
    assert [c["name"] for c in changed] == ["MARTIN"]
    assert "1 élément" in applied["message"]
    nxt = connected.post("/api/google-contacts/sync-all").get_json()["data"]
    assert nxt["atarys_to_google"]["created"] == 1  # Martin, with Lyon, now


def test_a_preview_applied_in_the_background_is_a_job_to_follow(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """``{"async": true}``: the answer comes at once (202, the run to follow); a second
    click follows the same job; the run ends with what the synchronous answer says,
    including the items changed since the preview, by name."""
    first = _client(connected, "Martin", "martin@exemple.fr")
    for nom in ("Dubois", "Leroy"):
        _client(connected, nom, f"{nom.lower()}@exemple.fr")
    plan_id = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()[
        "data"
    ]["plan_id"]
    assert connected.patch(f"/api/clients/{first}", json={"ville": "Lyon"}).status_code == 200
    url = f"/api/google-contacts/plans/{plan_id}/apply"
    started = connected.post(url, json={"async": True})
    body = started.get_json()
    assert started.status_code in (200, 202), body
    run_id = body["data"]["run_id"]
    assert started.headers["Location"].startswith(f"/api/google-contacts/runs/{run_id}")
    job = wait_run(connected, run_id, lambda j: j["status"] in ("finished", "failed"))
    assert job["status"] == "finished", job
    assert job["run"]["trigger"] == "apply"
    assert job["result"]["atarys_to_google"]["created"] == 2
    assert [c["name"] for c in job["result"]["changed_since_preview"]] == ["MARTIN"]
    again = connected.post(url, json={"async": True})
    assert again.status_code == 409
    assert "déjà été appliqué" in again.get_json()["message"]
    missing = connected.post(
        "/api/google-contacts/plans/0123456789abcdef/apply", json={"async": True}
    )
    assert missing.status_code == 404


def test_an_old_preview_cannot_be_applied(gapp: Flask, connected: FlaskClient) -> None:
    """A preview older than 30 minutes answers 410 with what to do; an unknown one 404."""
    _client(connected, "Martin", "martin@exemple.fr")
    plan_id = connected.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()[
        "data"
    ]["plan_id"]
    with gapp.app_context():
        db.session.execute(
            update(SyncPlan)
            .where(SyncPlan.id == plan_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        db.session.remove()
    expired = connected.post(f"/api/google-contacts/plans/{plan_id}/apply")
    assert expired.status_code == 410
    assert "refaites un aperçu" in expired.get_json()["message"]
    missing = connected.post("/api/google-contacts/plans/0123456789abcdef/apply")
    assert missing.status_code == 404
    body: dict[str, Any] = missing.get_json()
    assert body["success"] is False


def test_a_contact_deleted_by_the_sync_comes_back_whole_from_the_trash(
    connected: FlaskClient, people_service: Any
) -> None:
    """A client deleted in ATARYS deletes its contact; the trash keeps every field (a
    birthday, a note, a second e-mail) and « Restaurer » brings the contact back whole."""
    client_id = _client(connected, "Martin", "martin@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    rn = connected.get(f"/api/google-contacts/links?client_ids={client_id}").get_json()["data"][0][
        "resource_name"
    ]
    person = people_service.people().get(resourceName=rn, personFields="names,metadata").execute()
    people_service.people().updateContact(
        resourceName=rn,
        updatePersonFields="birthdays,biographies,emailAddresses",
        body={
            "etag": person["etag"],
            "birthdays": [{"date": {"year": 1980, "month": 5, "day": 17}}],
            "biographies": [{"value": "Préfère être appelé le matin"}],
            "emailAddresses": [{"value": "martin@exemple.fr"}, {"value": "jm@maison.fr"}],
        },
    ).execute()
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    assert connected.delete(f"/api/clients/{client_id}").status_code in (200, 204)
    synced = connected.post("/api/google-contacts/sync-all").get_json()
    assert synced["data"]["atarys_to_google"]["deleted"] == 1
    trash = connected.get("/api/google-contacts/trash").get_json()["data"]
    assert [t["name"] for t in trash] == ["MARTIN"]
    restored = connected.post(f"/api/google-contacts/trash/{trash[0]['id']}/restore").get_json()
    assert restored["success"] is True, restored
    back = (
        people_service.people()
        .get(
            resourceName=restored["data"]["google_id"],
            personFields="names,birthdays,biographies,emailAddresses",
        )
        .execute()
    )
    assert back["birthdays"][0]["date"] == {"year": 1980, "month": 5, "day": 17}
    assert back["biographies"][0]["value"] == "Préfère être appelé le matin"
    assert {e["value"] for e in back["emailAddresses"]} == {"martin@exemple.fr", "jm@maison.fr"}
    assert connected.get("/api/google-contacts/trash").get_json()["data"] == []


def test_a_new_account_has_safe_defaults(
    fresh_connection: FlaskClient, emulator: RunningEmulator
) -> None:
    """Connecting a phone full of personal contacts imports none of them: only the contacts
    in the "ATARYS" label come in (the first sync shows what it would do first)."""
    emulator.seed(12, random_seed=3)  # a person's own address book
    settings = fresh_connection.get("/api/google-contacts/settings").get_json()["data"]
    assert (
        settings["import_scope"],
        settings["google_deletions"],
        settings["atarys_deletions"],
    ) == (
        "group",
        "unlink",
        "propagate",
    )
    _client(fresh_connection, "Martin", "martin@exemple.fr")
    preview = fresh_connection.post("/api/google-contacts/sync-all", json={"dry_run": True})
    items = preview.get_json()["data"]["plan"]
    assert [(i["action"], i["name"]) for i in items] == [("create_google", "MARTIN")]
    applied = fresh_connection.post(
        f"/api/google-contacts/plans/{preview.get_json()['data']['plan_id']}/apply"
    ).get_json()["data"]
    assert applied["google_to_atarys"]["created"] == 0
    clients = fresh_connection.get("/api/clients/?per_page=100").get_json()["data"]
    assert [c["nom"] for c in clients] == ["Martin"]


def test_a_contact_deleted_on_a_phone_keeps_its_client_out_of_the_sync(
    fresh_connection: FlaskClient, people_service: Any
) -> None:
    """Default "unlink": the client stays in ATARYS, is not re-created in Google over three
    runs (counted as dissocié), and comes back once a person turns its sync on again."""
    client_id = _client(fresh_connection, "Martin", "martin@exemple.fr")
    assert fresh_connection.post("/api/google-contacts/sync-all").get_json()["success"] is True
    rn = fresh_connection.get(f"/api/google-contacts/links?client_ids={client_id}").get_json()[
        "data"
    ][0]["resource_name"]
    people_service.people().deleteContact(resourceName=rn).execute()
    first = fresh_connection.post("/api/google-contacts/sync-all").get_json()["data"]
    assert first["google_to_atarys"]["unlinked"] == 1
    assert fresh_connection.get(f"/api/clients/{client_id}").status_code == 200
    for _ in range(3):
        again = fresh_connection.post("/api/google-contacts/sync-all").get_json()["data"]
        assert again["atarys_to_google"]["created"] == 0
    resumed = fresh_connection.post(f"/api/google-contacts/links/{client_id}/resume").get_json()
    assert resumed["data"]["resumed"] is True
    back = fresh_connection.post("/api/google-contacts/sync-all").get_json()["data"]
    assert back["atarys_to_google"]["created"] == 1


def _person(people_service: Any, rn: str) -> dict[str, Any]:
    result: dict[str, Any] = (
        people_service.people()
        .get(resourceName=rn, personFields="names,emailAddresses,addresses,birthdays,metadata")
        .execute()
    )
    return result


def _link(http: FlaskClient, client_id: int) -> str | None:
    data = http.get(f"/api/google-contacts/links?client_ids={client_id}").get_json()["data"]
    return data[0]["resource_name"] if data else None


def test_undo_restores_both_sides_and_the_next_sync_writes_nothing(
    connected: FlaskClient, people_service: Any, emulator: RunningEmulator
) -> None:
    """One run creates, updates and deletes on both sides; undoing it (preview, then apply)
    restores both sides — Google-only fields included — and the next sync writes nothing;
    the undo can be undone in turn."""
    kept = _client(connected, "Martin", "martin@exemple.fr")
    gone = _client(connected, "Dubois", "dubois@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    gone_rn = _link(connected, gone)
    assert gone_rn is not None
    person = _person(people_service, gone_rn)
    people_service.people().updateContact(  # a Google-only field the undo must bring back
        resourceName=gone_rn,
        updatePersonFields="birthdays",
        body={
            "etag": person["etag"],
            "birthdays": [{"date": {"year": 1975, "month": 3, "day": 9}}],
        },
    ).execute()
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True

    # the run to undo: an edit each way, a new client, a deleted client
    assert connected.patch(f"/api/clients/{kept}", json={"ville": "Lyon"}).status_code == 200
    new = _client(connected, "Leroy", "leroy@exemple.fr")
    assert connected.delete(f"/api/clients/{gone}").status_code in (200, 204)
    run = connected.post("/api/google-contacts/sync-all").get_json()["data"]
    counts = run["atarys_to_google"]
    assert (counts["updated"], counts["created"], counts["deleted"]) == (1, 1, 1)

    preview = connected.post(
        f"/api/google-contacts/runs/{run['run_id']}/undo", json={"dry_run": True}
    ).get_json()
    assert preview["success"] is True, preview
    assert sorted(i["name"] for i in preview["data"]["plan"]) == ["DUBOIS", "LEROY", "MARTIN"]
    undone = connected.post(
        f"/api/google-contacts/plans/{preview['data']['plan_id']}/apply"
    ).get_json()
    assert undone["success"] is True, undone

    assert connected.get(f"/api/clients/{kept}").get_json()["data"]["ville"] in (None, "")
    assert connected.get(f"/api/clients/{gone}").status_code == 200  # back from the trash
    restored_rn = _link(connected, gone)
    assert restored_rn is not None
    assert _person(people_service, restored_rn)["birthdays"][0]["date"]["year"] == 1975
    assert _link(connected, new) is None  # its contact deleted, the client kept out
    calm = connected.post("/api/google-contacts/sync-all").get_json()["data"]
    assert calm["atarys_to_google"]["success"] == 0
    assert calm["google_to_atarys"]["success"] == 0

    again = connected.post(f"/api/google-contacts/runs/{undone['data']['run_id']}/undo").get_json()
    assert again["success"] is True, again
    assert connected.get(f"/api/clients/{kept}").get_json()["data"]["ville"] == "Lyon"


def test_a_conflict_decided_by_the_rule_can_be_switched(
    connected: FlaskClient, people_service: Any
) -> None:
    """Both sides changed « ville »; the rule kept one value; the other is not lost: a
    person switches the decision and both sides get it."""
    client_id = _client(connected, "Martin", "martin@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    rn = _link(connected, client_id)
    assert rn is not None
    connected.patch(f"/api/clients/{client_id}", json={"ville": "Lyon"})
    person = _person(people_service, rn)
    people_service.people().updateContact(
        resourceName=rn,
        updatePersonFields="addresses",
        body={"etag": person["etag"], "addresses": [{"city": "Nantes"}]},
    ).execute()
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    decided = connected.get("/api/google-contacts/conflicts?status=resolved").get_json()["data"]
    assert len(decided) == 1
    conflict = decided[0]
    loser = "atarys" if conflict["resolved_value"] == conflict["google_value"] else "google"
    switched = connected.post(
        f"/api/google-contacts/conflicts/{conflict['id']}/resolve", json={"choice": loser}
    ).get_json()
    assert switched["success"] is True, switched
    value = conflict[f"{loser}_value"]
    assert connected.get(f"/api/clients/{client_id}").get_json()["data"]["ville"] == value
    assert _person(people_service, rn)["addresses"][0]["city"] == value


def test_a_duplicate_is_merged_into_one_person(connected: FlaskClient, people_service: Any) -> None:
    """One person entered twice on the phones (« Leroy » and « Leroy Paul », one address):
    reported, never merged silently; « Fusionner » keeps one with the chosen values, sends
    the other to the trash, and the next sync brings one client into ATARYS."""
    for names in ({"familyName": "Leroy", "givenName": "Paul"}, {"familyName": "Leroy"}):
        people_service.people().createContact(
            body={"names": [names], "emailAddresses": [{"value": "info@leroy.fr"}]}
        ).execute()
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    [dup] = connected.get("/api/google-contacts/duplicates").get_json()["data"]
    keep = dup["resource_names"][0]
    merged = connected.post(
        f"/api/google-contacts/duplicates/{dup['id']}/merge",
        json={
            "keep_resource_name": keep,
            "values": {"nom": "Leroy", "prenom": "Paul", "email": "info@leroy.fr", "ville": "Lyon"},
        },
    ).get_json()
    assert merged["success"] is True, merged
    assert connected.get("/api/google-contacts/duplicates").get_json()["data"] == []
    assert len(connected.get("/api/google-contacts/trash").get_json()["data"]) == 1
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    clients = connected.get("/api/clients/?q=leroy").get_json()["data"]
    assert [(c["nom"], c["prenom"], c["ville"]) for c in clients] == [("Leroy", "Paul", "Lyon")]
    again = connected.post(f"/api/google-contacts/duplicates/{dup['id']}/merge", json={})
    assert again.status_code == 404


def test_undo_of_changes_made_on_the_phones(connected: FlaskClient, people_service: Any) -> None:
    """The run to undo carried phone changes into ATARYS: a new contact, an edit, a
    deletion. Undoing it removes the imported client (not imported again), puts the edited
    field back on both sides, brings the deleted client back with a contact; the next sync
    writes nothing."""
    edited = _client(connected, "Martin", "martin@exemple.fr")
    removed = _client(connected, "Dubois", "dubois@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    edited_rn, removed_rn = _link(connected, edited), _link(connected, removed)
    assert edited_rn is not None
    assert removed_rn is not None
    person = _person(people_service, edited_rn)
    people_service.people().updateContact(
        resourceName=edited_rn,
        updatePersonFields="addresses",
        body={"etag": person["etag"], "addresses": [{"city": "Nantes"}]},
    ).execute()
    people_service.people().deleteContact(resourceName=removed_rn).execute()
    people_service.people().createContact(
        body={"names": [{"familyName": "Leroy"}], "emailAddresses": [{"value": "leroy@exemple.fr"}]}
    ).execute()
    run = connected.post("/api/google-contacts/sync-all").get_json()["data"]
    counts = run["google_to_atarys"]
    assert (counts["created"], counts["updated"], counts["deleted"]) == (1, 1, 1)

    undone = connected.post(f"/api/google-contacts/runs/{run['run_id']}/undo").get_json()
    assert undone["success"] is True, undone
    assert connected.get(f"/api/clients/{edited}").get_json()["data"]["ville"] in (None, "")
    assert "addresses" not in _person(people_service, edited_rn) or not any(
        a.get("city") for a in _person(people_service, edited_rn)["addresses"]
    )
    assert connected.get(f"/api/clients/{removed}").status_code == 200
    assert _link(connected, removed) is not None
    assert connected.get("/api/clients/?q=leroy").get_json()["data"] == []
    calm = connected.post("/api/google-contacts/sync-all").get_json()["data"]
    assert calm["atarys_to_google"]["success"] == 0
    assert calm["google_to_atarys"]["success"] == 0
