"""Several Google accounts on one address book, through the real googleapiclient against
the emulator: each phone gets the clients its filter names, ATARYS is the hub (an edit
on one phone reaches the others, never echoed back), conflicts between phones follow the
receiving account's policy, a client leaving a filter leaves that phone only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from sqlalchemy import select
from sqlalchemy.orm import Session

from atarys.clients.service import client_changed
from atarys.emulator.server import RunningEmulator
from atarys.google.client import build_people_service
from atarys.models import Client, GoogleAccount, SyncConflict, SyncTrash
from atarys.sync.core.options import ConflictPolicy, DeletionSetting, ImportScope
from atarys.sync.service import SyncService, get_or_create_account
from atarys.sync.signals import clients_written
from fixtures.sync import GOOGLE_OPTIONS, add_client, new_contact

BOSS = "patron@example.com"
LYON = "lyon@example.com"
SITE = "chantier@example.com"
WRITES = ("create", "update", "delete", "modify")


class Phone:
    """One staff member's Google account: its People service and its ATARYS account."""

    def __init__(
        self, session: Session, emulator: RunningEmulator, email: str, tmp: Path, **filt: str
    ) -> None:
        self.email = email
        self.emulator = emulator
        self.people = build_people_service(
            Credentials(token=emulator.issue_token(email)), emulator.url
        )
        account = get_or_create_account(session, email)
        account.import_scope = ImportScope.ALL
        account.google_deletions = DeletionSetting.PROPAGATE
        account.client_filter = dict(filt) or None
        session.commit()
        self.account = account
        self.session = session
        self.tmp = tmp

    def sync(self) -> dict[str, Any]:
        service = SyncService(
            self.session,
            self.account,
            self.people,
            log_dir=self.tmp / "logs",
            google_options=GOOGLE_OPTIONS,
        )
        return service.sync_all(trigger="manual").to_dict()

    def contacts(self) -> dict[str, dict[str, Any]]:
        """Family name → person, as the phone holds them."""
        answer = (
            self.people.people()
            .connections()
            .list(
                resourceName="people/me",
                personFields="names,phoneNumbers,organizations,addresses",
                pageSize=1000,
            )
            .execute()
        )
        return {
            p["names"][0]["familyName"]: p
            for p in answer.get("connections") or []
            if p.get("names")
        }

    def writes(self) -> int:
        """Write calls this account received from ATARYS so far."""
        methods = self.emulator.stats(self.email)["methods"]
        return sum(n for m, n in methods.items() if any(w in m.lower() for w in WRITES))


@pytest.fixture
def phones(session: Session, emulator: RunningEmulator, tmp_path: Path) -> dict[str, Phone]:
    """Three phones: the boss takes every client, Lyon's site manager the clients in Lyon,
    the site team the clients tagged « chantier »."""
    return {
        "boss": Phone(session, emulator, BOSS, tmp_path),
        "lyon": Phone(session, emulator, LYON, tmp_path, ville="lyon"),
        "site": Phone(session, emulator, SITE, tmp_path, tag="Chantier"),
    }


@pytest.fixture
def announced() -> Iterator[list[tuple[int, str]]]:
    """What the sync announced through the clients' ``client_changed`` (the hub's signal)."""
    from atarys.google_contacts import hub

    hub.connect()
    seen: list[tuple[int, str]] = []

    def receive(sender: Any, **kw: Any) -> None:
        seen.append((int(sender), str(kw.get("origin"))))

    client_changed.connect(receive, weak=False)
    try:
        yield seen
    finally:
        client_changed.disconnect(receive)
        assert clients_written.receivers  # the hub stays connected for the app


def _clients(session: Session) -> dict[str, Client]:
    return {c.nom: c for c in session.scalars(select(Client).where(Client.deleted_at.is_(None)))}


def _seed(session: Session) -> None:
    add_client(session, nom="Abel", ville="Lyon", tag="chantier", email="abel@example.com")
    add_client(session, nom="Brun", ville="Paris", tag="chantier")
    add_client(session, nom="Caron", ville="LYON")
    add_client(session, nom="Durand", ville="Marseille")


def test_each_phone_gets_the_clients_of_its_filter(
    session: Session, phones: dict[str, Phone]
) -> None:
    _seed(session)
    for phone in phones.values():
        phone.sync()
    assert set(phones["boss"].contacts()) == {"Abel", "Brun", "Caron", "Durand"}
    # « lyon » matches « Lyon » and « LYON » (case and accents ignored)
    assert set(phones["lyon"].contacts()) == {"Abel", "Caron"}
    assert set(phones["site"].contacts()) == {"Abel", "Brun"}
    # nothing changed: a second round writes nothing anywhere
    before = {k: p.writes() for k, p in phones.items()}
    for phone in phones.values():
        phone.sync()
    assert {k: p.writes() for k, p in phones.items()} == before


def test_an_edit_on_one_phone_reaches_the_others_without_echo(
    session: Session, phones: dict[str, Phone], announced: list[tuple[int, str]]
) -> None:
    _seed(session)
    for phone in phones.values():
        phone.sync()
    lyon = phones["lyon"]
    abel = lyon.contacts()["Abel"]
    lyon.people.people().updateContact(
        resourceName=abel["resourceName"],
        updatePersonFields="phoneNumbers",
        body={"etag": abel["etag"], "phoneNumbers": [{"value": "+33 4 78 00 00 01"}]},
    ).execute()
    lyon_writes = lyon.writes()
    lyon.sync()
    session.expire_all()
    client = _clients(session)["Abel"]
    assert client.telephone == "+33478000001"
    # the hub's signal: this client, from the Lyon phone (the queue pushes to the others)
    assert (client.id, LYON) in announced
    phones["boss"].sync()
    phones["site"].sync()
    for key in ("boss", "site"):
        numbers = phones[key].contacts()["Abel"].get("phoneNumbers") or []
        assert numbers
        assert numbers[0]["value"].replace(" ", "") in ("+33478000001", "0478000001")
    # no echo: the phone the change came from receives no write for it
    lyon.sync()
    assert lyon.writes() == lyon_writes
    # the signal a push makes is not an echo either: pushing the client to Lyon writes nothing
    service = SyncService(session, lyon.account, lyon.people, google_options=GOOGLE_OPTIONS)
    service.sync_client_to_google(client.id)
    assert lyon.writes() == lyon_writes


def test_a_contact_typed_on_a_phone_goes_to_the_phones_whose_filter_it_matches(
    session: Session, phones: dict[str, Phone]
) -> None:
    _seed(session)
    for phone in phones.values():
        phone.sync()
    new_contact(
        phones["lyon"].people,
        names=[{"familyName": "Estève", "givenName": "Luc"}],
        addresses=[{"city": "Lyon"}],
    )
    phones["lyon"].sync()
    assert "Estève" in _clients(session)
    phones["boss"].sync()
    phones["site"].sync()
    assert "Estève" in phones["boss"].contacts()
    assert "Estève" not in phones["site"].contacts()  # no « chantier » tag


def test_two_phones_editing_one_field_follow_the_receiving_account_policy(
    session: Session, phones: dict[str, Phone]
) -> None:
    _seed(session)
    for phone in phones.values():
        phone.sync()
    site = phones["site"]
    site.account.conflict_policy = ConflictPolicy.ATARYS
    session.commit()
    for key, title in (("lyon", "Chef de chantier"), ("site", "Conducteur de travaux")):
        abel = phones[key].contacts()["Abel"]
        phones[key].people.people().updateContact(
            resourceName=abel["resourceName"],
            updatePersonFields="organizations",
            body={"etag": abel["etag"], "organizations": [{"title": title}]},
        ).execute()
    phones["lyon"].sync()  # first at ATARYS: no conflict there
    site.sync()  # ATARYS changed too: conflict, settled by the site account's policy
    session.expire_all()
    assert _clients(session)["Abel"].fonction == "Chef de chantier"
    orgs = site.contacts()["Abel"].get("organizations") or []
    assert orgs
    assert orgs[0].get("title") == "Chef de chantier"
    conflicts = list(
        session.scalars(select(SyncConflict).where(SyncConflict.account_id == site.account.id))
    )
    assert [(c.field, c.google_value, c.atarys_value) for c in conflicts] == [
        ("fonction", "Conducteur de travaux", "Chef de chantier")
    ]


def test_a_client_leaving_a_filter_leaves_that_phone_only(
    session: Session, phones: dict[str, Phone]
) -> None:
    _seed(session)
    for phone in phones.values():
        phone.sync()
    # deletions are propagated by these accounts: the filter must still never delete a client
    caron = _clients(session)["Caron"]
    caron.ville = "Grenoble"
    session.commit()
    phones["lyon"].sync()
    phones["boss"].sync()
    assert "Caron" not in phones["lyon"].contacts()
    assert "Caron" in phones["boss"].contacts()
    session.expire_all()
    assert "Caron" in _clients(session)  # never deleted from ATARYS
    trash = list(
        session.scalars(select(SyncTrash).where(SyncTrash.account_id == phones["lyon"].account.id))
    )
    assert [t.name for t in trash]
    assert "CARON" in (trash[0].name or "").upper()
    # back in Lyon: back on the phone
    caron.ville = "Lyon"
    session.commit()
    phones["lyon"].sync()
    assert "Caron" in phones["lyon"].contacts()


def test_changing_a_filter_takes_effect_at_the_next_run(
    session: Session, phones: dict[str, Phone]
) -> None:
    from atarys.google_contacts.accounts import set_client_filter

    _seed(session)
    for phone in phones.values():
        phone.sync()
    lyon = phones["lyon"]
    account = session.get(GoogleAccount, lyon.account.id)
    assert account is not None
    assert set_client_filter(session, account, {"ville": "Lyon", "tag": "CHANTIER"})
    session.commit()
    assert account.atarys_watermark is None  # one full comparison for this account
    lyon.sync()
    assert set(lyon.contacts()) == {"Abel"}
    session.expire_all()
    assert {"Abel", "Brun", "Caron", "Durand"} <= set(_clients(session))
    # and back to every client
    assert set_client_filter(session, account, None)
    session.commit()
    lyon.sync()
    assert set(lyon.contacts()) == {"Abel", "Brun", "Caron", "Durand"}


def test_a_filter_does_not_make_an_incremental_run_read_every_client(
    session: Session, phones: dict[str, Phone]
) -> None:
    from sqlalchemy import event

    _seed(session)
    for n in range(30):
        add_client(session, nom=f"Paris{n:02d}", ville="Paris")
    lyon = phones["lyon"]
    lyon.sync()  # the first run reads every client once and remembers the filter's verdicts
    assert set(lyon.contacts()) == {"Abel", "Caron"}
    loaded: list[int] = []

    def count(target: Client, _context: Any) -> None:
        loaded.append(target.id)

    account_id = lyon.account.id
    session.expunge_all()  # nothing cached in the session: every row read is a load
    event.listen(Client, "load", count)
    try:
        account = session.get(GoogleAccount, account_id)
        assert account is not None
        lyon.account = account
        lyon.sync()
        assert loaded == []  # no change: no client read, whatever the filter keeps out
        add_client(session, nom="Zola", ville="Lyon")
        loaded.clear()
        lyon.sync()
        assert len(loaded) <= 2  # the new client (and nothing of the 31 kept out)
    finally:
        event.remove(Client, "load", count)
    assert "Zola" in lyon.contacts()
