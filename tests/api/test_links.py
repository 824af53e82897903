"""``GET /api/google-contacts/links``: each client's sync badge, over the real engine and emulator."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from .conftest import connect_google

LINKS = "/api/google-contacts/links"


def _new_client(http: FlaskClient, **fields: str) -> int:
    resp = http.post("/api/clients/", json=fields)
    assert resp.status_code == 201, resp.get_json()
    return int(resp.get_json()["data"]["id"])


def _states(http: FlaskClient, *ids: int) -> dict[int, dict[str, Any]]:
    resp = http.get(f"{LINKS}?client_ids={','.join(map(str, ids))}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["success"] is True
    return {entry["client_id"]: entry for entry in body["data"]}


def _status(http: FlaskClient, *ids: int) -> dict[int, str]:
    return {cid: entry["status"] for cid, entry in _states(http, *ids).items()}


def test_badges_follow_connection_sync_and_edits(gclient: FlaskClient) -> None:
    """Not connected → unlinked; connected → pending; synced → linked; edited → pending again."""
    first = _new_client(gclient, nom="Dupont", prenom="Anne", email="anne@exemple.fr")
    second = _new_client(gclient, nom="Durand", telephone="06 12 34 56 78")
    assert _status(gclient, first, second) == {first: "unlinked", second: "unlinked"}

    assert connect_google(gclient)["location"].endswith("google=connected")
    assert _status(gclient, first, second) == {first: "pending", second: "pending"}

    assert gclient.post("/api/google-contacts/sync-all").get_json()["success"] is True
    states = _states(gclient, second, first)
    assert [s["status"] for s in states.values()] == ["linked", "linked"]
    assert list(states) == [second, first]  # the order asked
    assert states[first]["resource_name"].startswith("people/c")
    assert states[first]["synced_at"]
    assert "error" not in states[first]

    # An edit waits for the next push: pending until it is synced.
    gclient.patch(f"/api/clients/{first}", json={"ville": "Lyon"})
    assert _status(gclient, first, second) == {first: "pending", second: "linked"}
    assert gclient.post(f"/api/google-contacts/sync-to-google/{first}").status_code == 200
    assert _status(gclient, first, second) == {first: "linked", second: "linked"}
    # A write that changes nothing (same phone, other spelling) is not a pending change.
    gclient.patch(f"/api/clients/{second}", json={"telephone": "+33 6 12 34 56 78"})
    assert _status(gclient, second) == {second: "linked"}

    # Deleted and unknown clients are left out.
    gclient.delete(f"/api/clients/{second}")
    assert _status(gclient, first, second, 999_999) == {first: "linked"}

    # Google disconnected: the linked client no longer says it is synchronised.
    assert gclient.post("/api/google-contacts/disconnect").status_code == 200
    assert _status(gclient, first) == {first: "disconnected"}


def test_conflict_and_duplicate_badges(
    connected: FlaskClient, people_service: Any, emulator: Any
) -> None:
    """An open conflict and a reported duplicate show on the clients concerned."""
    mine = _new_client(connected, nom="Conflit", email="conflit@exemple.fr")
    twin = _new_client(connected, nom="Jumeau", email="jumeau@exemple.fr")
    for given in ("Premier", "Second"):  # two Google contacts with the client's e-mail
        people_service.people().createContact(
            body={
                "names": [{"givenName": given, "familyName": "Jumeau"}],
                "emailAddresses": [{"value": "jumeau@exemple.fr"}],
            }
        ).execute()
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    assert _status(connected, mine, twin) == {mine: "linked", twin: "duplicate"}

    connected.put("/api/google-contacts/settings", json={"conflict_policy": "manual"})
    connected.patch(f"/api/clients/{mine}", json={"ville": "Lyon"})
    google_id = _states(connected, mine)[mine]["resource_name"]
    person = (
        people_service.people()
        .get(resourceName=google_id, personFields="addresses,metadata")
        .execute()
    )
    people_service.people().updateContact(
        resourceName=google_id,
        updatePersonFields="addresses",
        body={"etag": person["etag"], "addresses": [{"city": "Nantes"}]},
    ).execute()
    connected.post("/api/google-contacts/sync-all")
    assert _status(connected, mine) == {mine: "conflict"}

    conflict = connected.get("/api/google-contacts/conflicts").get_json()["data"][0]
    resolved = connected.post(
        f"/api/google-contacts/conflicts/{conflict['id']}/resolve", json={"choice": "atarys"}
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert _status(connected, mine) == {mine: "linked"}


def test_failed_push_shows_an_error_badge(
    connected: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Google Contacts is full: new clients fail to be created there.

    (A deleted "ATARYS" group no longer makes a push fail: the engine finds or re-creates
    it, see ``tests/sync/test_engine_google.py``.)
    """
    from atarys.emulator import state

    linked = _new_client(connected, nom="Ancien", email="ancien@exemple.fr")
    assert connected.post("/api/google-contacts/sync-all").get_json()["success"] is True
    monkeypatch.setattr(state, "MAX_CONTACTS", 1)  # the account is at its cap

    fresh = _new_client(connected, nom="Nouveau", email="nouveau@exemple.fr")
    connected.post("/api/google-contacts/sync-all")
    states = _states(connected, linked, fresh)
    assert states[linked]["status"] == "linked"
    assert states[fresh]["status"] == "error"
    assert states[fresh]["resource_name"] is None
    assert states[fresh]["error"]


def test_bad_client_ids_are_refused_in_french(gclient: FlaskClient) -> None:
    for query in ("", "?client_ids=", "?client_ids=abc", "?client_ids=1,,2", "?client_ids=0"):
        resp = gclient.get(LINKS + query)
        assert resp.status_code == 422, query
        body = resp.get_json()
        assert body["success"] is False
        assert body["message"] == "Paramètre invalide."
        assert "client_ids" in body["errors"]
    too_many = ",".join(str(i) for i in range(1, 202))
    resp = gclient.get(f"{LINKS}?client_ids={too_many}")
    assert resp.status_code == 422
    assert "200" in resp.get_json()["errors"]["client_ids"]
    assert gclient.get(f"{LINKS}?client_ids=99999999999").status_code == 422
    resp = gclient.get(f"{LINKS}?client_ids={','.join(str(i) for i in range(1, 201))}")
    assert resp.status_code == 200
    assert resp.get_json()["data"] == []
