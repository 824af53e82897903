"""The clients' trash: clients deleted in the last 30 days, listed and restorable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from atarys.extensions import db
from atarys.models import Client, utcnow


def _create(http: FlaskClient, nom: str, email: str | None = None) -> int:
    made = http.post("/api/clients/", json={"nom": nom, "email": email})
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["data"]["id"])


def _deleted_days_ago(app: Flask, client_id: int, days: float) -> None:
    with app.app_context():
        db.session.execute(
            update(Client)
            .where(Client.id == client_id)
            .values(deleted_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()
        db.session.remove()


def _trash(http: FlaskClient, **query: Any) -> dict[str, Any]:
    answer = http.get("/api/clients/", query_string={"deleted": "true", **query})
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def test_the_trash_lists_the_last_30_days_newest_first(app: Flask, client: FlaskClient) -> None:
    """Deleted clients of the last 30 days, newest deletion first, paginated like the list;
    live clients and older deletions are not in it, and the live list does not show them."""
    live = _create(client, "Vivant")
    old = _create(client, "Ancien")
    first = _create(client, "Premier")
    second = _create(client, "Second")
    for client_id in (old, first, second):
        assert client.delete(f"/api/clients/{client_id}").status_code == 200
    _deleted_days_ago(app, old, 31)
    _deleted_days_ago(app, first, 2)
    _deleted_days_ago(app, second, 1)
    body = _trash(client)
    assert [c["nom"] for c in body["data"]] == ["Second", "Premier"]
    assert all(c["deleted_at"] for c in body["data"])
    assert body["pagination"]["total"] == 2
    assert "supprimé" in body["message"]
    paged = _trash(client, per_page=1, page=2)
    assert [c["nom"] for c in paged["data"]] == ["Premier"]
    assert paged["pagination"]["has_prev"] is True
    assert [c["id"] for c in client.get("/api/clients/").get_json()["data"]] == [live]


def test_restore_brings_the_client_back(client: FlaskClient) -> None:
    """« Restaurer »: the client is live again, with its values, and leaves the trash."""
    client_id = _create(client, "Martin", "martin@exemple.fr")
    client.delete(f"/api/clients/{client_id}")
    assert client.get(f"/api/clients/{client_id}").status_code == 404
    restored = client.post(f"/api/clients/{client_id}/restore")
    assert restored.status_code == 200, restored.get_json()
    body = restored.get_json()
    assert body["message"] == "Client restauré"
    assert body["data"]["deleted_at"] is None
    assert client.get(f"/api/clients/{client_id}").get_json()["data"]["email"] == (
        "martin@exemple.fr"
    )
    assert _trash(client)["data"] == []


def test_restore_refuses_unknown_live_and_too_old(app: Flask, client: FlaskClient) -> None:
    """404 (in French, as JSON) for an unknown client, a live one, and one deleted too long ago."""
    live = _create(client, "Vivant")
    old = _create(client, "Ancien")
    client.delete(f"/api/clients/{old}")
    _deleted_days_ago(app, old, 40)
    for client_id in (999_999, live, old):
        answer = client.post(f"/api/clients/{client_id}/restore")
        assert answer.status_code == 404
        body = answer.get_json()
        assert body["success"] is False
        assert "corbeille" in body["message"]
    assert client.get(f"/api/clients/{live}").status_code == 200


def test_restore_when_a_live_client_took_the_email(client: FlaskClient) -> None:
    """A live client now has the same e-mail (a shared address is allowed): the client
    comes back, and the answer names who shares the address."""
    gone = _create(client, "Martin", "martin@exemple.fr")
    client.delete(f"/api/clients/{gone}")
    _create(client, "Dubois", "Martin@Exemple.fr")
    answer = client.post(f"/api/clients/{gone}/restore")
    assert answer.status_code == 200
    assert "partagée avec DUBOIS" in answer.get_json()["message"]
    assert _trash(client)["data"] == []


def test_the_deleted_parameter_is_checked(client: FlaskClient) -> None:
    """Anything but true/false is a 422 naming the parameter."""
    answer = client.get("/api/clients/?deleted=peut-etre")
    assert answer.status_code == 422
    assert "deleted" in answer.get_json()["errors"]
