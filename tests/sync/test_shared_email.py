"""Shared company e-mails (issue 11 #6): ``info@`` held by several people is a supported
case, told apart by name; only what names cannot tell apart goes to a person."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atarys.models import Client
from atarys.sync.core.plan import Candidate, match
from atarys.sync.core.records import Record
from atarys.sync.service import SyncService
from fixtures.sync import add_client

INFO = "info@leroy-btp.fr"


def _contact(people: Any, nom: str, prenom: str, email: str = INFO) -> str:
    body = {
        "names": [{"familyName": nom, "givenName": prenom}],
        "emailAddresses": [{"value": email}],
    }
    made = people.people().createContact(body=body, personFields="names").execute()
    return str(made["resourceName"])


def _clients(session: Session) -> list[tuple[str, str | None, str | None]]:
    session.expire_all()
    rows = session.scalars(
        select(Client).where(Client.deleted_at.is_(None)).order_by(Client.nom, Client.prenom)
    )
    return [(c.nom, c.prenom, c.email) for c in rows]


def test_colleagues_sharing_an_address_all_come_in_and_go_out(
    session: Session, google_service: SyncService, people_service: Any
) -> None:
    """Three people of one company share info@ on the phones: each becomes a client; a
    colleague added later on either side reaches the other; the second run writes nothing."""
    _contact(people_service, "Leroy", "Marc")
    _contact(people_service, "Leroy", "Anne")
    add_client(session, nom="Leroy", prenom="Marc", email=INFO)  # already known in ATARYS
    first = google_service.sync_all()
    assert first.status == "success", first.errors
    assert first.duplicates == 0
    assert _clients(session) == [("Leroy", "Anne", INFO), ("Leroy", "Marc", INFO)]
    # later: a colleague typed on a phone, another entered at the office
    _contact(people_service, "Bernard", "Paul")
    add_client(session, nom="Durand", prenom="Sophie", email=INFO)
    second = google_service.sync_all()
    assert second.status == "success", second.errors
    assert second.duplicates == 0
    assert [c[0:2] for c in _clients(session)] == [
        ("Bernard", "Paul"),
        ("Durand", "Sophie"),
        ("Leroy", "Anne"),
        ("Leroy", "Marc"),
    ]
    listed = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields="names", pageSize=100)
        .execute()
    )
    names = sorted(
        p["names"][0]["familyName"] + " " + p["names"][0]["givenName"]
        for p in listed["connections"]
    )
    assert names == ["Bernard Paul", "Durand Sophie", "Leroy Anne", "Leroy Marc"]
    idle = google_service.sync_all()
    assert (idle.atarys_to_google.success, idle.google_to_atarys.success) == (0, 0)


def test_the_same_person_twice_on_a_shared_address_is_for_a_person(
    session: Session, google_service: SyncService, people_service: Any
) -> None:
    """Two contacts with one name and one address are a real duplicate: listed for a
    person, nothing imported twice, and the run still succeeds."""
    _contact(people_service, "Leroy", "Marc")
    _contact(people_service, "LEROY", "marc")
    result = google_service.sync_all()
    assert result.status == "success"
    assert result.duplicates == 1
    assert _clients(session) == []


def test_names_that_cannot_tell_people_apart_are_reported() -> None:
    """Unmatched people on both sides of a shared address (maybe one person spelled two
    ways) are never linked or created: a duplicate to review."""
    clients = [Candidate("1", Record(nom="Leroy", prenom="M.", email=INFO))]
    contacts = [
        Candidate("people/a", Record(nom="Leroy", prenom="Marc", email=INFO)),
        Candidate("people/b", Record(nom="Leroy", prenom="Anne", email=INFO)),
    ]
    result = match(clients, contacts)
    assert result.matches == ()
    assert [d.reason for d in result.duplicates] == ["same_email"]
    # one client and one contact with the address are the same person, as before
    single = match(clients, contacts[:1])
    assert [(m.how, m.client_id, m.resource_name) for m in single.matches] == [
        ("email", "1", "people/a")
    ]
