"""The seed's sync algorithm, written honestly and small, for comparison only (not a feature).

Per client: find the Google contact by e-mail (``searchContacts``), then update it
(``updateContact``) or create it (``createContact``). Then per Google contact: fetch
it (``people.get``) and import it into ATARYS when no client has its e-mail. This is
the seed's ``sync_contact`` sketch applied to every client, then to every contact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atarys.models import Client

PERSON_FIELDS = "names,emailAddresses,phoneNumbers,addresses,organizations"


def _person(client: Client) -> dict[str, Any]:
    person: dict[str, Any] = {
        "names": [{"familyName": client.nom, "givenName": client.prenom or ""}]
    }
    if client.email:
        person["emailAddresses"] = [{"value": client.email}]
    if client.telephone:
        person["phoneNumbers"] = [{"value": client.telephone}]
    if client.adresse or client.ville or client.code_postal:
        person["addresses"] = [
            {
                "streetAddress": client.adresse or "",
                "city": client.ville or "",
                "postalCode": client.code_postal or "",
            }
        ]
    if client.entreprise or client.fonction:
        person["organizations"] = [
            {"name": client.entreprise or "", "title": client.fonction or ""}
        ]
    return person


def _first(person: dict[str, Any], field: str, key: str) -> str | None:
    entries = person.get(field) or []
    value = entries[0].get(key) if entries else None
    return str(value) if value else None


def naive_sync(session: Session, people: Any) -> dict[str, int]:
    """One full naive run; returns counts of what it did."""
    counts = {"created": 0, "updated": 0, "imported": 0}
    clients = list(session.scalars(select(Client).where(Client.deleted_at.is_(None))))
    emails = {c.email.lower() for c in clients if c.email}
    # The seed's search needs its warm-up request before it answers.
    people.people().searchContacts(query="", readMask="emailAddresses").execute()
    for client in clients:
        found = None
        if client.email:
            answer = (
                people.people()
                .searchContacts(query=client.email, readMask=PERSON_FIELDS, pageSize=1)
                .execute()
            )
            results = answer.get("results") or []
            found = results[0]["person"] if results else None
        if found is not None:
            current = (
                people.people()
                .get(resourceName=found["resourceName"], personFields=PERSON_FIELDS)
                .execute()
            )
            body = _person(client) | {"etag": current["etag"]}
            people.people().updateContact(
                resourceName=found["resourceName"], updatePersonFields=PERSON_FIELDS, body=body
            ).execute()
            counts["updated"] += 1
        else:
            people.people().createContact(body=_person(client)).execute()
            counts["created"] += 1
    page_token: str | None = None
    while True:
        answer = (
            people.people()
            .connections()
            .list(resourceName="people/me", personFields="emailAddresses", pageToken=page_token)
            .execute()
        )
        for summary in answer.get("connections") or []:
            person = (
                people.people()
                .get(resourceName=summary["resourceName"], personFields=PERSON_FIELDS)
                .execute()
            )
            email = _first(person, "emailAddresses", "value")
            if email and email.lower() in emails:
                continue
            session.add(
                Client(
                    nom=_first(person, "names", "familyName") or "(sans nom)",
                    prenom=_first(person, "names", "givenName"),
                    email=email,
                    telephone=_first(person, "phoneNumbers", "value"),
                    ville=_first(person, "addresses", "city"),
                    code_postal=_first(person, "addresses", "postalCode"),
                    entreprise=_first(person, "organizations", "name"),
                    fonction=_first(person, "organizations", "title"),
                )
            )
            if email:
                emails.add(email.lower())
            counts["imported"] += 1
        session.commit()
        page_token = answer.get("nextPageToken")
        if not page_token:
            break
    return counts
