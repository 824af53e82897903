"""The engine end to end against the emulator, one test per way other sync tools broke."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from atarys.models import GoogleAccount, SyncConflict, SyncLink
from atarys.sync.core.errors import AccountBusyError, MassDeletionError, SyncError
from atarys.sync.service import RunResult, SyncService
from atarys.sync.sides.google import GoogleSide
from atarys.sync.store import Store
from fixtures.checks import contacts, live_clients
from fixtures.emulator import Admin
from fixtures.sync import GOOGLE_OPTIONS, add_client, new_contact

WRITE_METHODS = (
    "batchCreateContacts",
    "batchUpdateContacts",
    "batchDeleteContacts",
    "contactGroups.create",
)


def google_writes(result: RunResult) -> int:
    return sum(n for m, n in result.api_calls.items() if m.endswith(WRITE_METHODS))


def assert_quiet(result: RunResult) -> None:
    """A run that wrote nothing anywhere."""
    d = result.to_dict()
    assert google_writes(result) == 0, d
    assert d["atarys_to_google"]["success"] == 0, d
    assert d["google_to_atarys"]["success"] == 0, d


def links(session: Session) -> list[SyncLink]:
    return list(session.scalars(select(SyncLink)))


def person(people: Any, rn: str) -> dict[str, Any]:
    fields = "names,emailAddresses,phoneNumbers,addresses,organizations,clientData,memberships,birthdays,biographies,metadata"
    result: dict[str, Any] = people.people().get(resourceName=rn, personFields=fields).execute()
    return result


def seed(session: Session, people: Any) -> None:
    add_client(
        session,
        nom="Martin",
        prenom="Jean",
        email="jean@example.com",
        telephone="+33612345678",
        ville="Paris",
    )
    add_client(session, nom="Durand", email="shared@example.com")
    new_contact(
        people,
        names=[{"familyName": "Durand", "givenName": "Paul"}],
        emailAddresses=[{"value": "Shared@Example.com"}, {"value": "paul.perso@example.com"}],
        phoneNumbers=[{"value": "+33 1 23 45 67 89"}],
        birthdays=[{"date": {"year": 1980, "month": 1, "day": 2}}],
        biographies=[{"value": "Client depuis 2010"}],
        clientData=[{"key": "other_app", "value": "x"}],
    )
    new_contact(
        people, names=[{"familyName": "Petit"}], emailAddresses=[{"value": "petit@example.com"}]
    )


def test_first_sync_links_and_second_writes_nothing(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    """Creates, links by e-mail, imports; Google-only data survives; the next runs write nothing."""
    seed(session, people_service)
    first = google_service.sync_all()
    d = first.to_dict()
    assert (
        d["atarys_to_google"]["created"],
        d["atarys_to_google"]["linked"],
        d["google_to_atarys"]["created"],
    ) == (1, 1, 1)
    assert d["atarys_to_google"]["success"] == 2
    assert len(links(session)) == 3
    assert len(live_clients(session)) == 3
    assert len(contacts(admin)) == 3
    durand = next(c for c in live_clients(session) if c.nom == "Durand")
    assert durand.prenom == "Paul"
    assert durand.telephone == "+33123456789"
    link = next(lk for lk in links(session) if lk.client_id == durand.id)
    p = person(people_service, link.resource_name)
    assert [e["value"] for e in p["emailAddresses"]] == [
        "Shared@Example.com",
        "paul.perso@example.com",
    ]
    assert p["birthdays"][0]["date"]["year"] == 1980
    assert p["biographies"][0]["value"] == "Client depuis 2010"
    assert {"key": "other_app", "value": "x"} in [
        {"key": c["key"], "value": c["value"]} for c in p["clientData"]
    ]
    assert {"key": "atarys_client_id", "value": str(durand.id)} in [
        {"key": c["key"], "value": c["value"]} for c in p["clientData"]
    ]
    for _ in range(3):
        assert_quiet(google_service.sync_all())
    assert len(contacts(admin)) == 3


def test_created_contacts_join_the_atarys_group(
    session: Session, google_service: SyncService, people_service: Any
) -> None:
    add_client(session, nom="Martin", email="jean@example.com")
    google_service.sync_all()
    account = google_service.account
    assert account.group_resource_name
    link = links(session)[0]
    groups = [
        m["contactGroupMembership"]["contactGroupResourceName"]
        for m in person(people_service, link.resource_name).get("memberships", [])
    ]
    assert account.group_resource_name in groups


def test_edit_both_sides_field_level(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    """Different fields edited on each side both survive; only mapped entries are touched."""
    seed(session, people_service)
    google_service.sync_all()
    durand = next(c for c in live_clients(session) if c.nom == "Durand")
    link = next(lk for lk in links(session) if lk.client_id == durand.id)
    durand.ville = "Lyon"
    session.commit()
    admin.call(
        "PATCH",
        f"contacts/{link.resource_name}",
        {"organizations": [{"name": "ACME", "title": "Gérant"}]},
    )
    result = google_service.sync_all()
    assert result.atarys_to_google.updated == 1
    assert result.google_to_atarys.updated == 1
    session.expire_all()
    assert (durand.ville, durand.entreprise, durand.fonction) == ("Lyon", "ACME", "Gérant")
    p = person(people_service, link.resource_name)
    assert p["addresses"][0]["city"] == "Lyon"
    assert p["birthdays"][0]["date"]["year"] == 1980
    assert len(p["emailAddresses"]) == 2
    assert_quiet(google_service.sync_all())


def test_conflict_newest_wins_and_is_journaled(
    session: Session, google_service: SyncService, admin: Admin, emulator: Any
) -> None:
    add_client(session, nom="Martin", email="jean@example.com", ville="Paris")
    google_service.sync_all()
    client = live_clients(session)[0]
    rn = links(session)[0].resource_name
    client.ville = "Lyon"
    session.commit()
    emulator.advance_clock(120)  # Google's edit is later
    admin.call("PATCH", f"contacts/{rn}", {"addresses": [{"city": "Nice"}]})
    result = google_service.sync_all()
    assert result.conflicts == 1
    session.expire_all()
    assert client.ville == "Nice"
    [conflict] = google_service.list_conflicts(status=None)
    assert (conflict.status, conflict.resolution, conflict.atarys_value, conflict.google_value) == (
        "resolved",
        "newest",
        "Lyon",
        "Nice",
    )
    assert_quiet(google_service.sync_all())


def test_manual_conflict_then_resolution(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    """Policy manual: both values kept until a person picks; then both sides agree."""
    account = google_service.account
    account.conflict_policy = "manual"
    session.commit()
    add_client(session, nom="Martin", email="jean@example.com", ville="Paris")
    google_service.sync_all()
    client = live_clients(session)[0]
    rn = links(session)[0].resource_name
    client.ville = "Lyon"
    session.commit()
    admin.call("PATCH", f"contacts/{rn}", {"addresses": [{"city": "Nice"}]})
    google_service.sync_all()
    [conflict] = google_service.list_conflicts()
    assert (conflict.atarys_value, conflict.google_value) == ("Lyon", "Nice")
    again = google_service.sync_all()  # still open, not duplicated, nothing written
    assert google_writes(again) == 0
    assert len(google_service.list_conflicts()) == 1
    google_service.resolve_conflict(conflict.id, choice="value", value="Marseille")
    session.expire_all()
    assert client.ville == "Marseille"
    assert person(people_service, rn)["addresses"][0]["city"] == "Marseille"
    assert google_service.list_conflicts() == []
    assert_quiet(google_service.sync_all())


def test_deletions_propagate_and_edit_beats_delete(
    session: Session, google_service: SyncService, admin: Admin
) -> None:
    a = add_client(session, nom="A", email="a@example.com")
    b = add_client(session, nom="B", email="b@example.com")
    c = add_client(session, nom="C", email="c@example.com")
    google_service.sync_all()
    rn = {lk.client_id: lk.resource_name for lk in links(session)}
    from atarys.models import utcnow

    a.deleted_at = utcnow()  # deleted in ATARYS → contact deleted
    session.commit()
    admin.call("DELETE", f"contacts/{rn[b.id]}")  # deleted in Google → client soft-deleted
    admin.call(
        "DELETE", f"contacts/{rn[c.id]}"
    )  # deleted in Google but edited in ATARYS → comes back
    c.ville = "Lyon"
    session.commit()
    result = google_service.sync_all()
    assert result.atarys_to_google.deleted == 1
    assert result.google_to_atarys.deleted == 1
    assert result.atarys_to_google.created == 1
    session.expire_all()
    assert b.deleted_at is not None
    assert c.deleted_at is None
    emails = sorted(x["emailAddresses"][0]["value"] for x in contacts(admin))
    assert emails == ["c@example.com"]
    assert_quiet(google_service.sync_all())


def test_unlink_settings(session: Session, google_service: SyncService, admin: Admin) -> None:
    account = google_service.account
    account.google_deletions = "unlink"
    account.atarys_deletions = "unlink"
    session.commit()
    a = add_client(session, nom="A", email="a@example.com")
    b = add_client(session, nom="B", email="b@example.com")
    google_service.sync_all()
    rn = {lk.client_id: lk.resource_name for lk in links(session)}
    from atarys.models import utcnow

    a.deleted_at = utcnow()
    session.commit()
    admin.call("DELETE", f"contacts/{rn[b.id]}")
    result = google_service.sync_all()
    assert result.atarys_to_google.unlinked + result.google_to_atarys.unlinked == 2
    session.expire_all()
    assert b.deleted_at is None
    assert len(contacts(admin)) == 1
    assert links(session) == []


def test_breaker_refuses_mass_deletion_unless_forced(
    session: Session, google_service: SyncService, admin: Admin
) -> None:
    """Google "briefly empty": every contact gone → refused with reasons; forced → applied."""
    for i in range(30):
        add_client(session, nom=f"N{i}", email=f"n{i}@example.com")
    google_service.sync_all()
    for c in contacts(admin):
        admin.call("DELETE", f"contacts/{c['resourceName']}")
    with pytest.raises(MassDeletionError) as info:
        google_service.sync_all()
    assert info.value.counts["atarys"] == 30
    assert "supprimés" in info.value.message
    assert len(live_clients(session)) == 30
    runs = google_service.list_runs(limit=1).items
    assert runs[0].status == "refused"
    dry = google_service.sync_all(dry_run=True)
    assert dry.breaker
    assert len(dry.plan) == 30
    forced = google_service.sync_all(force=True)
    assert forced.google_to_atarys.deleted == 30
    assert live_clients(session) == []


def test_expired_sync_token_full_listing_no_duplicates(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    seed(session, people_service)
    google_service.sync_all()
    admin.call("POST", "expire-sync-tokens")
    result = google_service.sync_all()
    assert result.full_listing
    assert_quiet(result)
    assert len(contacts(admin)) == 3
    assert_quiet(google_service.sync_all())


def test_pagination_is_not_deletion(
    session: Session, account: GoogleAccount, people_service: Any, admin: Admin, tmp_path: Path
) -> None:
    """A listing over many pages is read to the end (small pages here); nothing is deleted."""
    for i in range(25):
        add_client(session, nom=f"N{i}", email=f"n{i}@example.com")
    service = SyncService(
        session,
        account,
        people_service,
        log_dir=tmp_path,
        google_options={**GOOGLE_OPTIONS, "page_size": 7},
    )
    service.sync_all()
    account.sync_token = None  # force a full listing again
    session.commit()
    result = service.sync_all()
    assert result.api_calls["connections.list"] == 4
    assert_quiet(result)
    assert len(live_clients(session)) == 25


def test_touch_and_phone_reformatting_cost_nothing(
    session: Session, google_service: SyncService, admin: Admin, emulator: Any
) -> None:
    emulator.set_faults(phone_format="NATIONAL")
    for i in range(5):
        add_client(session, nom=f"N{i}", email=f"n{i}@example.com", telephone=f"+3361234567{i}")
    google_service.sync_all()
    for c in contacts(admin):
        admin.call("POST", f"contacts/{c['resourceName']}/touch")
    assert_quiet(google_service.sync_all())
    assert_quiet(google_service.sync_all())


def test_wiped_status_relinks_by_client_data(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    """Lost status (links deleted): the next run links by clientData, creates and deletes nothing."""
    seed(session, people_service)
    google_service.sync_all()
    Store(session, google_service.account).forget_all_links()
    google_service.account.sync_token = None
    google_service.account.atarys_watermark = None
    session.commit()
    result = google_service.sync_all()
    assert result.atarys_to_google.linked == 3
    assert result.atarys_to_google.created == 0
    assert result.google_to_atarys.created == 0
    assert len(contacts(admin)) == 3
    assert len(live_clients(session)) == 3
    assert_quiet(google_service.sync_all())


def test_lost_response_then_next_run_links(
    session: Session, google_service: SyncService, admin: Admin, emulator: Any
) -> None:
    """Google applies a batch create but the answer is lost: no duplicate afterwards."""
    google_service.sync_all()  # the ATARYS group exists
    for i in range(5):
        add_client(session, nom=f"N{i}", email=f"n{i}@example.com")
    emulator.set_faults(fail_after_apply=1)
    with pytest.raises(SyncError):
        google_service.sync_all()
    assert len(contacts(admin)) == 5
    result = google_service.sync_all()
    assert result.atarys_to_google.linked == 5
    assert result.atarys_to_google.created == 0
    assert len(contacts(admin)) == 5
    assert_quiet(google_service.sync_all())


def test_quota_and_unavailable_are_retried(
    session: Session, google_service: SyncService, emulator: Any, admin: Admin
) -> None:
    for i in range(5):
        add_client(session, nom=f"N{i}", email=f"n{i}@example.com")
    emulator.set_faults(fail_next=3, fail_next_code=503)
    google_service.sync_all()
    emulator.set_faults(fail_next=2, fail_next_code=429)
    admin.call(
        "PATCH",
        f"contacts/{contacts(admin)[0]['resourceName']}",
        {"names": [{"familyName": "Zed"}]},
    )
    result = google_service.sync_all()
    assert result.google_to_atarys.updated == 1
    google = google_service.google()
    assert isinstance(google, GoogleSide)
    assert google.retries >= 5
    assert len(contacts(admin)) == 5


def test_stale_etag_rereads_and_replans(
    session: Session, google_service: SyncService, admin: Admin
) -> None:
    """The contact changes between our read and our write: re-read, re-plan, both edits kept."""
    client = add_client(session, nom="Martin", email="jean@example.com")
    google_service.sync_all()
    rn = links(session)[0].resource_name
    client.ville = "Lyon"
    session.commit()
    google = google_service.google()
    assert isinstance(google, GoogleSide)
    original = google.update
    calls = {"n": 0}

    def racing_update(changes: Any) -> Any:
        if calls["n"] == 0:
            admin.call("PATCH", f"contacts/{rn}", {"organizations": [{"name": "ACME"}]})
        calls["n"] += 1
        return original(changes)

    google.update = racing_update  # type: ignore[method-assign]
    result = google_service.sync_all()
    assert calls["n"] == 2
    assert result.atarys_to_google.updated == 1
    assert result.google_to_atarys.updated == 1
    session.expire_all()
    c = contacts(admin)[0]
    assert c["addresses"][0]["city"] == "Lyon"
    assert c["organizations"][0]["name"] == "ACME"
    assert client.entreprise == "ACME"
    google.update = original  # type: ignore[method-assign]
    assert_quiet(google_service.sync_all())


def test_propagation_delay_no_duplicates(
    session: Session, google_service: SyncService, admin: Admin, emulator: Any
) -> None:
    emulator.set_faults(propagation_delay_s=120)
    for i in range(3):
        add_client(session, nom=f"N{i}", email=f"n{i}@example.com")
    google_service.sync_all()
    assert_quiet(google_service.sync_all())
    emulator.advance_clock(300)
    assert_quiet(google_service.sync_all())
    assert len(contacts(admin)) == 3


def test_dry_run_writes_nothing_and_prints(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    seed(session, people_service)
    dry = google_service.sync_all(dry_run=True)
    assert google_writes(dry) == 0
    assert links(session) == []
    assert len(contacts(admin)) == 2
    d = dry.to_dict()
    assert d["dry_run"] is True
    assert {p["action"] for p in d["plan"]} == {"create_google", "create_atarys", "link_email"}
    assert "create_google" in dry.text
    assert "prenom" in dry.text


def test_one_run_at_a_time(session: Session, google_service: SyncService) -> None:
    store = Store(session, google_service.account)
    store.acquire_lock("someone-else")
    with pytest.raises(AccountBusyError):
        google_service.sync_all()
    store.release_lock("someone-else")
    google_service.sync_all()


def test_concurrent_runs_one_refused(
    app: Any, account: GoogleAccount, emulator: Any, emulator_token: str, tmp_path: Path
) -> None:
    """Two threads start a run on the same account: one runs, the other gets AccountBusyError."""
    from google.oauth2.credentials import Credentials

    from atarys.extensions import db
    from atarys.google.client import build_people_service

    emulator.set_faults(latency_ms=150)
    with app.app_context():
        for i in range(3):
            add_client(db.session, nom=f"N{i}", email=f"n{i}@example.com")
    account_id = account.id  # read here: the fixture's session belongs to this thread
    outcomes: list[str] = []
    barrier = threading.Barrier(2, timeout=30)

    def worker() -> None:
        # one People service per thread: httplib2 is not thread-safe
        people = build_people_service(Credentials(token=emulator_token), emulator.url)
        with app.app_context():
            try:
                acc = db.session.get(GoogleAccount, account_id)
                assert acc is not None
                service = SyncService(
                    db.session, acc, people, log_dir=tmp_path, google_options=GOOGLE_OPTIONS
                )
                barrier.wait()
                service.sync_all()
                outcomes.append("ran")
            except AccountBusyError:
                outcomes.append("busy")
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcomes.append(repr(exc))
                barrier.abort()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["busy", "ran"], "; ".join(outcomes)


def test_single_item_entry_points(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    client = add_client(session, nom="Martin", email="jean@example.com")
    r1 = google_service.sync_client_to_google(client.id)
    assert r1.action == "created"
    assert r1.google_id
    r2 = google_service.sync_client_to_google(client.id)
    assert r2.action == "unchanged"
    client.ville = "Lyon"
    session.commit()
    assert google_service.sync_client_to_google(client.id).action == "updated"
    contact = new_contact(
        people_service,
        names=[{"familyName": "Petit"}],
        emailAddresses=[{"value": "petit@example.com"}],
    )
    r3 = google_service.sync_contact_from_google(contact["resourceName"])
    assert r3.action == "created"
    assert r3.client_id is not None
    assert r3.to_dict()["client_id"] == r3.client_id
    with pytest.raises(SyncError):
        google_service.sync_contact_from_google("people/c999999")
    with pytest.raises(SyncError):
        google_service.sync_client_to_google(999999)
    assert_quiet(google_service.sync_all())
    run = google_service.get_run(google_service.list_runs(limit=10).items[-1].id).to_dict()
    assert run["items"]


def test_import_scope_group(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    """Scope "group": contacts outside the ATARYS group are not imported."""
    google_service.account.import_scope = "group"
    session.commit()
    new_contact(
        people_service,
        names=[{"familyName": "Outside"}],
        emailAddresses=[{"value": "out@example.com"}],
    )
    add_client(session, nom="Martin", email="jean@example.com")
    result = google_service.sync_all()
    assert result.google_to_atarys.created == 0
    assert result.atarys_to_google.created == 1
    assert [c.nom for c in live_clients(session)] == ["Martin"]


def test_log_file_has_one_line_per_action_and_no_token(
    session: Session, google_service: SyncService, emulator_token: str, tmp_path: Path
) -> None:
    add_client(session, nom="Martin", email="jean@example.com")
    google_service.sync_all()
    text = (tmp_path / "logs" / "google_contacts_sync.log").read_text(encoding="utf-8")
    assert "atarys_to_google created" in text
    assert emulator_token not in text


def test_duplicates_reported_not_merged(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    new_contact(
        people_service, names=[{"familyName": "A"}], emailAddresses=[{"value": "dup@example.com"}]
    )
    # the same person twice (one name, one address); two names would be two colleagues
    # sharing a company address (tests/sync/test_shared_email.py)
    new_contact(
        people_service, names=[{"familyName": "a"}], emailAddresses=[{"value": "DUP@example.com"}]
    )
    result = google_service.sync_all()
    assert result.duplicates == 1
    assert live_clients(session) == []
    [dup] = google_service.list_duplicates()
    assert dup.to_dict()["email"] == "dup@example.com"
    assert len(dup.resource_names) == 2
    # a person merges them in Google: the duplicate resolves and the contact is imported
    admin.call("DELETE", f"contacts/{dup.resource_names[1]}")
    after = google_service.sync_all()
    assert after.google_to_atarys.created == 1
    assert google_service.list_duplicates() == []


def test_conflict_row_keeps_both_values(session: Session, google_service: SyncService) -> None:
    assert session.scalars(select(SyncConflict)).all() == []


def test_contact_limit_stops_creates_for_the_run(
    session: Session,
    google_service: SyncService,
    emulator: Any,
    admin: Admin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Google full: one refused create call, the rest journaled, updates and deletions go on."""
    from atarys.emulator import DEFAULT_USER, state
    from atarys.models import utcnow
    from atarys.sync.core.errors import CONTACT_LIMIT_MESSAGE

    a = add_client(session, nom="A", email="a@example.com")
    b = add_client(session, nom="B", email="b@example.com")
    google_service.sync_all()
    monkeypatch.setattr(state, "MAX_CONTACTS", 2)  # the account is at its cap
    google = google_service.google()
    assert isinstance(google, GoogleSide)
    google.create_batch = 5
    for i in range(30):
        add_client(session, nom=f"N{i}", email=f"n{i}@example.com")
    a.ville = "Lyon"  # an update
    b.deleted_at = utcnow()  # a deletion (frees one place: still no room for a batch)
    session.commit()
    before = emulator.stats(DEFAULT_USER)["methods"].get("people.batchCreateContacts", 0)

    result = google_service.sync_all()

    creates = emulator.stats(DEFAULT_USER)["methods"]["people.batchCreateContacts"] - before
    assert creates == 1
    d = result.to_dict()
    assert d["status"] == "partial"
    assert d["atarys_to_google"]["created"] == 0
    assert d["atarys_to_google"]["errors"] == 30
    assert d["atarys_to_google"]["updated"] == 1
    assert d["atarys_to_google"]["deleted"] == 1
    assert set(result.errors) == {CONTACT_LIMIT_MESSAGE}
    items = google_service.get_run(result.run_id).to_dict()["items"]
    errors = [i for i in items if i["action"] == "error"]
    assert len(errors) == 30
    assert {i["message"] for i in errors} == {CONTACT_LIMIT_MESSAGE}
    assert [c["addresses"][0].get("city") for c in contacts(admin) if c.get("addresses")] == [
        "Lyon"
    ]
    assert len(contacts(admin)) == 1


def test_deleted_atarys_group_is_found_again(
    session: Session, google_service: SyncService, people_service: Any, admin: Admin
) -> None:
    """Someone deleted the ATARYS group in Google: the next creates re-create it and go in."""
    add_client(session, nom="Martin", email="jean@example.com")
    google_service.sync_all()
    old = google_service.account.group_resource_name
    assert old
    people_service.contactGroups().delete(resourceName=old, deleteContacts=False).execute()
    add_client(session, nom="Petit", email="petit@example.com")
    add_client(session, nom="Grand", email="grand@example.com")

    result = google_service.sync_all()

    assert result.errors == []
    assert result.atarys_to_google.created == 2
    session.expire_all()
    new = google_service.account.group_resource_name
    assert new
    assert new != old
    by_client = {lk.client_id: lk.resource_name for lk in links(session)}
    for client in live_clients(session):
        if client.nom == "Martin":
            continue
        groups = [
            m["contactGroupMembership"]["contactGroupResourceName"]
            for m in person(people_service, by_client[client.id]).get("memberships", [])
        ]
        assert new in groups
    assert_quiet(google_service.sync_all())


def test_sync_client_to_google_reads_only_its_contact(
    session: Session,
    google_service: SyncService,
    emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A linked client's push: its link only, one batchGet, one batchUpdate, whatever N."""
    from atarys.emulator import DEFAULT_USER

    clients = [add_client(session, nom=f"N{i}", email=f"n{i}@example.com") for i in range(25)]
    google_service.sync_all()

    def every_link(self: Store) -> list[SyncLink]:
        raise AssertionError("a one-client push must not load every link")

    monkeypatch.setattr(Store, "links", every_link)
    for i, client in enumerate(clients[:3]):
        client.ville = f"Ville {i}"
        session.commit()
        emulator.reset_stats()
        result = google_service.sync_client_to_google(client.id)
        assert result.action == "updated"
        assert emulator.stats(DEFAULT_USER)["methods"] == {
            "people.getBatchGet": 1,
            "people.batchUpdateContacts": 1,
        }
    emulator.reset_stats()
    assert google_service.sync_client_to_google(clients[5].id).action == "unchanged"
    assert emulator.stats(DEFAULT_USER)["methods"] == {"people.getBatchGet": 1}
    monkeypatch.undo()
    assert_quiet(google_service.sync_all())


def test_a_big_first_sync_refreshes_postgresql_statistics(
    session: Session,
    google_service: SyncService,
    people_service: Any,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a run that adds thousands of pairs, PostgreSQL plans the next run's queries
    on statistics that count them (empty-table statistics made the next incremental run
    wait 16 s at 25,000 clients). Here with a threshold of 2 pairs instead of 1,000."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's planner statistics")
    from sqlalchemy import text

    import atarys.sync.service as service_module

    monkeypatch.setattr(service_module, "ANALYZE_AFTER_ROWS", 2)
    seed(session, people_service)

    def counted(table: str) -> float:
        return float(
            session.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": table},
            ).scalar_one()
        )

    assert counted("sync_links") <= 0  # never analyzed (-1), or empty
    google_service.sync_all()
    assert counted("clients") >= 3
    assert counted("sync_links") >= 3
