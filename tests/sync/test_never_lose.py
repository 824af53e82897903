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
