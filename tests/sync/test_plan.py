"""Table tests of the pure core: plan_pair, match, breaker, mapping, printing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atarys.sync.core.actions import Plan, format_plan
from atarys.sync.core.items import Item
from atarys.sync.core.mapping import apply_record, client_id_of, person_to_record, record_to_person
from atarys.sync.core.plan import (
    DELETED,
    UNCHANGED,
    Candidate,
    PlanSettings,
    SideState,
    Version,
    breaker_reasons,
    match,
    parse_time,
    plan_pair,
)
from atarys.sync.core.planner import LinkState, PairState, RunState, plan_run
from atarys.sync.core.records import Record, normalize_record

S = Record(
    nom="Martin", prenom="Jean", email="jean@example.com", telephone="+33612345678", ville="Paris"
)
T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 1, 2, tzinfo=UTC)


def v(record: Record = S, updated: datetime | None = T1, **values: str | None) -> Version:
    return Version(record.with_values(values), updated)


CASES: list[tuple[str, SideState, SideState, PlanSettings, str, dict[str, str | None], dict[str, str | None]]] = [
    # id, A, G, settings, action, to_atarys (after), to_google (after)
    ("nothing reported", UNCHANGED, UNCHANGED, PlanSettings(), "none", {}, {}),
    ("echo of our write", v(), v(), PlanSettings(), "none", {}, {}),
    ("google reformatted phone", UNCHANGED, v(telephone="06 12 34 56 78"), PlanSettings(), "none", {}, {}),
    ("email case only", v(email="JEAN@Example.com"), UNCHANGED, PlanSettings(), "none", {}, {}),
    ("whitespace only", v(nom="  Martin "), UNCHANGED, PlanSettings(), "none", {}, {}),
    ("atarys edit", v(ville="Lyon"), UNCHANGED, PlanSettings(), "update", {}, {"ville": "Lyon"}),
    ("google edit", UNCHANGED, v(ville="Nice"), PlanSettings(), "update", {"ville": "Nice"}, {}),
    ("different fields both sides", v(ville="Lyon"), v(nom="Dupont"), PlanSettings(), "update",
     {"nom": "Dupont"}, {"ville": "Lyon"}),
    ("same edit both sides", v(ville="Lyon"), v(ville=" Lyon "), PlanSettings(), "none", {}, {}),
    ("conflict newest google", v(ville="Lyon", updated=T1), v(ville="Nice", updated=T2), PlanSettings(),
     "update", {"ville": "Nice"}, {}),
    ("conflict newest atarys", v(ville="Lyon", updated=T2), v(ville="Nice", updated=T1), PlanSettings(),
     "update", {}, {"ville": "Lyon"}),
    ("conflict policy atarys", v(ville="Lyon", updated=T1), v(ville="Nice", updated=T2),
     PlanSettings(conflict_policy="atarys"), "update", {}, {"ville": "Lyon"}),
    ("conflict policy google", v(ville="Lyon", updated=T2), v(ville="Nice", updated=T1),
     PlanSettings(conflict_policy="google"), "update", {"ville": "Nice"}, {}),
    ("conflict manual", v(ville="Lyon"), v(ville="Nice"), PlanSettings(conflict_policy="manual"), "none", {}, {}),
    ("cleared in atarys", v(telephone=None), UNCHANGED, PlanSettings(), "update", {}, {"telephone": None}),
    ("atarys deleted", DELETED, UNCHANGED, PlanSettings(), "delete_google", {}, {}),
    ("atarys deleted, google echo", DELETED, v(), PlanSettings(), "delete_google", {}, {}),
    ("atarys deleted, unlink", DELETED, UNCHANGED, PlanSettings(atarys_deletions="unlink"), "unlink", {}, {}),
    ("atarys deleted, google edited", DELETED, v(ville="Nice"), PlanSettings(), "recreate_atarys", {}, {}),
    ("google deleted", UNCHANGED, DELETED, PlanSettings(), "delete_atarys", {}, {}),
    ("google deleted, unlink", UNCHANGED, DELETED, PlanSettings(google_deletions="unlink"), "unlink", {}, {}),
    ("google deleted, atarys edited", v(ville="Lyon"), DELETED, PlanSettings(), "recreate_google", {}, {}),
    ("both deleted", DELETED, DELETED, PlanSettings(), "forget", {}, {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "a", "g", "settings", "action", "to_a", "to_g"), CASES, ids=[c[0] for c in CASES]
)
def test_plan_pair(
    case: str,
    a: SideState,
    g: SideState,
    settings: PlanSettings,
    action: str,
    to_a: dict[str, str | None],
    to_g: dict[str, str | None],
) -> None:
    """Each case of the three-way merge gives its action and its field writes."""
    plan = plan_pair(S, a, g, settings)
    assert plan.action == action
    if action in ("update", "none"):
        assert {k: after for k, (_, after) in plan.to_atarys.items()} == to_a
        assert {k: after for k, (_, after) in plan.to_google.items()} == to_g


def test_manual_conflict_keeps_both_and_snapshot() -> None:
    """A manual conflict writes nothing for that field and keeps the old snapshot value."""
    plan = plan_pair(
        S, v(ville="Lyon", nom="X"), v(ville="Nice"), PlanSettings(conflict_policy="manual")
    )
    assert plan.action == "update"
    assert plan.to_google == {"nom": ("Martin", "X")}
    assert plan.to_atarys == {}
    assert plan.merged is not None
    assert plan.merged.ville == "Paris"
    [conflict] = plan.conflicts
    assert (conflict.field, conflict.atarys, conflict.google, conflict.winner) == (
        "ville",
        "Lyon",
        "Nice",
        None,
    )


def test_resolved_conflict_is_reported() -> None:
    """A conflict settled by policy is still reported with both values (nothing is lost)."""
    plan = plan_pair(S, v(ville="Lyon", updated=T1), v(ville="Nice", updated=T2), PlanSettings())
    [conflict] = plan.conflicts
    assert (conflict.winner, conflict.resolution, conflict.atarys) == ("google", "newest", "Lyon")


def cand(i: str, email: str | None, hint: str | None = None, in_scope: bool = True) -> Candidate:
    return Candidate(i, normalize_record(Record(nom="X", email=email)), hint, in_scope)


def test_match_table() -> None:
    """clientData first, then e-mail (case-insensitive), then create; ambiguity is reported."""
    clients = [
        cand("1", "a@x.fr"),
        cand("2", "b@x.fr"),
        cand("3", None),
        cand("4", "d@x.fr"),
        cand("5", "lost@x.fr"),
    ]
    contacts = [
        cand("people/c1", "A@X.FR"),  # e-mail match with client 1
        cand("people/c2", "other@x.fr", hint="5"),  # our own contact (lost response) for client 5
        cand("people/c3", "dup@x.fr"),
        cand("people/c4", "dup@x.fr"),  # two contacts, same e-mail: duplicate
        cand("people/c5", None),  # no e-mail: import
        cand("people/c6", "taken@x.fr"),  # e-mail of a linked client: duplicate
        cand("people/c7", "out@x.fr", in_scope=False),  # outside the import scope
    ]
    result = match(clients, contacts, linked_client_emails={"taken@x.fr": "9"})
    got = {(m.how, m.client_id, m.resource_name) for m in result.matches}
    assert got == {
        ("client_data", "5", "people/c2"),
        ("email", "1", "people/c1"),
        ("create_google", "2", None),
        ("create_google", "3", None),
        ("create_google", "4", None),
        ("create_atarys", None, "people/c5"),
    }
    dups = {(d.email_key, d.reason) for d in result.duplicates}
    assert dups == {("dup@x.fr", "same_email"), ("taken@x.fr", "email_taken_in_atarys")}


def test_match_copy_of_linked_contact_is_duplicate() -> None:
    """A second contact naming an already linked client is reported, not imported."""
    result = match([], [cand("people/c9", "a@x.fr", hint="1")], linked_clients={"1"})
    assert result.matches == ()
    assert result.duplicates[0].reason == "client_data_linked"


def test_match_client_email_taken_in_google() -> None:
    """A new client whose e-mail is a linked contact's is reported, not created again."""
    result = match([cand("7", "a@x.fr")], [], linked_contact_emails={"a@x.fr": "people/c1"})
    assert result.matches == ()
    assert result.duplicates[0].reason == "email_taken_in_google"


@pytest.mark.parametrize(
    ("deletes_g", "deletes_a", "linked", "full", "listed", "expected", "refused"),
    [
        (10, 0, 20, False, 0, None, False),  # 50 % but only 10: allowed
        (11, 0, 100, False, 0, None, False),  # 11 but 11 %: allowed
        (21, 0, 100, False, 0, None, True),  # 21 and 21 %: refused
        (0, 21, 100, False, 0, None, True),  # same on the ATARYS side
        (0, 0, 100, True, 50, 100, True),  # listing ended early
        (0, 0, 100, True, 0, 0, True),  # Google briefly answered empty
        (0, 0, 100, True, 100, 100, False),
    ],
)
def test_breaker(
    deletes_g: int,
    deletes_a: int,
    linked: int,
    full: bool,
    listed: int,
    expected: int | None,
    refused: bool,
) -> None:
    """Default thresholds: more than 20 % and more than 10 on either side, or a suspicious listing."""
    reasons = breaker_reasons(
        google_deletions=deletes_g, atarys_deletions=deletes_a, linked=linked,
        settings=PlanSettings(), full_listing=full, listed=listed, expected=expected,
    )  # fmt: skip
    assert bool(reasons) is refused


def test_parse_time_nanoseconds() -> None:
    assert parse_time("2026-01-02T03:04:05.123456789Z") == datetime(
        2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC
    )
    assert parse_time(None) is None


PERSON = {
    "resourceName": "people/c1",
    "etag": "e1",
    "names": [{"familyName": "Martin", "givenName": "Jean", "displayName": "Jean Martin", "honorificPrefix": "M."}],
    "emailAddresses": [
        {"value": "perso@x.fr", "type": "home"},
        {"value": "jean@x.fr", "type": "work", "metadata": {"primary": True}},
    ],
    "phoneNumbers": [{"value": "06 12 34 56 78", "canonicalForm": "+33612345678"}, {"value": "+33 1 00 00 00 00"}],
    "addresses": [{"formattedValue": "1 rue A\n75001 Paris", "streetAddress": "1 rue A", "city": "Paris", "postalCode": "75001", "country": "France"}],
    "organizations": [{"name": "ACME", "title": "Boss", "department": "R&D"}, {"name": "Other"}],
    "birthdays": [{"date": {"year": 1980, "month": 1, "day": 2}}],
    "biographies": [{"value": "notes"}],
    "memberships": [{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/friends"}}],
    "clientData": [{"key": "other_app", "value": "42"}],
}  # fmt: skip


def test_person_to_record_reads_primary_or_first() -> None:
    record = person_to_record(PERSON)
    assert record == Record(
        nom="Martin", prenom="Jean", email="jean@x.fr", telephone="+33612345678",
        adresse="1 rue A", ville="Paris", code_postal="75001", entreprise="ACME", fonction="Boss",
    )  # fmt: skip


def test_apply_record_touches_only_mapped_entries() -> None:
    """Updating e-mail and city keeps other e-mails, address parts, and unmapped fields."""
    target = person_to_record(PERSON).with_values({"email": "new@x.fr", "ville": "Lyon"})
    body, mask = apply_record(PERSON, target, "7")
    assert mask == ["emailAddresses", "addresses", "clientData"]
    assert [e["value"] for e in body["emailAddresses"]] == ["perso@x.fr", "new@x.fr"]
    assert body["addresses"][0]["city"] == "Lyon"
    assert body["addresses"][0]["country"] == "France"
    assert body["addresses"][0]["streetAddress"] == "1 rue A"
    assert body["birthdays"] == PERSON["birthdays"]
    assert body["phoneNumbers"] == PERSON["phoneNumbers"]
    assert {"key": "other_app", "value": "42"} in body["clientData"]
    assert client_id_of(body) == "7"
    assert body["etag"] == "e1"


def test_apply_record_no_change_no_mask() -> None:
    """A reformatted phone or an e-mail in capitals is not a change: empty mask."""
    target = person_to_record(PERSON).with_values(
        {"telephone": "+33 6 12 34 56 78", "email": "JEAN@X.FR"}
    )
    _, mask = apply_record(PERSON, target, None)
    assert mask == []


def test_apply_record_clears_an_entry() -> None:
    """Clearing the phone removes its entry only; the other phone stays Google-only."""
    body, mask = apply_record(
        PERSON, person_to_record(PERSON).with_values({"telephone": None}), None
    )
    assert mask == ["phoneNumbers", "clientData"]
    assert body["phoneNumbers"] == [{"value": "+33 1 00 00 00 00"}]
    # the number left beside it never flows into ATARYS
    assert person_to_record(body).telephone is None
    assert "+33 1 00 00 00 00" not in str(body["clientData"])  # fingerprints, not values


def test_cleared_fields_never_pull_in_private_entries() -> None:
    """Issue 11 #4: clearing e-mail, phone and company in ATARYS removes the sync's
    entries; the personal e-mail, the home phone and the other organization stay in
    Google and are not read as the client's values, even once reformatted by Google."""
    cleared = person_to_record(PERSON).with_values(
        {"email": None, "telephone": None, "entreprise": None, "fonction": None}
    )
    body, _ = apply_record(PERSON, cleared, "7")
    assert [e["value"] for e in body["emailAddresses"]] == ["perso@x.fr"]
    record = person_to_record(body)
    assert (record.email, record.telephone, record.entreprise) == (None, None, None)
    # Google reformats the home phone and capitalizes the e-mail: still not ours
    body["phoneNumbers"] = [{"value": "01 00 00 00 00", "canonicalForm": "+33100000000"}]
    body["emailAddresses"] = [{"value": "PERSO@X.FR", "metadata": {"primary": True}}]
    assert person_to_record(body).email is None
    assert person_to_record(body).telephone is None
    # a new e-mail typed on the phone is a change the sync reads
    body["emailAddresses"].append({"value": "chantier@x.fr"})
    assert person_to_record(body).email == "chantier@x.fr"


def test_the_sync_entry_is_read_even_when_not_primary() -> None:
    """Once bound, the client's e-mail is the entry the sync wrote, not whichever the
    phone made primary; writing it again edits that entry, not the personal one."""
    target = person_to_record(PERSON).with_values({"email": "pro@x.fr"})
    body, _ = apply_record(PERSON, target, "7")
    for entry in body["emailAddresses"]:
        entry["metadata"] = {"primary": entry["value"] == "perso@x.fr"}
    assert person_to_record(body).email == "pro@x.fr"
    again, _ = apply_record(body, target.with_values({"email": "pro2@x.fr"}), "7")
    assert sorted(e["value"] for e in again["emailAddresses"]) == ["perso@x.fr", "pro2@x.fr"]
    assert person_to_record(again).email == "pro2@x.fr"


def test_record_to_person_round_trip() -> None:
    record = Record(
        nom="Martin", email="a@x.fr", adresse="1 rue A", ville="Paris", entreprise="ACME"
    )
    body = record_to_person(record, "3", "contactGroups/atarys")
    assert person_to_record(body) == record
    assert client_id_of(body) == "3"
    assert (
        body["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"]
        == "contactGroups/atarys"
    )


def test_format_plan_prints_the_person_and_each_field() -> None:
    """A dry run's text names the person and shows each field before → after."""
    state = RunState(
        pairs=[
            PairState(
                LinkState("1", "people/c1", normalize_record(S), "e1"),
                atarys=Item("1", "a1", S.with_values({"ville": "Lyon"})),
            )
        ],
        linked=1,
    )
    plan = plan_run(state, PlanSettings())
    text = format_plan(plan)
    assert "MARTIN Jean" in text
    assert "ville: 'Paris' → 'Lyon'" in text
    assert plan.items()[0]["to_google"] == {"ville": {"before": "Paris", "after": "Lyon"}}
    assert format_plan(Plan()) == "Rien à synchroniser."
