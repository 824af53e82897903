"""Finding a client as a person types: accents and case ignored, phones in any format, name order."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

PEOPLE = [
    {
        "nom": "Lefèvre",
        "prenom": "Zoé",
        "entreprise": "Menuiserie Leroy",
        "telephone": "0612345678",
    },
    {"nom": "Martin", "prenom": "Élodie", "entreprise": "Électricité Durand"},
    {"nom": "Étienne", "prenom": "Paul", "telephone": "+33 4 78 00 00 00"},
    {"nom": "Martin", "prenom": "Arthur"},
    {"nom": "Dupont", "prenom": "Jean", "email": "jean@exemple.fr"},
    {"nom": "Martin", "prenom": "Bruno"},
    {"nom": "Lefebvre", "prenom": "Anne"},
]


@pytest.fixture
def people(client: FlaskClient) -> FlaskClient:
    for person in PEOPLE:
        resp = client.post("/api/clients/", json=person)
        assert resp.status_code == 201, resp.get_json()
    return client


def names(client: FlaskClient, **query: Any) -> list[str]:
    resp = client.get("/api/clients/", query_string={"per_page": 100, **query})
    assert resp.status_code == 200, resp.get_json()
    return [f"{c['nom']} {c['prenom']}" for c in resp.get_json()["data"]]


@pytest.mark.parametrize("typed", ["Élodie", "élodie", "ELODIE", "Elodie", "elodie"])
def test_accents_and_case_do_not_matter(people: FlaskClient, typed: str) -> None:
    assert names(people, q=typed) == ["Martin Élodie"]


@pytest.mark.parametrize("typed", ["Électricité", "electricite", "ÉLECTRICITÉ DURAND"])
def test_company_found_with_or_without_accents(people: FlaskClient, typed: str) -> None:
    assert names(people, q=typed) == ["Martin Élodie"]


def test_first_name_and_name_in_any_order(people: FlaskClient) -> None:
    assert names(people, q="zoe lefevre") == ["Lefèvre Zoé"]
    assert names(people, q="Lefèvre Zoé") == ["Lefèvre Zoé"]


@pytest.mark.parametrize(
    "typed",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "06-12-34-56-78",
        "34 56 78",
    ],
)
def test_mobile_found_in_any_format(people: FlaskClient, typed: str) -> None:
    assert names(people, q=typed) == ["Lefèvre Zoé"]


@pytest.mark.parametrize("typed", ["04 78 00 00 00", "0478000000", "+33478000000"])
def test_landline_found_in_any_format(people: FlaskClient, typed: str) -> None:
    assert names(people, q=typed) == ["Étienne Paul"]


def test_percent_and_underscore_are_plain_characters(people: FlaskClient) -> None:
    assert names(people, q="%") == []
    assert names(people, q="_") == []


def test_sort_by_name_then_first_name_accents_as_base_letter(people: FlaskClient) -> None:
    assert names(people, sort="nom") == [
        "Dupont Jean",
        "Étienne Paul",
        "Lefebvre Anne",
        "Lefèvre Zoé",
        "Martin Arthur",
        "Martin Bruno",
        "Martin Élodie",
    ]
    assert names(people, sort="-nom")[:3] == ["Martin Élodie", "Martin Bruno", "Martin Arthur"]


def test_an_edit_moves_the_client_in_search_and_sort(people: FlaskClient) -> None:
    zoe = people.get("/api/clients/", query_string={"q": "zoe"}).get_json()["data"][0]
    resp = people.patch(f"/api/clients/{zoe['id']}", json={"nom": "Àlavoine", "telephone": None})
    assert resp.status_code == 200
    assert names(people, q="alavoine") == ["Àlavoine Zoé"]
    assert names(people, q="0612345678") == []
    assert names(people, sort="nom")[0] == "Àlavoine Zoé"
