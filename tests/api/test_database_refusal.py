"""A client write the database refuses: the run names the person and says what to do.

Since clients may share an e-mail (migration ``0011_shared_email``), what the database can
still refuse is rare. The real case reproduced here: PostgreSQL's id sequence behind rows
imported with their ids (a restored dump, a migration from another tool), so a new
client's id is taken. Each attempt moves the sequence on, so trying again, as the message
advises, gets through. SQLite picks the next free id itself: it cannot happen there.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from atarys.extensions import db

SYNC_ALL = "/api/google-contacts/sync-all"


@pytest.mark.parametrize("email", [None, "info@roussel.fr"], ids=["no-email", "shared-email"])
def test_a_refused_import_names_the_person_and_a_second_run_gets_it_in(
    gapp: Flask, connected: FlaskClient, people_service: Any, database_url: str, email: str | None
) -> None:
    """With a shared address too: the refusal is not the e-mail's (clients may share one),
    so it is an error by name, not a duplicate to review."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes the next free id: no id is ever taken twice there")
    for nom in ("Martin", "Dubois"):
        values = {"nom": nom, "email": email} if email else {"nom": nom}  # colleagues
        assert connected.post("/api/clients/", json=values).status_code == 201
    with gapp.app_context():  # the sequence is behind the ids in use (1 and 2)
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('clients', 'id'), 1, false)"))
        db.session.commit()
        db.session.remove()
    body: dict[str, Any] = {"names": [{"familyName": "Roussel", "givenName": "Aurélie"}]}
    if email:
        body["emailAddresses"] = [{"value": email}]
    people_service.people().createContact(body=body).execute()

    first = connected.post(SYNC_ALL).get_json()
    assert first["data"]["status"] == "partial", first
    assert first["data"]["errors"] == [
        "Écriture refusée : la fiche client de ROUSSEL Aurélie n'a pas pu être créée dans la "
        "base ATARYS : relancez la synchronisation ; si cela se reproduit, transmettez le "
        "journal de synchronisation à l'assistance"
    ]
    names = [c["nom"] for c in connected.get("/api/clients/?per_page=50").get_json()["data"]]
    assert sorted(names) == ["Dubois", "Martin"]

    second = connected.post(SYNC_ALL).get_json()  # what the message advises
    assert second["data"]["status"] == "success", second
    assert second["data"]["errors"] == []
    names = [c["nom"] for c in connected.get("/api/clients/?per_page=50").get_json()["data"]]
    assert sorted(names) == ["Dubois", "Martin", "Roussel"]
