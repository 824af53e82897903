"""The /api/clients/ API: envelope, validation in French, errors as JSON, nothing written on refusal."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from atarys.extensions import db
from atarys.models import Client

JEAN = {
    "nom": "Dupont",
    "prenom": "Jean",
    "email": "Jean.Dupont@Example.com",
    "telephone": "06 12 34 56 78",
    "adresse": "12 rue de la Paix",
    "ville": "Paris",
    "code_postal": "75002",
    "entreprise": "Dupont BTP",
    "fonction": "Gérant",
}


def count_clients(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Client)) or 0


def create(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    resp = client.post("/api/clients/", json={**JEAN, **overrides})
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()["data"]
    assert isinstance(data, dict)
    return data


def assert_error(resp: Any, status: int, message_part: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["success"] is False
    assert body["data"] is None
    assert isinstance(body["message"], str)
    assert body["message"]
    if message_part:
        assert message_part in body["message"]
    return dict(body)


def test_create_returns_201_with_normalized_values(client: FlaskClient) -> None:
    """A created client comes back with its phone in E.164 and its e-mail domain lower-cased."""
    resp = client.post("/api/clients/", json=JEAN)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["success"] is True
    assert body["message"] == "Client créé"
    assert body["data"]["telephone"] == "+33612345678"
    assert body["data"]["email"] == "Jean.Dupont@example.com"
    assert body["data"]["created_at"].endswith("+00:00")


def test_get_put_patch_delete_cycle(client: FlaskClient) -> None:
    """A client can be read, replaced, patched and deleted; a deleted client is gone (404)."""
    created = create(client)
    cid = created["id"]
    assert client.get(f"/api/clients/{cid}").get_json()["data"]["nom"] == "Dupont"

    put = client.put(f"/api/clients/{cid}", json={"nom": "Durand"})
    assert put.status_code == 200
    assert put.get_json()["data"]["prenom"] is None  # PUT replaces the whole client

    patch = client.patch(f"/api/clients/{cid}", json={"ville": "Lyon"})
    assert patch.get_json()["data"]["ville"] == "Lyon"
    assert patch.get_json()["data"]["nom"] == "Durand"

    assert client.delete(f"/api/clients/{cid}").status_code == 200
    assert_error(client.get(f"/api/clients/{cid}"), 404)


def test_updated_at_moves_only_on_real_change(client: FlaskClient) -> None:
    """Sending the same values again is not a change: updated_at stays."""
    created = create(client)
    same = client.patch(f"/api/clients/{created['id']}", json={"ville": "Paris"}).get_json()
    assert same["message"] == "Aucune modification"
    assert same["data"]["updated_at"] == created["updated_at"]
    changed = client.patch(f"/api/clients/{created['id']}", json={"ville": "Nice"}).get_json()
    assert changed["data"]["updated_at"] > created["updated_at"]


def test_delete_is_soft(app: Flask, client: FlaskClient) -> None:
    """Deleting keeps the row with deleted_at set, so the sync can follow."""
    cid = create(client)["id"]
    client.delete(f"/api/clients/{cid}")
    with app.app_context():
        row = db.session.get(Client, cid)
        assert row is not None
        assert row.deleted_at is not None


def test_list_paginates_searches_and_sorts(client: FlaskClient) -> None:
    """Listing pages through clients, searches over several fields and sorts."""
    for i, nom in enumerate(["Martin", "Bernard", "Durand", "Petit", "Robert"]):
        create(client, nom=nom, email=f"c{i}@exemple.fr", telephone=f"06 00 00 00 0{i}")
    body = client.get("/api/clients/?per_page=2&page=2&sort=nom").get_json()
    assert [c["nom"] for c in body["data"]] == ["Martin", "Petit"]
    assert body["pagination"] == {
        "page": 2,
        "per_page": 2,
        "total": 5,
        "pages": 3,
        "has_next": True,
        "has_prev": True,
    }
    assert [c["nom"] for c in client.get("/api/clients/?q=ber").get_json()["data"]] == [
        "Bernard",
        "Robert",
    ]
    assert client.get("/api/clients/?q=C3@EXEMPLE").get_json()["data"][0]["nom"] == "Petit"
    assert client.get("/api/clients/?sort=-nom").get_json()["data"][0]["nom"] == "Robert"


def test_deleted_clients_are_not_listed(client: FlaskClient) -> None:
    """A soft-deleted client disappears from the list and its e-mail can be reused."""
    cid = create(client)["id"]
    client.delete(f"/api/clients/{cid}")
    assert client.get("/api/clients/").get_json()["pagination"]["total"] == 0
    create(client)  # same e-mail, allowed again


@pytest.mark.parametrize(
    ("query", "field"),
    [("per_page=201", "per_page"), ("page=0", "page"), ("page=x", "page"), ("sort=secret", "sort")],
)
def test_bad_list_parameters_are_422(client: FlaskClient, query: str, field: str) -> None:
    """Out-of-range paging or an unknown sort key names the parameter at fault."""
    body = assert_error(client.get(f"/api/clients/?{query}"), 422)
    assert field in body["errors"]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"prenom": "Jean"}, "nom", "Ce champ est obligatoire."),
        ({"nom": "   "}, "nom", "Ce champ est obligatoire."),
        ({"nom": "X" * 101}, "nom", "Trop long : 100 caractères au maximum."),
        ({"nom": "X", "email": "pas-un-email"}, "email", "Adresse e-mail invalide."),
        ({"nom": "X", "telephone": "abc"}, "telephone", "Numéro de téléphone illisible."),
        (
            {"nom": "X", "telephone": "12"},
            "telephone",
            "Numéro de téléphone invalide pour ce pays.",
        ),
        ({"nom": "X", "code_postal": "12345678901"}, "code_postal", "Trop long : 10"),
        ({"nom": "X", "age": 3}, "age", "Champ inconnu."),
        ({"nom": 42}, "nom", "Doit être une chaîne de caractères."),
    ],
)
def test_validation_errors_are_422_per_field(
    app: Flask, client: FlaskClient, payload: dict[str, Any], field: str, message: str
) -> None:
    """Invalid input answers 422 with a French message for the field at fault, and writes nothing."""
    body = assert_error(client.post("/api/clients/", json=payload), 422, "Données invalides")
    assert body["errors"][field].startswith(message)
    assert count_clients(app) == 0


def test_patch_cannot_empty_nom(app: Flask, client: FlaskClient) -> None:
    """PATCH refuses to clear the required nom and leaves the client as it was."""
    cid = create(client)["id"]
    body = assert_error(client.patch(f"/api/clients/{cid}", json={"nom": None}), 422)
    assert body["errors"] == {"nom": "Ce champ est obligatoire."}
    assert client.get(f"/api/clients/{cid}").get_json()["data"]["nom"] == "Dupont"


def test_a_shared_company_email_is_accepted_and_named(app: Flask, client: FlaskClient) -> None:
    """Two people of one company share info@…: the second client is created, and the
    answer says who else holds the address (in any case)."""
    create(client)
    answer = client.post(
        "/api/clients/", json={**JEAN, "nom": "Leroy", "email": "JEAN.DUPONT@example.com"}
    )
    assert answer.status_code == 201
    assert "partagée avec DUPONT Jean" in answer.get_json()["message"]
    assert count_clients(app) == 2


def test_update_to_a_shared_email_says_so(client: FlaskClient) -> None:
    """Changing a client's e-mail to another's is kept, and the message names the other."""
    create(client)
    other = create(client, email="autre@exemple.fr", nom="Autre")
    answer = client.patch(
        f"/api/clients/{other['id']}", json={"email": "jean.dupont@example.com", "ville": "X"}
    )
    assert answer.status_code == 200
    assert "partagée avec DUPONT Jean" in answer.get_json()["message"]
    after = client.get(f"/api/clients/{other['id']}").get_json()["data"]
    assert (after["email"], after["ville"]) == ("jean.dupont@example.com", "X")


def test_malformed_json_is_400(app: Flask, client: FlaskClient) -> None:
    """A body that is not JSON answers 400 in the envelope."""
    resp = client.post("/api/clients/", data="{nom:", content_type="application/json")
    assert_error(resp, 400, "JSON")
    assert count_clients(app) == 0


def test_json_that_is_not_an_object_is_400(client: FlaskClient) -> None:
    """A JSON array is refused: the body must be an object."""
    assert_error(client.post("/api/clients/", json=[JEAN]), 400, "objet JSON")


def test_wrong_content_type_is_415(app: Flask, client: FlaskClient) -> None:
    """A form post is refused with 415 and writes nothing."""
    resp = client.post("/api/clients/", data={"nom": "Dupont"})
    assert_error(resp, 415, "application/json")
    assert count_clients(app) == 0


def test_unknown_id_is_404(client: FlaskClient) -> None:
    """An unknown client id answers 404 with a French message."""
    body = assert_error(client.get("/api/clients/999"), 404)
    assert body["message"] == "Client 999 introuvable."
    assert_error(client.patch("/api/clients/999", json={"nom": "X"}), 404)
    assert_error(client.delete("/api/clients/999"), 404)


def test_body_over_one_mebibyte_is_413(app: Flask, client: FlaskClient) -> None:
    """A body over 1 MiB is refused with 413 and writes nothing."""
    resp = client.post(
        "/api/clients/",
        data='{"nom": "' + "x" * (1024 * 1024 + 10) + '"}',
        content_type="application/json",
    )
    assert_error(resp, 413, "volumineuse")
    assert count_clients(app) == 0


def test_wrong_method_is_405_json(client: FlaskClient) -> None:
    """An unsupported method answers 405 as JSON with an Allow header."""
    resp = client.put("/api/clients/", json=JEAN)
    assert_error(resp, 405)
    assert "POST" in resp.headers["Allow"]


def test_unknown_api_path_is_404_json(client: FlaskClient) -> None:
    """An unknown API path answers the JSON envelope, not an HTML page."""
    assert_error(client.get("/api/nowhere"), 404)
