"""What real Google sends, survived (issue 12 and issue 11 items 10-11).

Each test drives the engine against the emulator through the real
google-api-python-client, on SQLite and (when configured) PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from atarys.emulator import DEFAULT_USER
from atarys.models import SyncLink
from atarys.sync.core.mapping import person_to_record
from atarys.sync.service import SyncService
from atarys.sync.sides.google import pack_cursor
from fixtures.checks import assert_quiet, contacts, live_clients
from fixtures.emulator import Admin
from fixtures.sync import add_client, new_contact


def links(session: Session) -> list[SyncLink]:
    return list(session.scalars(select(SyncLink)))


def person(people: Any, rn: str) -> dict[str, Any]:
    fields = "names,emailAddresses,phoneNumbers,addresses,organizations,clientData,metadata"
    result: dict[str, Any] = people.people().get(resourceName=rn, personFields=fields).execute()
    return result


def update_calls(emulator: Any) -> int:
    return int(emulator.stats(DEFAULT_USER)["methods"].get("people.batchUpdateContacts", 0))


def run_items(service: SyncService, run_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = service.get_run(run_id).to_dict()["items"]
    return items


# --- 1. sync tokens -------------------------------------------------------------------


def _token_for(people: Any, fields: str) -> str:
    """A real sync token made by a listing that asked for other person fields."""
    answer = (
        people.people()
        .connections()
        .list(resourceName="people/me", personFields=fields, requestSyncToken=True)
        .execute()
    )
    return str(answer["nextSyncToken"])


def test_token_of_another_release_is_dropped_once(
    session: Session, google_service: SyncService, people_service: Any
) -> None:
    """A token stored before tags existed (or for other fields) → one full listing, then
    incremental again; never a run stuck on a 400 INVALID_ARGUMENT."""
    add_client(session, nom="Martin", email="jean@example.com")
    google_service.sync_all()
    account = google_service.account
    account.sync_token = _token_for(people_service, "names")  # an older release's token
    session.commit()
    result = google_service.sync_all()
    assert result.full_listing
    assert_quiet(result)
    assert result.errors == []
    again = google_service.sync_all()
    assert not again.full_listing
    assert_quiet(again)


def test_tagged_token_refused_for_its_parameters_lists_everything(
    session: Session, google_service: SyncService, people_service: Any
) -> None:
    """Any 400 on a sync-token listing (not only EXPIRED_SYNC_TOKEN) drops the token."""
    add_client(session, nom="Martin", email="jean@example.com")
    google_service.sync_all()
    google_service.account.sync_token = pack_cursor(_token_for(people_service, "names"))
    session.commit()
    result = google_service.sync_all()
    assert result.full_listing
    assert result.api_calls["connections.list"] == 2  # the refused call, the full listing
    assert_quiet(result)
    assert not google_service.sync_all().full_listing


def test_new_field_mask_resets_the_token_without_sending_it(
    session: Session, google_service: SyncService
) -> None:
    """A token made for another mask is not even sent: one listing call, a full one."""
    add_client(session, nom="Martin", email="jean@example.com")
    google_service.sync_all()
    account = google_service.account
    assert account.sync_token is not None
    token = account.sync_token.split("|", 1)[1]
    account.sync_token = f"pf1.0000000000|{token}"  # made by a release asking other fields
    session.commit()
    result = google_service.sync_all()
    assert result.full_listing
    assert result.api_calls["connections.list"] == 1
    assert_quiet(result)


# --- 2. per-contact batch errors ------------------------------------------------------


def test_one_rejected_contact_costs_one_more_batch(
    session: Session, google_service: SyncService, emulator: Any
) -> None:
    """40 edits, Google refuses one contact: ≤ 3 update calls, 39 written, one named error."""
    clients = [add_client(session, nom=f"N{i:02d}", email=f"n{i}@example.com") for i in range(40)]
    google_service.sync_all()
    emulator.set_faults(reject_marker="REFUSÉ")
    for i, client in enumerate(clients):
        client.ville = "Ville REFUSÉE" if i == 17 else f"Ville {i}"
    session.commit()
    emulator.reset_stats()

    result = google_service.sync_all()

    assert update_calls(emulator) <= 3
    assert result.atarys_to_google.updated == 39
    assert result.atarys_to_google.errors == 1
    [error] = [i for i in run_items(google_service, result.run_id) if i["action"] == "error"]
    assert error["name"].startswith("N17")
    assert "Google a refusé" in error["message"]
    emulator.set_faults(reject_marker=None)
    fixed = google_service.sync_all()  # the cursor did not move: the refused edit goes now
    assert fixed.atarys_to_google.updated == 1
    assert_quiet(google_service.sync_all())


def test_one_rejected_create_does_not_stop_the_others(
    session: Session, google_service: SyncService, emulator: Any, admin: Admin
) -> None:
    google_service.sync_all()  # the ATARYS group exists
    for i in range(6):
        add_client(session, nom="REFUSÉ" if i == 2 else f"N{i}", email=f"n{i}@example.com")
    emulator.set_faults(reject_marker="REFUSÉ")
    emulator.reset_stats()
    result = google_service.sync_all()
    creates = emulator.stats(DEFAULT_USER)["methods"]["people.batchCreateContacts"]
    assert creates == 2
    assert result.atarys_to_google.created == 5
    assert result.atarys_to_google.errors == 1
    assert len(contacts(admin)) == 5


# --- 3. profile data ------------------------------------------------------------------

PROFILE = {
    "names": [{"givenName": "Profil", "familyName": "Vérifié"}],
    "emailAddresses": [{"value": "verifie@gmail.com"}],
    "phoneNumbers": [{"value": "+33699999999"}],
}


def test_profile_values_are_never_imported_nor_written(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    """A contact with no e-mail of its own but a verified profile e-mail: the client gets
    no e-mail; a profile attached to a linked contact writes nothing anywhere."""
    bare = new_contact(people_service, names=[{"familyName": "Durand"}])
    admin.call("POST", f"contacts/{bare['resourceName']}/profile", {"profile": PROFILE})
    martin = add_client(session, nom="Martin", email="jean@example.com", telephone="+33612345678")
    google_service.sync_all()
    [durand] = [c for c in live_clients(session) if c.nom == "Durand"]
    assert (durand.email, durand.telephone, durand.prenom) == (None, None, None)
    rn = next(lk.resource_name for lk in links(session) if lk.client_id == martin.id)
    admin.call("POST", f"contacts/{rn}/profile", {"profile": PROFILE})
    assert_quiet(google_service.sync_all())
    session.expire_all()
    assert (martin.email, martin.telephone) == ("jean@example.com", "+33612345678")


def test_profile_entry_alone_is_not_the_contacts_value() -> None:
    """Profile entries are left out even when one is the field's only (primary) entry."""
    profile = {"type": "PROFILE", "id": "1"}
    record = person_to_record(
        {
            "names": [{"familyName": "Vérifié", "metadata": {"primary": True, "source": profile}}],
            "emailAddresses": [
                {"value": "v@gmail.com", "metadata": {"primary": True, "source": profile}}
            ],
            "organizations": [{"name": "ACME", "metadata": {"source": {"type": "CONTACT"}}}],
        }
    )
    assert record.email is None
    assert record.nom == "ACME"  # no family name of its own: the company names the client


# --- 4. matching ----------------------------------------------------------------------


def test_matching_uses_every_email_and_the_phone(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    """A client's e-mail that is a contact's second e-mail, a client with no e-mail whose
    phone is a contact's: linked, no second contact."""
    new_contact(
        people_service,
        names=[{"familyName": "Durand"}],
        emailAddresses=[{"value": "paul.perso@example.com"}, {"value": "Paul@Durand-BTP.fr"}],
    )
    new_contact(
        people_service, names=[{"familyName": "Petit"}], phoneNumbers=[{"value": "06 11 22 33 44"}]
    )
    add_client(session, nom="Durand", email="paul@durand-btp.fr")
    add_client(session, nom="Petit", telephone="+33611223344")
    result = google_service.sync_all()
    assert result.atarys_to_google.linked == 2
    assert result.atarys_to_google.created == 0
    assert result.google_to_atarys.created == 0
    assert len(contacts(admin)) == 2
    assert len(live_clients(session)) == 2
    assert_quiet(google_service.sync_all())


def test_merge_in_google_deletes_no_client(
    session: Session, google_service: SyncService, admin: Admin
) -> None:
    """Two linked contacts merged in Google: one link kept, the other client reported as a
    duplicate for a person; no client deleted, no contact created again."""
    a = add_client(session, nom="Durand", email="a@example.com")
    b = add_client(session, nom="Durand", prenom="Paul", email="b@example.com")
    google_service.sync_all()
    rn = {lk.client_id: lk.resource_name for lk in links(session)}
    admin.call("POST", f"contacts/{rn[a.id]}/merge", {"other": rn[b.id]})

    result = google_service.sync_all()

    assert result.google_to_atarys.deleted == 0
    assert {c.id for c in live_clients(session)} == {a.id, b.id}
    assert [lk.client_id for lk in links(session)] == [a.id]
    dups = google_service.list_duplicates()
    assert any(b.id in d.client_ids for d in dups)
    for _ in range(2):
        again = google_service.sync_all()
        assert again.atarys_to_google.created == 0
        assert len(contacts(admin)) == 1
        assert any(b.id in d.client_ids for d in google_service.list_duplicates())


# --- 6. values ATARYS cannot store ----------------------------------------------------


def test_unstorable_values_are_adapted_and_reported(
    session: Session, google_service: SyncService, people_service: Any, client: FlaskClient
) -> None:
    """Every imported client passes the form's validation (PUT unchanged → 200); each
    adaptation is said on the run's item, the run ends."""
    new_contact(people_service, names=[{"givenName": "Zoé"}])
    new_contact(people_service, organizations=[{"name": "Menuiserie Leroy"}])
    new_contact(
        people_service,
        names=[{"familyName": "Nu\u0000l\u0007", "givenName": "Ann"}],
        emailAddresses=[{"value": "pas-un-email"}],
        phoneNumbers=[{"value": "appeler le standard"}],
        organizations=[{"name": "X" * 300}],
    )
    result = google_service.sync_all()
    assert result.errors == []
    assert result.google_to_atarys.created == 3
    clients = {c.nom: c for c in live_clients(session)}
    assert set(clients) == {"Zoé", "Menuiserie Leroy", "Nul"}
    odd = clients["Nul"]
    assert (odd.email, odd.telephone, len(odd.entreprise or "")) == (None, None, 200)
    for c in clients.values():
        body = client.get(f"/api/clients/{c.id}").get_json()["data"]
        fields = {k: body[k] for k in ("nom", "prenom", "email", "telephone", "adresse", "ville")}
        fields |= {k: body[k] for k in ("code_postal", "entreprise", "fonction")}
        answer = client.put(f"/api/clients/{c.id}", json=fields)
        assert answer.status_code == 200, answer.get_json()
    messages = {
        i["name"]: i["message"]
        for i in run_items(google_service, result.run_id)
        if i["action"] == "created"
    }
    noted = next(m for n, m in messages.items() if n and n.startswith("NUL"))
    assert "pas-un-email" in noted
    assert "téléphone" in noted
    assert "trop long" in noted
    assert "contrôle" in noted
    run = google_service.list_runs(limit=1).items[0]
    assert run.status != "running"
    assert_quiet(google_service.sync_all())


# --- 7. formattedValue addresses ------------------------------------------------------


def test_formatted_address_is_read_in_parts_and_written_back_in_parts(
    session: Session, google_service: SyncService, people_service: Any
) -> None:
    contact = new_contact(
        people_service,
        names=[{"familyName": "Durand"}],
        addresses=[{"formattedValue": "12 rue de la République\n69001 Lyon"}],
    )
    google_service.sync_all()
    [durand] = live_clients(session)
    assert (durand.adresse, durand.code_postal, durand.ville) == (
        "12 rue de la République",
        "69001",
        "Lyon",
    )
    durand.ville = "Villeurbanne"
    session.commit()
    google_service.sync_all()
    [address] = person(people_service, contact["resourceName"])["addresses"]
    assert (address.get("streetAddress"), address.get("postalCode"), address.get("city")) == (
        "12 rue de la République",
        "69001",
        "Villeurbanne",
    )
    assert_quiet(google_service.sync_all())
