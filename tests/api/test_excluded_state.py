"""The clients page's badge « dissocié »: a client kept out of the sync since its contact
was deleted on a phone, until a person turns its sync back on."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


def _state(http: FlaskClient, client_id: int) -> dict[str, Any]:
    data = http.get(f"/api/google-contacts/links?client_ids={client_id}").get_json()["data"]
    assert len(data) == 1
    state: dict[str, Any] = data[0]
    return state


def test_a_client_whose_contact_was_deleted_on_a_phone_is_excluded(
    fresh_connection: FlaskClient, people_service: Any
) -> None:
    """Linked → contact deleted in Google → « excluded » → resumed → pending, then linked."""
    made = fresh_connection.post("/api/clients/", json={"nom": "Martin"})
    client_id = int(made.get_json()["data"]["id"])
    assert fresh_connection.post("/api/google-contacts/sync-all").get_json()["success"] is True
    linked = _state(fresh_connection, client_id)
    assert linked["status"] == "linked"
    people_service.people().deleteContact(resourceName=linked["resource_name"]).execute()
    assert fresh_connection.post("/api/google-contacts/sync-all").get_json()["success"] is True
    assert _state(fresh_connection, client_id)["status"] == "excluded"
    resumed = fresh_connection.post(f"/api/google-contacts/links/{client_id}/resume")
    assert resumed.get_json()["data"]["resumed"] is True
    assert _state(fresh_connection, client_id)["status"] == "pending"
    assert fresh_connection.post("/api/google-contacts/sync-all").get_json()["success"] is True
    assert _state(fresh_connection, client_id)["status"] == "linked"
