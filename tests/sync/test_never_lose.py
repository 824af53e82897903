"""Never lose an edit: "newest" decides field by field (issue 11 item 3)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from atarys.sync.service import SyncService
from fixtures.sync import add_client


def _contact(people: Any, session: Session, service: SyncService, client_id: int) -> str:
    link = service.store.link_for_client(client_id)
    assert link is not None
    return link.resource_name


def test_a_later_edit_of_another_field_does_not_win_an_older_field(
    session: Session, google_service: SyncService, people_service: Any
) -> None:
    """ATARYS sets « fonction », then Google sets it differently, then ATARYS edits « ville »:
    the Google value of « fonction » is the newer one and wins; « ville » goes to Google."""
    client = add_client(session, nom="Martin", email="jean@example.com")
    google_service.sync_all()
    rn = _contact(people_service, session, google_service, client.id)
    client.fonction = "Gérant"
    session.commit()
    time.sleep(0.05)
    person = people_service.people().get(resourceName=rn, personFields="metadata").execute()
    people_service.people().updateContact(
        resourceName=rn,
        updatePersonFields="organizations",
        body={"etag": person["etag"], "organizations": [{"title": "Directeur"}]},
    ).execute()
    time.sleep(0.05)
    client.ville = "Lyon"  # later, but another field
    session.commit()
    result = google_service.sync_all()
    assert result.status == "success"
    session.refresh(client)
    assert client.fonction == "Directeur"
    assert client.ville == "Lyon"
    after = people_service.people().get(resourceName=rn, personFields="addresses").execute()
    assert after["addresses"][0]["city"] == "Lyon"
    decided = google_service.list_conflicts(status="resolved")
    assert [(c.field, c.resolved_value) for c in decided] == [("fonction", "Directeur")]


def test_clearing_fields_in_atarys_never_imports_the_contacts_private_entries(
    session: Session, google_service: SyncService, people_service: Any
) -> None:
    """Issue 11 #4, through the real client library and the emulator: a contact made on a
    phone with a work and a personal e-mail, a mobile and a home phone, two
    organizations. The office clears e-mail, phone and company: the sync removes those
    entries only; the personal e-mail, the home phone and the other organization stay in
    Google and never become the client's, run after run."""
    people = people_service.people()
    made = people.createContact(
        personFields="names",
        body={
            "names": [{"familyName": "Durand", "givenName": "Léa"}],
            "emailAddresses": [
                {"value": "lea@durand-btp.fr", "type": "work"},
                {"value": "lea.perso@home.example", "type": "home"},
            ],
            "phoneNumbers": [
                {"value": "06 12 34 56 78", "type": "mobile"},
                {"value": "04 78 00 00 00", "type": "home"},
            ],
            "organizations": [{"name": "Durand BTP"}, {"name": "Club de foot"}],
        },
    ).execute()
    rn = made["resourceName"]
    assert google_service.sync_all().status == "success"
    link = google_service.store.link_for_contact(rn)
    assert link is not None
    from atarys.models import Client

    client = session.get(Client, link.client_id)
    assert client is not None
    assert (client.email, client.entreprise) == ("lea@durand-btp.fr", "Durand BTP")
    client.email = None
    client.telephone = None
    client.entreprise = None
    session.commit()
    for _ in range(3):
        assert google_service.sync_all().status == "success"
        session.refresh(client)
        assert (client.email, client.telephone, client.entreprise) == (None, None, None)
    person = people.get(
        resourceName=rn, personFields="emailAddresses,phoneNumbers,organizations"
    ).execute()
    assert [e["value"] for e in person["emailAddresses"]] == ["lea.perso@home.example"]
    assert [p["value"] for p in person["phoneNumbers"]] == ["04 78 00 00 00"]
    assert [o["name"] for o in person["organizations"]] == ["Club de foot"]
    # a new work e-mail typed on the phone later is the client's again
    person = people.get(resourceName=rn, personFields="emailAddresses,metadata").execute()
    people.updateContact(
        resourceName=rn,
        updatePersonFields="emailAddresses",
        body={
            "etag": person["etag"],
            "emailAddresses": [*person["emailAddresses"], {"value": "lea@nouveau-btp.fr"}],
        },
    ).execute()
    assert google_service.sync_all().status == "success"
    session.refresh(client)
    assert client.email == "lea@nouveau-btp.fr"
