"""A push (a client edited in ATARYS, sent by the job queue): two calls for an edit of a
linked client, the contact's phone edits kept, and a new client never duplicated.

Against the emulator through the real google-api-python-client, on SQLite and (when
configured) PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atarys.models import Client, SyncConflict, SyncLink
from atarys.models.base import utcnow
from atarys.sync.service import SyncService
from fixtures.checks import city, contacts, google_writes
from fixtures.emulator import Admin
from fixtures.sync import add_client, new_contact


def settle(service: SyncService) -> None:
    """The first sync, then the run that reads back its own writes (a steady account)."""
    service.sync_all()
    service.sync_all()


def test_push_of_an_edited_client_is_two_calls(
    session: Session, google_service: SyncService, admin: Admin
) -> None:
    client = add_client(session, nom="Martin", email="jean@example.com", ville="Paris")
    add_client(session, nom="Durand", email="paul@example.com", ville="Nantes")
    settle(google_service)
    client.ville = "Lyon"
    session.commit()
    result = google_service.sync_all(trigger="push")
    assert result.errors == [], result.to_dict()
    assert result.api_calls == {"people.batchGet": 1, "people.batchUpdateContacts": 1}
    by_city = sorted(city(p) or "" for p in contacts(admin))
    assert by_city == ["Lyon", "Nantes"]
    # the next scheduled run has nothing left to write
    again = google_service.sync_all(trigger="schedule")
    assert google_writes(again) == 0, again.to_dict()


def test_push_keeps_a_phone_edit_of_the_same_contact(
    session: Session, google_service: SyncService, admin: Admin
) -> None:
    """Edited on both sides before the push: the push reads the contact, both edits stay."""
    client = add_client(session, nom="Martin", email="jean@example.com", ville="Paris")
    settle(google_service)
    [link] = session.scalars(select(SyncLink)).all()
    admin.call(
        "PATCH",
        f"contacts/{link.resource_name}",
        {"phoneNumbers": [{"value": "+33 6 12 34 56 78", "type": "mobile"}]},
    )
    client.ville = "Lyon"
    session.commit()
    result = google_service.sync_all(trigger="push")
    assert result.errors == [], result.to_dict()
    [person] = contacts(admin)
    assert city(person) == "Lyon"
    assert [p["value"] for p in person["phoneNumbers"]] == ["+33 6 12 34 56 78"]
    session.expire_all()
    assert session.get(Client, client.id).telephone == "+33612345678"


def test_push_of_a_new_client_looks_at_the_phones_new_contacts_first(
    session: Session, google_service: SyncService, admin: Admin, people_service: Any
) -> None:
    """A client created in ATARYS while a phone created the same person: the push lists
    Google's changes first, links the two, creates nothing."""
    add_client(session, nom="Durand", email="paul@example.com")
    settle(google_service)
    new_contact(
        people_service,
        names=[{"givenName": "Jean", "familyName": "Martin"}],
        emailAddresses=[{"value": "jean@example.com"}],
    )
    add_client(session, nom="Martin", prenom="Jean", email="jean@example.com")
    result = google_service.sync_all(trigger="push")
    assert result.errors == [], result.to_dict()
    assert "connections.list" in result.api_calls
    assert len(contacts(admin)) == 2
    assert len(session.scalars(select(SyncLink)).all()) == 2


def test_push_follows_a_renamed_contact(
    session: Session, google_service: SyncService, admin: Admin
) -> None:
    client = add_client(session, nom="Martin", email="jean@example.com", ville="Paris")
    settle(google_service)
    [link] = session.scalars(select(SyncLink)).all()
    renamed = admin.call("POST", f"contacts/{link.resource_name}/rename")["person"]
    client.ville = "Lyon"
    session.commit()
    result = google_service.sync_all(trigger="push")
    assert result.errors == [], result.to_dict()
    [only] = contacts(admin)
    assert only["resourceName"] == renamed["resourceName"]
    assert city(only) == "Lyon"


def test_push_of_a_deleted_client_deletes_its_contact(
    session: Session, google_service: SyncService, admin: Admin
) -> None:
    client = add_client(session, nom="Martin", email="jean@example.com")
    add_client(session, nom="Durand", email="paul@example.com")
    settle(google_service)
    client.deleted_at = utcnow()
    session.commit()
    result = google_service.sync_all(trigger="push")
    assert result.errors == [], result.to_dict()
    assert [p["names"][0]["familyName"] for p in contacts(admin)] == ["Durand"]


def test_an_item_left_alone_since_its_preview_is_read_again_by_the_next_run(
    session: Session, google_service: SyncService, admin: Admin, people_service: Any
) -> None:
    """A phone made the person a client already is; the preview links the two; the client
    is edited before « Appliquer »: that link is left alone, and the next run links them
    (the cursors moved past the phone's contact: it is read again), never a second one.
    Found by the state machine (seed 2274067359, preview then apply)."""
    add_client(session, nom="Durand", email="paul@example.com")
    settle(google_service)
    client = add_client(session, nom="Martin", prenom="Jean", email="jean@example.com")
    new_contact(
        people_service,
        names=[{"givenName": "Jean", "familyName": "Martin"}],
        emailAddresses=[{"value": "jean@example.com"}],
        phoneNumbers=[{"value": "06 12 34 56 78"}],
    )
    preview = google_service.sync_all(dry_run=True)
    assert [i["name"] for i in preview.to_dict()["plan"]] == ["MARTIN Jean"]
    client.ville = "Lyon"
    session.commit()
    applied = google_service.apply_plan(preview.plan_id or "")
    assert [c["name"] for c in applied.changed_since_preview] == ["MARTIN Jean"]
    result = google_service.sync_all()
    assert result.errors == [], result.to_dict()
    martins = [p for p in contacts(admin) if p["names"][0].get("familyName") == "Martin"]
    assert len(martins) == 1, martins
    assert city(martins[0]) == "Lyon"
    assert session.get(Client, client.id).telephone == "+33612345678"  # type: ignore[union-attr]
    links = session.scalars(select(SyncLink).where(SyncLink.client_id == client.id)).all()
    assert [lk.resource_name for lk in links] == [martins[0]["resourceName"]]


def test_a_one_client_push_following_an_older_copy_of_its_contact_keeps_a_conflict(
    session: Session, google_service: SyncService, admin: Admin, people_service: Any
) -> None:
    """The linked contact is gone; another contact carries the client's id in its
    clientData but other values (an older copy). The one-client push follows it as a new
    link: its different e-mail is a conflict a person sees, never a silent edit."""
    client = add_client(session, nom="Martin", email="jean@example.com", ville="Paris")
    settle(google_service)
    [link] = session.scalars(select(SyncLink)).all()
    new_contact(
        people_service,
        names=[{"familyName": "Martin"}],
        emailAddresses=[{"value": "ancien@example.com"}],
        addresses=[{"city": "Paris"}],
        clientData=[{"key": "atarys_client_id", "value": str(client.id)}],
    )
    admin.call("DELETE", f"contacts/{link.resource_name}")
    client.ville = "Lyon"
    session.commit()
    google_service.sync_client_to_google(client.id)
    conflicts = session.scalars(select(SyncConflict)).all()
    assert sorted((c.field, c.atarys_value, c.google_value) for c in conflicts) == [
        ("email", "jean@example.com", "ancien@example.com"),
        ("ville", "Lyon", "Paris"),  # the office's edit against the copy's value: shown too
    ]
