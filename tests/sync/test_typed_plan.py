"""The plan is data: typed actions, JSON round trip, names, preconditions checked at execution."""

from __future__ import annotations

from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from atarys.models import Client, GoogleAccount, SyncRun
from atarys.sync.core.actions import (
    Conflict,
    CreateClient,
    CreateContact,
    DeleteClient,
    DeleteContact,
    Duplicate,
    Link,
    Plan,
    Unlink,
    Update,
    changes_between,
)
from atarys.sync.core.items import Item
from atarys.sync.core.plan import PlanSettings
from atarys.sync.core.planner import LinkState, PairState, RunState, plan_run
from atarys.sync.core.records import FIELDS, Record, normalize_record
from atarys.sync.engine import Engine, Outcome
from atarys.sync.executor import Executor
from atarys.sync.log import action_logger
from atarys.sync.reader import Reader
from atarys.sync.service import SyncService, plan_settings
from atarys.sync.sides.atarys_db import AtarysDbSide
from atarys.sync.sides.memory import MemorySide
from atarys.sync.store import Store
from fixtures.sync import add_client

text = st.none() | st.text(min_size=1, max_size=12)
records = st.builds(Record, **dict.fromkeys(FIELDS, text))
ids = st.none() | st.text(alphabet="0123456789", min_size=1, max_size=4)
rns = st.none() | st.text(alphabet="abc0123456789", min_size=1, max_size=6).map(
    lambda s: f"people/c{s}"
)
common = {
    "client_id": ids,
    "resource_name": rns,
    "name": st.text(max_size=20),
    "comment": st.text(max_size=20),
    "atarys_etag": st.none() | st.text(max_size=8),
    "google_etag": st.none() | st.text(max_size=8),
}
conflicts = st.builds(
    Conflict,
    field=st.sampled_from(FIELDS),
    snapshot=text,
    atarys=text,
    google=text,
    winner=st.none() | st.sampled_from(["atarys", "google"]),
    resolution=st.sampled_from(["newest", "atarys", "google", "manual"]),
)


@st.composite
def pair_writes(draw: st.DrawFn, cls: type[Update] | type[Link]) -> Update | Link:
    a, g, s = draw(records), draw(records), draw(records)
    extra = {"how": draw(st.sampled_from(["email", "client_data"]))} if cls is Link else {}
    return cls(
        **{k: draw(v) for k, v in common.items()},
        snapshot=s,
        atarys=a,
        google=g,
        merged=draw(records),
        atarys_changes=changes_between(a, s),
        google_changes=changes_between(g, s),
        conflicts=tuple(draw(st.lists(conflicts, max_size=2))),
        write_hint=draw(st.booleans()),
        **extra,
    )


actions = st.one_of(
    st.builds(CreateContact, **common, record=records, recreate=st.booleans()),
    st.builds(CreateClient, **common, record=records, recreate=st.booleans()),
    pair_writes(Update),
    pair_writes(Link),
    st.builds(DeleteContact, **common, snapshot=records),
    st.builds(DeleteClient, **common, snapshot=records),
    st.builds(Unlink, **common, deleted_in=st.sampled_from(["atarys", "google", "both"])),
)
plans = st.builds(
    Plan,
    actions=st.lists(actions, max_size=6).map(tuple),
    duplicates=st.lists(
        st.builds(
            Duplicate,
            email_key=st.text(max_size=10),
            client_ids=st.lists(st.text(max_size=3), max_size=2).map(tuple),
            resource_names=st.lists(st.text(max_size=5), max_size=2).map(tuple),
            reason=st.sampled_from(["same_email", "client_data_twice"]),
            names=st.lists(st.text(max_size=8), max_size=2).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
    breaker=st.lists(st.text(max_size=10), max_size=2).map(tuple),
    linked=st.integers(0, 10**6),
    full_listing=st.booleans(),
    google_cursor=st.none() | st.text(max_size=10),
    atarys_cursor=st.none() | st.text(max_size=10),
    focused=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(plans)
def test_a_plan_survives_json_unchanged(plan: Plan) -> None:
    """A plan serialized to JSON and read back is the same plan, action classes included."""
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again == plan
    assert [type(a) for a in again.actions] == [type(a) for a in plan.actions]


MARTIN = normalize_record(
    Record(nom="Martin", prenom="Jean", email="jean@example.com", ville="Paris", entreprise="Bois")
)


def test_the_plan_names_people_and_fields() -> None:
    """Each action carries the person's name and each field's before → after."""
    state = RunState(
        pairs=[
            PairState(
                LinkState("1", "people/c1", MARTIN, "e1"),
                atarys=Item("1", "a1", MARTIN.with_values({"ville": "Lyon"})),
            )
        ],
        clients=[Item("2", "a2", Record(nom="Zoé", prenom="Lefèvre"))],
        linked=1,
    )
    plan = plan_run(state, PlanSettings())
    by_kind = {type(a): a for a in plan.actions}
    update = by_kind[Update]
    assert update.name == "MARTIN Jean — Bois"
    assert {k: (c.before, c.after) for k, c in update.to_google.items()} == {
        "ville": ("Paris", "Lyon")
    }
    assert by_kind[CreateContact].name == "ZOÉ Lefèvre"
    assert update.atarys_etag == "a1"


def test_an_unchanged_pair_plans_nothing() -> None:
    """Echoes, touches and reformatted phones are not work."""
    state = RunState(
        pairs=[
            PairState(
                LinkState("1", "people/c1", MARTIN, "e1"),
                atarys=Item("1", "a1", MARTIN.with_values({"email": "JEAN@example.com"})),
                google=Item("people/c1", "e1", MARTIN, hint="1"),
            )
        ],
        linked=1,
    )
    assert plan_run(state, PlanSettings()).actions == ()


def test_shared_email_is_a_duplicate_by_name() -> None:
    """Two contacts with one e-mail are never merged; the duplicate names both people."""
    a = Record(nom="Leroy", email="info@leroy.fr")
    b = Record(nom="Leroy", prenom="Paul", email="info@leroy.fr")
    state = RunState(contacts=[Item("people/c1", "e", a), Item("people/c2", "e", b)])
    plan = plan_run(state, PlanSettings())
    assert plan.actions == ()
    assert plan.duplicates[0].names == ("LEROY", "LEROY Paul")


def _executor(
    session: Session, account: GoogleAccount, google: MemorySide, tmp: Path
) -> tuple[Engine, Outcome]:
    store = Store(session, account)
    engine = Engine(
        session,
        store,
        AtarysDbSide(session),
        google,
        plan_settings(account),
        actions=action_logger(tmp),
    )
    run = store.start_run(trigger="manual", dry_run=False, forced=False)
    return engine, Outcome(run)


def _execute(engine: Engine, out: Outcome, session: Session, reader_links: dict) -> None:  # type: ignore[type-arg]
    executor = Executor(
        session,
        engine.store,
        engine.atarys,
        engine.google,
        engine.settings,
        run=out.run,
        links=reader_links,
        actions_log=engine.actions,
        progress=lambda n: None,
    )
    out.results = executor.execute(out.plan)
    session.commit()


def test_a_contact_edited_after_the_plan_is_not_deleted(
    session: Session,
    account: GoogleAccount,
    memory_service: SyncService,
    memory_google: MemorySide,
    tmp_path: Path,
) -> None:
    """Planned deletion, then the contact is edited in Google: the edit wins, no contact lost."""
    client = add_client(session, nom="Martin", email="jean@example.com")
    memory_service.sync_all()
    rn = next(iter(memory_google.entries))
    client.deleted_at = client.updated_at
    session.commit()
    engine, out = _executor(session, account, memory_google, tmp_path)
    reader = engine.plan(out)
    assert [type(a) for a in out.plan.actions] == [DeleteContact]
    memory_google.edit(rn, fonction="Gérant")  # a phone edits the contact meanwhile
    _execute(engine, out, session, reader.links)
    assert rn in memory_google.entries
    statuses = [(type(r.action).__name__, r.status) for r in out.results.items]
    assert ("DeleteContact", "deferred") in statuses
    assert ("CreateClient", "done") in statuses
    restored = next(r for r in out.results.items if isinstance(r.action, CreateClient))
    assert restored.client_id is not None
    assert session.get(SyncRun, out.run.id) is not None


def test_a_client_edited_after_the_plan_goes_to_google_as_it_is_now(
    session: Session,
    account: GoogleAccount,
    memory_service: SyncService,
    memory_google: MemorySide,
    tmp_path: Path,
) -> None:
    """An ATARYS edit made while a run is in flight is not reverted by that run."""
    client = add_client(session, nom="Martin", email="jean@example.com", ville="Paris")
    memory_service.sync_all()
    rn = next(iter(memory_google.entries))
    client.ville = "Lyon"
    session.commit()
    engine, out = _executor(session, account, memory_google, tmp_path)
    reader = engine.plan(out)
    client.ville = "Nantes"  # edited again while the run is in flight
    session.commit()
    _execute(engine, out, session, reader.links)
    assert memory_google.entries[rn].item.record.ville == "Nantes"
    session.refresh(client)
    assert client.ville == "Nantes"


def test_an_email_taken_meanwhile_is_set_aside_not_stuck(
    session: Session, memory_service: SyncService, memory_google: MemorySide
) -> None:
    """Client deleted in ATARYS, its contact edited in Google, another client takes the
    e-mail: the edited contact is kept and joins, in the same run, the client who now has
    its e-mail (as any unlinked pair with one e-mail would); the next run writes nothing."""
    client = add_client(session, nom="Martin", email="jean@example.com")
    memory_service.sync_all()
    rn = next(iter(memory_google.entries))
    client.deleted_at = client.updated_at
    session.commit()
    other = add_client(session, nom="Autre", email="jean@example.com")
    memory_google.edit(rn, fonction="Gérant")
    first = memory_service.sync_all()
    assert first.status == "success", first.errors
    assert rn in memory_google.entries  # the edited contact is kept
    session.refresh(other)
    assert other.fonction == "Gérant"  # the phone's edit is not lost
    assert session.get(Client, client.id).deleted_at is not None  # no copy of Martin
    again = memory_service.sync_all()
    assert again.status == "success"
    assert (again.atarys_to_google.success, again.google_to_atarys.success) == (0, 0)
    assert memory_google.entries[rn].item.record.fonction == "Gérant"


def test_a_no_change_run_reads_no_pair(
    session: Session, account: GoogleAccount, memory_service: SyncService, memory_google: MemorySide
) -> None:
    """Right after a sync (inside the watermark's overlap window), the next run reads no
    client and no link: its cost does not grow with the account."""
    for i in range(30):
        add_client(session, nom=f"Client{i}", email=f"c{i}@example.com", telephone="0612345678")
    memory_service.sync_all()
    memory_service.sync_all()  # the echo of our own writes
    state = Reader(Store(session, account), AtarysDbSide(session), memory_google, "FR").read_all()
    assert (list(state.pairs), list(state.clients), list(state.contacts)) == ([], [], [])
    client = session.get(Client, 3)
    assert client is not None
    client.ville = "Lyon"
    session.commit()
    state = Reader(Store(session, account), AtarysDbSide(session), memory_google, "FR").read_all()
    assert [p.link.client_id for p in state.pairs] == ["3"]


@settings(max_examples=300, deadline=None)
@given(records)
def test_a_new_contact_body_is_the_one_an_update_would_write(record: Record) -> None:
    """The fast body for a new contact is exactly what writing the record into an empty
    contact gives (the first sync builds thousands of them)."""
    from atarys.sync.core.mapping import apply_record, record_to_person

    clean = normalize_record(record)
    # "(sans nom)" is how a contact with no name at all reads: an empty contact already
    # "has" it, so an update writes no name there, while a new contact spells it out.
    assume(clean.nom != "(sans nom)")
    assert record_to_person(clean, "7") == apply_record({}, clean, "7")[0]
