"""A Hypothesis state machine over the real ATARYS database and the emulator.

Random creates, edits and deletes on both sides, interleaved with syncs under injected
faults (429, 503, lost responses, stale etags, expired sync tokens, propagation delay,
touch without edit, phone reformatting). After every clean sync: both sides agree on
every linked pair, no duplicate was created, every edit is present or recorded as a
resolved conflict, Google-only fields are unchanged, and a second sync writes nothing.

Profiles: ``ATARYS_HYPOTHESIS_PROFILE=ci`` (default: random examples, in batches of 10
examples of up to 30 steps, each batch with a fresh seed, until ``ATARYS_HYPOTHESIS_SECONDS``
(default 90) have passed per backend — in CI, ``ATARYS_HYPOTHESIS_BATCHES`` (3) batches
whose seeds derive from the commit), ``deep`` (batches of 25 examples of up to 40 steps,
each with a fresh seed, until ``ATARYS_HYPOTHESIS_SECONDS`` (default 1200) have passed per
backend; one line per batch, then the examples, steps and clean syncs it explored; failures
are kept in Hypothesis' example database) or ``dev`` (8 examples, one seed). A failure
prints its seed: replay that batch with ``ATARYS_HYPOTHESIS_SEED=<seed>`` (same profile).

Google's per-minute quota budget (``QuotaBudget``) runs on a virtual clock here: when a
fast example spends a minute's budget, the wait is counted, not slept (a real 60 s pause
per wait used to make the deep profile mostly sleep).
"""

from __future__ import annotations

import hashlib
import os
import pprint
import random
import time
from pathlib import Path
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select

from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.google.client import build_people_service
from atarys.models import (
    Client,
    GoogleAccount,
    SyncConflict,
    SyncDuplicate,
    SyncExclusion,
    SyncLink,
    SyncPending,
    SyncPlan,
    SyncRun,
    SyncRunItem,
    SyncTrash,
    utcnow,
)
from atarys.sync.core.errors import MassDeletionError, SyncError
from atarys.sync.core.mapping import client_id_of, person_to_record
from atarys.sync.core.options import DeletionSetting, ImportScope
from atarys.sync.core.records import FIELDS, Record, normalize_record, normalize_value
from atarys.sync.service import RunResult, SyncService, get_or_create_account
from atarys.sync.sides.google import GoogleSide
from fixtures.emulator import Admin
from fixtures.sync import GOOGLE_OPTIONS

PROFILES = {
    "dev": settings(max_examples=8, stateful_step_count=20),
    # CI replays the same examples every run (a red CI names a real regression, not bad
    # luck); "deep" explores new ones and keeps failures in the example database.
    "ci": settings(max_examples=10, stateful_step_count=30, database=None),
    # a batch; the clock decides how many batches (fresh seeds) a run explores
    "deep": settings(max_examples=25, stateful_step_count=40),
}
PROFILE = os.environ.get("ATARYS_HYPOTHESIS_PROFILE", "ci")
BATCHED = ("ci", "deep")  # profiles that run batches until the time budget
SETTINGS = settings(
    PROFILES.get(PROFILE, PROFILES["ci"]),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
STATS = {"examples": 0, "clean_syncs": 0, "steps": 0, "faults": 0, "quota_waits": 0}
WRITES = ("batchCreateContacts", "batchUpdateContacts", "batchDeleteContacts")
SHARED_EMAILS = ["anne@example.com", "bob@example.com", "carl@example.com"]
Field = st.sampled_from(["nom", "prenom", "telephone", "ville", "entreprise", "fonction", "email"])
Text = st.sampled_from(
    ["Martin", "Dubois", "Lyon", "Paris", "ACME", "Gérant", "Élodie", "  Nice  ", None]
)
Phones = st.sampled_from(["+33612345678", "+33698765432", "+33123456789", None])
FAULTS = st.sampled_from(
    [
        *("429", "503", "lost", "stale", "expired", "delay", "touch", "phone", "flaky"),
        *("reject", "profile", "old_token"),
        *("rename", "full_omit_renamed"),
    ]
)


class VirtualClock:
    """The Google side's clock: a budget wait moves it instead of sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds >= 1:  # a quota wait (retry backoffs here are 0.01-0.05 s)
            STATS["quota_waits"] += 1
        self.now += seconds


def person_fields(field: str, value: str | None, current: dict[str, Any]) -> dict[str, Any]:
    """The Person fields a phone would send to set one mapped field (other entries kept)."""
    if field in ("nom", "prenom"):
        name = dict((current.get("names") or [{}])[0])
        name.pop("displayName", None)
        name.pop("displayNameLastFirst", None)
        name["familyName" if field == "nom" else "givenName"] = value
        return {"names": [{k: v for k, v in name.items() if v is not None}]}
    if field == "email":
        # the phone edits the work e-mail; the personal one (@home.example) stays
        home = [
            e
            for e in current.get("emailAddresses") or []
            if str(e.get("value", "")).endswith("@home.example")
        ]
        return {"emailAddresses": ([{"value": value}] if value else []) + home}
    if field == "telephone":
        others = (current.get("phoneNumbers") or [])[1:]
        return {"phoneNumbers": ([{"value": value}] if value else []) + others}
    if field in ("ville",):
        addr = dict((current.get("addresses") or [{}])[0])
        addr.pop("formattedValue", None)
        addr["city"] = value
        return {"addresses": [{k: v for k, v in addr.items() if v is not None}]}
    org = dict((current.get("organizations") or [{}])[0])
    org["name" if field == "entreprise" else "title"] = value
    return {"organizations": [{k: v for k, v in org.items() if v is not None}]}


class SyncMachine(RuleBasedStateMachine):
    """One example: an empty database and an empty emulator account."""

    def __init__(self, app: Flask, emulator: RunningEmulator, log_dir: Path) -> None:
        super().__init__()
        self.app = app
        self.emulator = emulator
        emulator.reset()
        self.admin = Admin(emulator.url)
        token = emulator.issue_token(ttl_s=10**7)
        from google.oauth2.credentials import Credentials

        self.people = build_people_service(Credentials(token=token), emulator.url)
        self.ctx = app.app_context()
        self.ctx.push()
        self.session = db.session
        for model in (
            SyncPending,
            SyncRunItem,
            SyncConflict,
            SyncDuplicate,
            SyncLink,
            SyncExclusion,
            SyncPlan,
            SyncTrash,
            SyncRun,
            GoogleAccount,
            Client,
        ):
            self.session.execute(delete(model))
        self.session.commit()
        self.account = get_or_create_account(self.session, "staff@example.com")
        # the engine's general behaviour: every contact comes in, deletions propagate both
        # ways (the safe defaults of a new account are tested in tests/api/test_trust.py)
        self.account.import_scope = ImportScope.ALL
        self.account.google_deletions = DeletionSetting.PROPAGATE
        self.session.commit()
        clock = VirtualClock()
        self.service = SyncService(
            self.session,
            self.account,
            self.people,
            log_dir=log_dir,
            google_options={**GOOGLE_OPTIONS, "sleep": clock.sleep, "monotonic": clock.monotonic},
        )
        self.clients: list[int] = []  # created by the test
        self.contacts: list[str] = []  # created by the test (Google-only data to watch)
        self.edits: dict[
            tuple[str, str], str | None
        ] = {}  # (entity, field) → value since last clean sync
        self.fresh = 0
        self.delay = 0.0
        self.synced_once = False
        STATS["examples"] += 1

    @invariant()
    def count_steps(self) -> None:
        STATS["steps"] += 1

    def teardown(self) -> None:
        self.session.rollback()
        db.session.remove()
        self.ctx.pop()

    # --- helpers ------------------------------------------------------------------

    def _fresh_email(self) -> str:
        self.fresh += 1
        return f"u{self.fresh}@example.com"

    def _live_clients(self) -> list[Client]:
        self.session.expire_all()
        return list(
            self.session.scalars(
                select(Client).where(Client.deleted_at.is_(None)).order_by(Client.id)
            )
        )

    def _live_contacts(self) -> dict[str, dict[str, Any]]:
        raw = self.admin.call("GET", "contacts")["contacts"]
        return {c["resourceName"]: c["person"] for c in raw if not c["deleted"]}

    def _linked(self, *, client_id: int | None = None, resource_name: str | None = None) -> bool:
        """Whether the client (or contact) is linked: synced at least once."""
        query = select(SyncLink.id)
        if client_id is not None:
            query = query.where(SyncLink.client_id == client_id)
        else:
            query = query.where(SyncLink.resource_name == resource_name)
        return self.session.scalars(query.limit(1)).first() is not None

    def _email_taken(self, email: str | None) -> bool:
        return email is not None and any(
            (c.email or "").lower() == email for c in self._live_clients()
        )

    # --- ATARYS rules -------------------------------------------------------------

    @rule(nom=Text, ville=Text, phone=Phones, shared=st.booleans(), pick=st.integers(0, 2))
    def create_client(
        self, nom: str | None, ville: str | None, phone: str | None, shared: bool, pick: int
    ) -> None:
        email = SHARED_EMAILS[pick] if shared else self._fresh_email()
        if self._email_taken(email):
            return
        client = Client(nom=nom or "Sans nom", ville=ville, telephone=phone, email=email)
        self.session.add(client)
        self.session.commit()
        self.clients.append(client.id)

    @precondition(lambda self: bool(self.clients))
    @rule(i=st.integers(0, 50), field=Field, value=Text, phone=Phones)
    def edit_client(self, i: int, field: str, value: str | None, phone: str | None) -> None:
        live = self._live_clients()
        if not live:
            return
        client = live[i % len(live)]
        new = phone if field == "telephone" else self._fresh_email() if field == "email" else value
        if field == "email" and value is None:
            new = None  # cleared in ATARYS: the contact's personal e-mail must stay Google's
        if field == "nom":
            new = new or "Sans nom"
        unchanged = normalize_value(field, getattr(client, field)) == normalize_value(field, new)
        setattr(client, field, new)
        self.session.commit()
        if unchanged:  # the same value again is no edit
            return
        if normalize_value(field, new) is None and not self._linked(client_id=client.id):
            # a field emptied before the client was ever synced is no edit the sync can
            # see: linked to a contact holding a value, it takes it (seed 3194857606);
            # an earlier value of it is no longer to be found either (seed 3102089429)
            self.edits.pop((f"client:{client.id}", field), None)
            return
        self.edits.pop((f"client:{client.id}", field), None)
        self.edits[(f"client:{client.id}", field)] = new

    @precondition(lambda self: bool(self.clients))
    @rule(i=st.integers(0, 50))
    def delete_client(self, i: int) -> None:
        live = self._live_clients()
        if not live:
            return
        client = live[i % len(live)]
        client.deleted_at = utcnow()
        self.session.commit()
        self.edits = {k: v for k, v in self.edits.items() if k[0] != f"client:{client.id}"}

    # --- Google rules -------------------------------------------------------------

    @rule(nom=Text, phone=Phones, shared=st.booleans(), pick=st.integers(0, 2))
    def create_contact(self, nom: str | None, phone: str | None, shared: bool, pick: int) -> None:
        email = SHARED_EMAILS[pick] if shared else self._fresh_email()
        body: dict[str, Any] = {
            "names": [{"familyName": nom or "Contact"}],
            "emailAddresses": [
                {"value": email},
                {"value": f"perso.{self.fresh}.{pick}@home.example"},
            ],
            "birthdays": [{"date": {"year": 1970 + pick, "month": 5, "day": 17}}],
        }
        if phone:
            body["phoneNumbers"] = [{"value": phone}]
        created = self.people.people().createContact(body=body, personFields="names").execute()
        self.contacts.append(created["resourceName"])

    @precondition(lambda self: bool(self.contacts) or self.synced_once)
    @rule(i=st.integers(0, 50), field=Field, value=Text, phone=Phones)
    def edit_contact(self, i: int, field: str, value: str | None, phone: str | None) -> None:
        live = self._live_contacts()
        if not live:
            return
        rn = sorted(live)[i % len(live)]
        new = phone if field == "telephone" else self._fresh_email() if field == "email" else value
        self.admin.call("PATCH", f"contacts/{rn}", person_fields(field, new, live[rn]))
        if normalize_value(field, person_to_record(live[rn]).get(field)) == normalize_value(
            field, new
        ):
            return  # the same value again is no edit
        if normalize_value(field, new) is None and not self._linked(resource_name=rn):
            # emptied before it was ever synced: no edit the sync can see (nor the value
            # it had before)
            self.edits.pop((f"contact:{rn}", field), None)
            return
        self.edits.pop((f"contact:{rn}", field), None)
        self.edits[(f"contact:{rn}", field)] = new

    @precondition(lambda self: bool(self.contacts) or self.synced_once)
    @rule(i=st.integers(0, 50))
    def delete_contact(self, i: int) -> None:
        live = self._live_contacts()
        if not live:
            return
        rn = sorted(live)[i % len(live)]
        self.admin.call("DELETE", f"contacts/{rn}")
        self.edits = {k: v for k, v in self.edits.items() if k[0] != f"contact:{rn}"}

    @precondition(lambda self: self.synced_once)
    @rule(i=st.integers(0, 50))
    def touch_contact(self, i: int) -> None:
        live = self._live_contacts()
        if live:
            self.admin.call("POST", f"contacts/{sorted(live)[i % len(live)]}/touch")

    # --- syncs --------------------------------------------------------------------

    @rule(fault=FAULTS, i=st.integers(0, 50))
    def sync_with_fault(self, fault: str, i: int) -> None:
        """A sync under one fault: it may fail, it must never corrupt."""
        STATS["faults"] += 1
        google = self.service.google()
        assert isinstance(google, GoogleSide)
        original = google.update
        if fault == "429":
            self.emulator.set_faults(fail_next=2, fail_next_code=429)
        elif fault == "503":
            self.emulator.set_faults(fail_next=3, fail_next_code=503)
        elif fault == "lost":
            self.emulator.set_faults(fail_after_apply=1)
        elif fault == "flaky":
            self.emulator.set_faults(error_rate=0.3, error_seed=i)
        elif fault == "expired":
            self.emulator.expire_sync_tokens()
        elif fault == "delay":
            self.delay = 30.0
            self.emulator.set_faults(propagation_delay_s=self.delay)
        elif fault == "phone":
            self.emulator.set_faults(phone_format="NATIONAL")
        elif fault == "reject":  # Google refuses some contacts of a batch (contactErrors)
            self.emulator.set_faults(reject_marker="Lyon")
        elif fault == "profile":  # Google merges a verified profile into a contact
            live = sorted(self._live_contacts())
            if live:
                profile = {
                    "names": [{"familyName": "Profil"}],
                    "emailAddresses": [{"value": f"profil{i}@gmail.com"}],
                    "phoneNumbers": [{"value": "+33699999999"}],
                }
                rn = live[i % len(live)]
                self.admin.call("POST", f"contacts/{rn}/profile", {"profile": profile})
        elif fault == "old_token":  # a token another release stored (other person fields)
            answer = (
                self.people.people()
                .connections()
                .list(resourceName="people/me", personFields="names", requestSyncToken=True)
                .execute()
            )
            self.account.sync_token = answer.get("nextSyncToken")
            self.session.commit()
        elif fault == "rename":  # Google renames a linked contact; a push follows it
            live = sorted(self._live_contacts())
            if live:
                self.admin.call("POST", f"contacts/{live[i % len(live)]}/rename")
            linked = list(self.session.scalars(select(SyncLink)))
            if linked:
                try:
                    self.service.sync_client_to_google(linked[i % len(linked)].client_id)
                except SyncError:
                    self.session.rollback()
        elif fault == "lost_delayed":  # a create applied, answered 503, then not visible yet
            self.delay = 30.0
            self.emulator.set_faults(fail_after_apply=1, propagation_delay_s=self.delay)
        elif fault == "full_omit_renamed":  # a renamed contact seen only in a full listing
            live = sorted(self._live_contacts())
            if live:
                self.admin.call("POST", f"contacts/{live[i % len(live)]}/rename")
            self.account.sync_token = None
            self.session.commit()
        elif fault == "touch":
            for rn in list(self._live_contacts())[:3]:
                self.admin.call("POST", f"contacts/{rn}/touch")
        elif fault == "stale":
            admin, field = self.admin, FIELDS[i % len(FIELDS)]
            edits = self.edits

            def racing(changes: Any) -> Any:
                google.update = original  # type: ignore[method-assign]
                rn = changes[0].id
                live = self._live_contacts()
                if rn in live and field not in ("email", "adresse", "code_postal"):
                    value = f"Course{i}" if field != "telephone" else "+33611111111"
                    admin.call("PATCH", f"contacts/{rn}", person_fields(field, value, live[rn]))
                    edits.pop((f"contact:{rn}", field), None)
                    edits[(f"contact:{rn}", field)] = value
                return original(changes)

            google.update = racing  # type: ignore[method-assign]
        try:
            self.service.sync_all(trigger="test")
        except (SyncError, MassDeletionError):
            self.session.rollback()
        finally:
            google.update = original  # type: ignore[method-assign]
            self.emulator.set_faults(
                fail_next=0, fail_after_apply=0, error_rate=0.0, reject_marker=None
            )

    @rule(edit=st.booleans(), i=st.integers(0, 50), field=Field, value=Text, phone=Phones)
    def preview_and_apply(
        self, edit: bool, i: int, field: str, value: str | None, phone: str | None
    ) -> None:
        """A person previews (nothing is written on either side), maybe edits a client
        meanwhile, then applies exactly the preview: an item changed since it is left
        for the next run."""
        writes_before = self._google_writes()
        clients_before = [(c.id, c.updated_at) for c in self._live_clients()]
        try:
            preview = self.service.sync_all(dry_run=True, trigger="test")
        except (SyncError, MassDeletionError):
            self.session.rollback()
            return
        assert self._google_writes() == writes_before, "a preview wrote to Google"
        assert [(c.id, c.updated_at) for c in self._live_clients()] == clients_before
        if edit:
            self.edit_client(i, field, value, phone)
        if preview.plan_id is None:
            return
        try:
            self.service.apply_plan(preview.plan_id, force=True)
        except (SyncError, MassDeletionError):
            self.session.rollback()

    def _google_writes(self) -> int:
        methods = self.emulator.stats()["methods"]
        return sum(n for m, n in methods.items() if m.endswith(WRITES))

    @rule()
    def push(self) -> None:
        """The job queue's run after an edit: the edited linked clients and their contacts
        only (no listing) when it can, else a whole incremental run; refused before the
        first sync a person ran."""
        try:
            self.service.sync_all(trigger="push")
        except (SyncError, MassDeletionError):
            self.session.rollback()

    @rule()
    def clean_sync(self) -> None:
        """Faults off (phone format stays), writes visible: sync, check, sync again: no write."""
        self.emulator.set_faults(fail_next=0, fail_after_apply=0, error_rate=0.0)
        if self.delay:
            self.emulator.advance_clock(self.delay + 1)
        result = self._sync(force=True)
        if result.errors:  # a clean run may still carry work deferred by the fault run
            result = self._sync(force=True)
        assert not result.errors, result.errors
        if self.delay:
            self.emulator.advance_clock(self.delay + 1)
        self._check_agreement()
        self._check_no_duplicates()
        self._check_edits()
        self._check_google_only()
        second = self._sync(force=False)
        writes = sum(n for m, n in second.api_calls.items() if m.endswith(WRITES))
        d = second.to_dict()
        assert writes == 0, pprint.pformat(
            (
                d,
                self.service.get_run(second.run_id).to_dict()["items"],
                self.service.get_run(result.run_id).to_dict(),
            ),
            width=120,
        )
        assert d["atarys_to_google"]["success"] == 0, d
        assert d["google_to_atarys"]["success"] == 0, d
        self.edits = {}
        self.synced_once = True
        STATS["clean_syncs"] += 1

    def _sync(self, *, force: bool) -> RunResult:
        return self.service.sync_all(force=force, trigger="test")

    # --- invariants ---------------------------------------------------------------

    def _check_agreement(self) -> None:
        """Every linked pair: client live, contact live, same normalized fields as the snapshot."""
        contacts = self._live_contacts()
        clients = {c.id: c for c in self._live_clients()}
        for link in self.session.scalars(select(SyncLink)):
            assert link.client_id in clients, link.to_dict()
            assert link.resource_name in contacts, link.to_dict()
            c = clients[link.client_id]
            a = normalize_record(Record(**{n: getattr(c, n) or None for n in FIELDS}))
            g = normalize_record(person_to_record(contacts[link.resource_name]))
            assert a == g, (a, g)
            assert Record.from_dict(link.snapshot) == a
            assert client_id_of(contacts[link.resource_name]) == str(link.client_id)

    def _check_no_duplicates(self) -> None:
        """No two live contacts carry the same client id unless the second one is reported
        as that client's duplicate; every live contact and client is accounted for."""
        contacts = self._live_contacts()
        linked_rns = {lk.resource_name for lk in self.session.scalars(select(SyncLink))}
        reports = list(
            self.session.scalars(select(SyncDuplicate).where(SyncDuplicate.status == "open"))
        )
        open_dups = {rn for d in reports for rn in d.resource_names}
        reported = {(str(i), rn) for d in reports for i in d.client_ids for rn in d.resource_names}
        by_hint: dict[str, list[str]] = {}
        for rn, p in contacts.items():
            if client_id_of(p):
                by_hint.setdefault(str(client_id_of(p)), []).append(rn)
        for cid, rns in by_hint.items():
            # a copy Google kept out of sight (a rename under propagation delay) while the
            # sync wrote the client anew, differing from it: shown to a person, never lost
            unreported = [rn for rn in rns if (cid, rn) not in reported]
            assert len(unreported) <= 1, (cid, rns, [d.to_dict() for d in reports])
        for rn in contacts:
            # a live contact is linked, reported as a duplicate, or out of any client's reach
            assert rn in linked_rns or rn in open_dups or rn in self.contacts, rn
        live_ids = {c.id for c in self._live_clients()}
        linked_ids = {lk.client_id for lk in self.session.scalars(select(SyncLink))}
        dup_ids = {
            i
            for d in self.session.scalars(
                select(SyncDuplicate).where(SyncDuplicate.status == "open")
            )
            for i in d.client_ids
        }
        # a client whose create answer was lost waits, held, for proof (its contact found
        # by clientData, or a full listing without it) instead of being created twice
        held = {int(cid) for cid in self.service.store.in_doubt()}
        assert live_ids <= linked_ids | dup_ids | held, live_ids - linked_ids - dup_ids - held

    def _check_edits(self) -> None:
        """The last edit of every linked pair's field is present, or kept in a resolved conflict."""
        links = list(self.session.scalars(select(SyncLink)))
        by_entity = {f"client:{lk.client_id}": lk for lk in links}
        by_entity.update({f"contact:{lk.resource_name}": lk for lk in links})
        conflicts = list(self.session.scalars(select(SyncConflict)))
        last: dict[tuple[int, str], str | None] = {}
        for (entity, field), value in self.edits.items():  # in edit order
            link = by_entity.get(entity)
            if link is not None:  # else: deleted, or reported as a duplicate
                last[(link.id, field)] = value
        snapshots = {lk.id: lk for lk in links}
        for (link_id, field), value in last.items():
            link = snapshots[link_id]
            want = normalize_value(field, value)
            got = Record.from_dict(link.snapshot).get(field)
            if got == want:
                continue
            if field == "nom" and want is None and got:
                continue  # a client needs a nom: an emptied family name is replaced by a name
            snapshot = Record.from_dict(link.snapshot)
            if field == "prenom" and got is None and want and snapshot.nom == want:
                # a contact with no family name: its given name is the client's nom (seed
                # 3596227934: the edit is there, one field over, as the run journals it)
                continue
            kept = [
                c
                for c in conflicts
                if c.field == field
                and c.status == "resolved"
                and want in (c.atarys_value, c.google_value)
                and (c.client_id == link.client_id or c.resource_name == link.resource_name)
            ]
            assert kept, (link.to_dict(), field, value, got)

    def _check_google_only(self) -> None:
        """Contacts made by a phone keep their birthday and their second e-mail."""
        contacts = self._live_contacts()
        for rn in self.contacts:
            if rn not in contacts:
                continue
            p = contacts[rn]
            assert p.get("birthdays"), p
            assert any(e["value"].endswith("@home.example") for e in p.get("emailAddresses", [])), p
        # ... and a personal e-mail never becomes a client's (issue 11 #4)
        for client in self._live_clients():
            assert not (client.email or "").endswith("@home.example"), client.to_dict()


BUDGET = float(os.environ.get("ATARYS_HYPOTHESIS_SECONDS", "1200" if PROFILE == "deep" else "90"))
REPLAY = os.environ.get("ATARYS_HYPOTHESIS_SEED")
# CI (.ci/run) names the commit: its seeds are then new for every commit but the same for
# every run of that commit (a red CI is replayable, a green one stays green), and a fixed
# number of batches replaces the clock.
SEED_BASE = os.environ.get("ATARYS_HYPOTHESIS_SEED_BASE")
CI_BATCHES = int(os.environ.get("ATARYS_HYPOTHESIS_BATCHES", "3"))


def _seed(batch: int) -> int:
    if REPLAY:
        return int(REPLAY)
    if SEED_BASE:
        digest = hashlib.sha256(f"{SEED_BASE}:{batch}".encode()).digest()
        return int.from_bytes(digest[:4], "big")
    return random.SystemRandom().randrange(2**32)


def test_sync_state_machine(app: Flask, emulator: RunningEmulator, tmp_path: Path) -> None:
    """Random edits on both sides, faults, syncs: the invariants hold after every clean sync."""
    before = dict(STATS)
    started = time.monotonic()
    ends = started + BUDGET
    batches = 0
    while True:
        # Hypothesis draws its seed from the random module when not derandomized.
        seed = _seed(batches)
        random.seed(seed)
        try:
            run_state_machine_as_test(
                lambda: SyncMachine(app, emulator, tmp_path / "logs"), settings=SETTINGS
            )
        except BaseException:
            print(f"\nstate machine failed: replay with ATARYS_HYPOTHESIS_SEED={seed}")  # noqa: T201
            raise
        batches += 1
        if PROFILE == "deep":
            print(  # noqa: T201
                f"\nbatch {batches} (seed {seed}): {STATS['examples'] - before['examples']} "
                f"examples so far, {(time.monotonic() - started) / 60:.1f} min"
            )
        done = batches >= CI_BATCHES if SEED_BASE else time.monotonic() >= ends
        if REPLAY or PROFILE not in BATCHED or done:
            break
    examples = STATS["examples"] - before["examples"]
    checked = STATS["clean_syncs"] - before["clean_syncs"]
    steps = STATS["steps"] - before["steps"]
    faults = STATS["faults"] - before["faults"]
    waits = STATS["quota_waits"] - before["quota_waits"]
    print(  # noqa: T201
        f"\nstate machine ({PROFILE}, {batches} seed(s), {(time.monotonic() - started) / 60:.1f} "
        f"min): {examples} examples, {steps} steps, {faults} syncs under a fault, {checked} clean "
        f"syncs checked, {waits} quota waits not slept, 0 violations"
    )
    assert checked > 0


def test_replay_shared_email_recreated_after_a_deleted_client(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the machine: a client deleted while its contact's name is edited on the
    phone, and a new client taking the same shared e-mail. The clean sync that follows
    must leave both sides agreeing, so that the next sync writes nothing."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        m.clean_sync()
        m.edit_contact(field="nom", i=48, phone="+33612345678", value="Martin")
        m.create_client(nom="Martin", phone="+33612345678", pick=2, shared=True, ville="Martin")
        m.clean_sync()
        m.clean_sync()
        m.edit_client(field="nom", i=0, phone="+33612345678", value="Martin")
        for _ in range(4):
            m.clean_sync()
        m.touch_contact(i=27)
        m.delete_client(i=32)
        m.touch_contact(i=34)
        m.create_client(nom="Martin", phone="+33612345678", pick=2, shared=True, ville="Martin")
        m.edit_contact(field="nom", i=0, phone="+33612345678", value="Lyon")
        m.clean_sync()
        # the contact went to the client who took the e-mail, with the phone's edit
        (client,) = m._live_clients()
        assert client.nom == "Lyon"
    finally:
        m.teardown()


def test_replay_a_lost_create_whose_contact_the_phone_deleted(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the machine (seed 2624402400): a create whose answer was lost, its contact
    then deleted on the phone. The client is held in doubt (never created twice, never
    lost) and every invariant of a clean sync holds."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        m.clean_sync()
        m.create_client(nom="Martin", phone="+33612345678", pick=0, shared=False, ville="Martin")
        m.sync_with_fault(fault="flaky", i=7)
        m.create_client(nom=None, phone="+33698765432", pick=1, shared=True, ville="ACME")
        m.create_contact(nom="Dubois", phone=None, pick=2, shared=False)
        m.delete_contact(i=18)
        m.create_contact(nom="Paris", phone="+33698765432", pick=2, shared=False)
        m.sync_with_fault(fault="delay", i=40)
        m.delete_contact(i=13)
        m.edit_contact(field="entreprise", i=1, phone="+33612345678", value="Lyon")
        m.sync_with_fault(fault="expired", i=31)
        m.create_contact(nom="Élodie", phone="+33612345678", pick=1, shared=True)
        m.clean_sync()
    finally:
        m.teardown()


def test_replay_a_rename_hidden_by_propagation_delay(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the deep profile (seed 330921438): a linked contact renamed by Google
    while its new name is not listed yet (propagation delay), its client edited. The run
    sees the old name answer 404 and no contact with the client's id: the edit wins, the
    contact is created again. When the renamed copy shows up, it differs from the client
    (the name before the edit): it is not deleted as our own copy (a phone edit could be
    in it) but reported as the client's duplicate, and every invariant holds."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        m.create_contact(nom="Dubois", phone="+33123456789", pick=0, shared=False)
        m.edit_contact(field="entreprise", i=31, phone=None, value=None)
        m.create_contact(nom="Élodie", phone="+33698765432", pick=1, shared=False)
        m.create_contact(nom="Paris", phone="+33123456789", pick=0, shared=False)
        m.clean_sync()
        m.sync_with_fault(fault="phone", i=19)
        m.touch_contact(i=15)
        m.create_client(nom="Dubois", phone="+33698765432", pick=0, shared=True, ville="  Nice  ")
        m.touch_contact(i=49)
        m.create_client(nom=None, phone=None, pick=2, shared=False, ville="Élodie")
        m.sync_with_fault(fault="delay", i=11)
        m.edit_contact(field="prenom", i=20, phone="+33123456789", value="Paris")
        m.delete_contact(i=18)
        m.delete_contact(i=29)
        m.edit_client(field="nom", i=28, phone=None, value="  Nice  ")
        m.sync_with_fault(fault="rename", i=20)
        m.create_contact(nom="Élodie", phone="+33123456789", pick=0, shared=False)
        m.delete_contact(i=46)
        m.create_contact(nom="Lyon", phone="+33123456789", pick=0, shared=False)
        m.clean_sync()  # every invariant of a clean sync holds (checked inside)
        # When the late copy shows up in this run, it is shown as the client's duplicate,
        # never linked twice. (In CI's full suite this sequence once took another path, with
        # no copy reported and every invariant holding; why is not found yet.)
        reports = list(
            m.session.scalars(select(SyncDuplicate).where(SyncDuplicate.status == "open"))
        )
        for report in reports:
            (link,) = m.session.scalars(
                select(SyncLink).where(SyncLink.client_id == report.client_ids[0])
            )
            (copy,) = report.resource_names
            assert copy != link.resource_name
            assert client_id_of(m._live_contacts()[copy]) == str(report.client_ids[0])
    finally:
        m.teardown()


def test_replay_a_deleted_client_whose_reported_copy_comes_in_the_same_run(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the deep profile (seed 268268870 on SQLite, 2267225881 on PostgreSQL): a
    client whose late renamed copy is reported as its duplicate is deleted in ATARYS. The
    run that deletes its contact must also take in the copy (it no longer belongs to a
    client), not leave it to the next run: the sync after a clean one writes nothing."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        m.create_contact(nom="Martin", phone="+33612345678", pick=0, shared=False)
        m.clean_sync()
        m.create_client(nom="Martin", phone="+33612345678", pick=0, shared=True, ville="Martin")
        m.create_client(nom="Martin", phone="+33612345678", pick=0, shared=False, ville="Martin")
        m.sync_with_fault(fault="delay", i=11)
        m.delete_contact(i=18)
        m.delete_contact(i=0)
        m.edit_client(field="nom", i=28, phone="+33612345678", value="  Nice  ")
        m.sync_with_fault(fault="rename", i=20)
        m.clean_sync()
        reports = list(
            m.session.scalars(select(SyncDuplicate).where(SyncDuplicate.status == "open"))
        )
        m.delete_client(i=22)
        m.clean_sync()  # one run: the contact deleted, the copy taken in (invariants inside)
        if reports:  # the path the seed took (not always taken in CI's full suite, as above)
            (copy,) = reports[0].resource_names
            (client,) = m._live_clients()
            assert (client.nom, client.email) == ("Martin", "anne@example.com")
            (link,) = m.session.scalars(select(SyncLink))
            assert (link.client_id, link.resource_name) == (client.id, copy)
    finally:
        m.teardown()


def test_replay_a_given_name_edited_on_a_contact_without_family_name(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the deep machine (seed 3596227934): the phone clears a contact's family
    name, then edits its given name. The client's nom takes the given name (a client
    needs one, and the journal says so): the edit is kept, and a clean sync after it
    writes nothing."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        m.create_contact(nom="Martin", phone="+33612345678", pick=0, shared=False)
        m.clean_sync()
        m.edit_contact(field="nom", i=0, phone=None, value=None)
        m.clean_sync()
        m.edit_contact(field="prenom", i=0, phone=None, value="Gérant")
        m.clean_sync()
        (client,) = m._live_clients()
        assert (client.nom, client.prenom) == ("Gérant", None)
    finally:
        m.teardown()


def test_replay_a_push_after_the_phone_made_twins_of_one_person(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the machine (seed 1991112893): contacts made on the phone with one phone
    number, one of them edited, a push, then an e-mail edit on the phone: a clean sync,
    then nothing left to write."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        for _ in range(5):
            m.clean_sync()
        m.create_contact(nom="Martin", phone="+33612345678", pick=0, shared=False)
        m.clean_sync()
        m.create_contact(nom="Martin", phone="+33612345678", pick=0, shared=False)
        for _ in range(3):
            m.clean_sync()
        m.create_contact(nom="Martin", phone="+33612345678", pick=0, shared=False)
        m.create_contact(nom="Dubois", phone="+33612345678", pick=0, shared=True)
        for _ in range(3):
            m.clean_sync()
        m.create_contact(nom="Dubois", phone="+33698765432", pick=0, shared=True)
        m.clean_sync()
        m.edit_contact(field="ville", i=2, phone=None, value="Lyon")
        m.create_contact(nom="Martin", phone="+33612345678", pick=2, shared=False)
        m.push()
        m.edit_contact(field="email", i=29, phone=None, value="Lyon")
        m.clean_sync()
    finally:
        m.teardown()


def test_replay_previews_applied_around_a_phone_edit(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the machine (seed 3194857606): a client's phone emptied before it was ever
    synced, then linked by e-mail to a phone's contact holding a number: it takes it (no
    edit the sync could see; the machine no longer counts it as one); previews applied
    around edits on both sides: every edit is still there (or kept in a conflict)."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        m.clean_sync()
        m.create_contact(nom="Martin", phone="+33612345678", pick=0, shared=False)
        m.clean_sync()
        m.delete_contact(i=21)
        m.clean_sync()
        m.create_client(nom="Martin", phone="+33123456789", pick=1, shared=True, ville="Dubois")
        m.edit_client(field="telephone", i=41, phone=None, value=None)
        m.create_contact(nom="Dubois", phone="+33612345678", pick=1, shared=True)
        m.preview_and_apply(edit=False, field="nom", i=6, phone=None, value="Gérant")
        m.edit_contact(field="telephone", i=33, phone="+33698765432", value="Élodie")
        m.touch_contact(i=23)
        m.preview_and_apply(edit=True, field="email", i=13, phone="+33123456789", value="ACME")
        m.touch_contact(i=5)
        m.edit_client(field="fonction", i=10, phone="+33612345678", value="Gérant")
        m.delete_contact(i=4)
        m.clean_sync()
    finally:
        m.teardown()


def test_replay_a_linked_name_changed_on_the_phone_beside_a_colleague(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the machine (seed 2314140580): a shared address held by a linked pair
    whose family name the phone changes in the same run as a colleague's contact with
    that address and the pair's old name arrives. The colleague is matched against the
    names the holders have after the run: a clean sync, then nothing left to write."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        for _ in range(3):
            m.clean_sync()
        m.create_client(nom="Dubois", phone="+33698765432", pick=1, shared=True, ville="Élodie")
        m.sync_with_fault(fault="rename", i=20)
        m.create_contact(nom="  Nice  ", phone="+33698765432", pick=0, shared=True)
        m.create_client(nom="Martin", phone=None, pick=1, shared=True, ville="Gérant")
        m.create_contact(nom="ACME", phone="+33612345678", pick=1, shared=False)
        m.create_contact(nom="Dubois", phone="+33123456789", pick=1, shared=True)
        m.sync_with_fault(fault="profile", i=23)
        m.edit_contact(field="nom", i=32, phone="+33698765432", value="ACME")
        m.clean_sync()
    finally:
        m.teardown()


def test_replay_a_phone_set_then_emptied_before_the_first_sync(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by CI (seed 3102089429): a new client's phone set, then emptied, before any
    sync: the client goes to Google with no phone (the machine had kept the first value
    as the edit to find)."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        m.create_client(nom="Martin", phone="+33612345678", pick=0, shared=True, ville="Martin")
        m.edit_client(field="nom", i=0, phone="+33612345678", value="Martin")
        m.edit_client(field="nom", i=27, phone="+33612345678", value="Martin")
        m.create_client(nom="Martin", phone="+33612345678", pick=0, shared=False, ville="Martin")
        m.create_client(nom="Martin", phone="+33698765432", pick=0, shared=False, ville="Martin")
        m.create_client(nom="Martin", phone="+33612345678", pick=2, shared=True, ville="Martin")
        m.edit_client(field="telephone", i=46, phone="+33612345678", value="Martin")
        m.edit_client(field="telephone", i=50, phone=None, value="Élodie")
        m.clean_sync()
    finally:
        m.teardown()


def test_replay_a_link_following_an_older_copy_of_its_contact(
    app: Flask, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Found by the machine (seed 2314140580): a contact renamed out of sight, its client's
    contact made again, then deleted; a full listing finds the older copy by its
    clientData and the link follows it. Its other e-mail is compared as a new link's (a
    conflict), never taken as a phone edit over the office's own (seen as u2@ → bob@)."""
    m = SyncMachine(app, emulator, tmp_path / "logs")
    try:
        for _ in range(3):
            m.clean_sync()
        m.create_contact(nom="Martin", phone=None, pick=2, shared=True)
        m.sync_with_fault(fault="delay", i=49)
        m.create_contact(nom="Martin", phone="+33123456789", pick=1, shared=True)
        m.preview_and_apply(edit=True, field="email", i=20, phone=None, value="Lyon")
        m.create_contact(nom="Élodie", phone="+33123456789", pick=1, shared=True)
        m.clean_sync()
        m.clean_sync()
        m.delete_contact(i=18)
        m.touch_contact(i=28)
        m.push()
        m.clean_sync()
        m.delete_contact(i=33)
        m.sync_with_fault(fault="full_omit_renamed", i=6)
        m.push()
        m.push()
        m.sync_with_fault(fault="rename", i=47)
        m.push()
        m.preview_and_apply(edit=True, field="email", i=8, phone=None, value="ACME")
        m.edit_contact(field="fonction", i=36, phone="+33123456789", value="ACME")
        m.edit_contact(field="nom", i=9, phone="+33123456789", value="Martin")
        m.push()
        m.sync_with_fault(fault="expired", i=50)
        m.delete_contact(i=45)
        m.clean_sync()
    finally:
        m.teardown()
