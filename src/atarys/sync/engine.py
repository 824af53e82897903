"""One sync run: read both sides, plan (pure core), check the breaker, execute in batches.

Execution order: deletions and unlinks, then creations, then updates; each batch is
followed by a commit of the client writes *and* the links they touch, so a crash costs
at most the batch in flight, and a lost Google answer is repaired by the next run
matching our contacts by ``clientData``. Cursors (Google sync token, ATARYS watermark)
only move when a run ends without item errors, so a failed item is seen again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from atarys.models import SyncLink, SyncRun
from atarys.sync.core.errors import (
    ContactLimitError,
    MassDeletionError,
    StaleItemError,
    SyncError,
    WriteRejectedError,
)
from atarys.sync.core.plan import (
    DELETED,
    UNCHANGED,
    Candidate,
    Duplicate,
    FieldConflict,
    Match,
    PairPlan,
    PlannedItem,
    PlanSettings,
    SideState,
    Version,
    breaker_reasons,
    match,
    plan_pair,
)
from atarys.sync.core.records import Record, diff, normalize_record
from atarys.sync.sides.atarys_db import AtarysDbSide
from atarys.sync.sides.base import Change, Item, Listing, NewItem, Side
from atarys.sync.store import Store

logger = logging.getLogger("atarys.sync.engine")

A2G = "atarys_to_google"
G2A = "google_to_atarys"
ACTIONS = ("created", "updated", "deleted", "linked", "unlinked")


@dataclass
class DirectionCounts:
    """What a run did in one direction."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    linked: int = 0
    unlinked: int = 0
    errors: int = 0

    @property
    def success(self) -> int:
        return self.created + self.updated + self.deleted + self.linked

    def add(self, action: str) -> None:
        setattr(self, action, getattr(self, action) + 1)

    def to_dict(self) -> dict[str, int]:
        return {
            "success": self.success,
            "errors": self.errors,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "linked": self.linked,
            "unlinked": self.unlinked,
        }


@dataclass
class Pair:
    """A linked (or being linked) client and contact, as the run sees them."""

    client_id: str | None
    resource_name: str | None
    snapshot: Record
    link: SyncLink | None = None
    a_item: Item | None = None
    g_item: Item | None = None
    a: SideState = UNCHANGED
    g: SideState = UNCHANGED
    how: str = "linked"  # linked, client_data, email, create_google, create_atarys
    plan: PairPlan | None = None
    done: bool = False

    def key(self) -> str:
        return f"{self.client_id}|{self.resource_name}"


@dataclass
class Outcome:
    """The result of one engine run."""

    run: SyncRun
    a2g: DirectionCounts = field(default_factory=DirectionCounts)
    g2a: DirectionCounts = field(default_factory=DirectionCounts)
    conflicts: list[FieldConflict] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    planned: list[PlannedItem] = field(default_factory=list)
    breaker: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _Reading:
    """What a run read from both sides."""

    links: list[SyncLink]
    pairs: list[Pair] = field(default_factory=list)
    clients: list[Candidate] = field(default_factory=list)
    contacts: list[Candidate] = field(default_factory=list)
    a_items: dict[str, Item] = field(default_factory=dict)
    g_items: dict[str, Item] = field(default_factory=dict)
    g_listing: Listing | None = None
    a_cursor: str | None = None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class Engine:
    """Runs one sync of an account between the ATARYS database and a Google side."""

    def __init__(
        self,
        session: Session,
        store: Store,
        atarys: AtarysDbSide,
        google: Side,
        settings: PlanSettings,
        *,
        actions: logging.Logger,
        progress: Callable[[int, int], None] | None = None,
        lock_owner: str | None = None,
    ) -> None:
        self.session = session
        self.store = store
        self.atarys = atarys
        self.google = google
        self.settings = settings
        self.actions = actions
        self.progress_cb = progress
        self.lock_owner = lock_owner
        self.region = settings.phone_region

    # --- helpers ----------------------------------------------------------------------

    def _norm(self, record: Record) -> Record:
        return normalize_record(record, self.region)

    def _journal(
        self,
        out: Outcome,
        direction: str,
        action: str,
        pair: Pair,
        changes: dict[str, tuple[str | None, str | None]] | None = None,
        message: str | None = None,
    ) -> None:
        counts = out.a2g if direction == A2G else out.g2a
        if action == "error":
            counts.errors += 1
            out.errors.append(message or "")
        elif action in ACTIONS:
            counts.add(action)
        payload = {k: {"before": b, "after": a} for k, (b, a) in (changes or {}).items()}
        self.store.add_item(
            out.run,
            direction=direction,
            action=action,
            client_id=_int(pair.client_id),
            resource_name=pair.resource_name,
            changes=payload,
            message=message,
        )
        self.actions.info(
            "run=%s %s %s client=%s contact=%s fields=%s%s",
            out.run.id,
            direction,
            action,
            pair.client_id,
            pair.resource_name,
            ",".join(sorted(changes or {})) or "-",
            f" error={message}" if action == "error" and message else "",
        )

    def _progress(self, out: Outcome, n: int) -> None:
        out.run.progress_done = min(out.run.progress_done + n, out.run.progress_total)
        if self.lock_owner:
            self.store.heartbeat(self.lock_owner)
        self.session.commit()
        if self.progress_cb is not None:
            self.progress_cb(out.run.progress_done, out.run.progress_total)

    # --- reading ----------------------------------------------------------------------

    def _state(self, item: Item | None, deleted: bool) -> SideState:
        if deleted:
            return DELETED
        if item is None:
            return UNCHANGED
        return Version(item.record, item.updated)

    def _read(
        self, out: Outcome, *, focus_client: str | None, focus_contact: str | None
    ) -> _Reading:
        account = self.store.account
        own = (
            self.store.link_for_client(int(focus_client))
            if focus_client is not None and focus_client.isdigit()
            else None
        )
        # A linked client alone needs only its own link (no matching: it is linked), so
        # its sync costs the same whatever the size of the account.
        links = [own] if own is not None else self.store.links()
        by_client = {str(link.client_id): link for link in links}
        by_contact = {link.resource_name: link for link in links}
        r = _Reading(links=links)

        # Which links this run looks at, and what is known to be gone.
        if focus_client is not None:
            focus_links = [by_client[focus_client]] if focus_client in by_client else []
        elif focus_contact is not None:
            focus_links = [by_contact[focus_contact]] if focus_contact in by_contact else []
        else:
            focus_links = links
        focused = focus_client is not None or focus_contact is not None

        # ATARYS: clients changed since the watermark, every unlinked live client, liveness.
        if focused:
            wanted = [str(link.client_id) for link in focus_links]
            if focus_client is not None:
                wanted.append(focus_client)
            r.a_items = {i: it for i, it in self.atarys.get_any(wanted).items() if not it.deleted}
            live = set(r.a_items)
            if focus_contact is not None and not focus_links:
                unlinked = sorted(self.atarys.ids() - set(by_client))
                r.a_items.update(self.atarys.get(unlinked))
                live |= set(unlinked)
        else:
            watermark = account.atarys_watermark.isoformat() if account.atarys_watermark else None
            a_listing = self.atarys.list_changes(watermark)
            r.a_cursor = a_listing.cursor
            r.a_items = {i.id: i for i in a_listing.items if not i.deleted}
            live = self.atarys.ids()
            missing = sorted(live - set(by_client) - set(r.a_items))
            r.a_items.update(self.atarys.get(missing))

        # Google: the sync-token listing, or the contacts asked for; reported duplicates.
        fetched_rns: set[str] = set()
        if focused and focus_links:
            fetched_rns = {link.resource_name for link in focus_links}
            r.g_items = self.google.get(sorted(fetched_rns))
        elif focus_contact is not None:
            fetched_rns = {focus_contact}
            r.g_items = self.google.get([focus_contact])
        else:
            r.g_listing = self.google.list_changes(account.sync_token)
            out.run.full_listing = r.g_listing.full and not focused
            for item in r.g_listing.items:
                r.g_items[item.id] = item
                for old in item.previous_ids:
                    link = by_contact.get(old)
                    if link is not None and item.id not in by_contact:
                        # Google renamed the contact: follow it
                        self.store.set_link(link, resource_name=item.id)
                        by_contact[item.id] = by_contact.pop(old)
            extra = {
                rn
                for d in self.store.duplicates("open")
                for rn in d.resource_names
                if rn not in r.g_items and rn not in by_contact
            }
            if extra:
                r.g_items.update(self.google.get(sorted(extra)))
        full = r.g_listing is not None and r.g_listing.full

        # Linked pairs and the state of each side.
        for link in focus_links:
            cid, rn = str(link.client_id), link.resource_name
            a_item, g_item = r.a_items.get(cid), r.g_items.get(rn)
            if g_item is not None and g_item.deleted:
                g_item = None
                g_gone = True
            else:
                g_gone = g_item is None and (full or rn in fetched_rns)
            pair = Pair(cid, rn, Record.from_dict(link.snapshot), link, a_item, g_item)
            pair.a = self._state(a_item, cid not in live)
            pair.g = self._state(g_item, g_gone)
            r.pairs.append(pair)

        # Fetch the other side of pairs changed on one side only (for a real 3-way merge).
        need_g = {
            p.resource_name
            for p in r.pairs
            if p.g is UNCHANGED
            and p.resource_name
            and isinstance(p.a, Version)
            and self._norm(p.a.record) != p.snapshot
        }
        if need_g:
            fetched = self.google.get(sorted(need_g))
            for p in r.pairs:
                if p.resource_name in need_g:
                    p.g_item = fetched.get(p.resource_name or "")
                    p.g = self._state(p.g_item, p.g_item is None)
        need_a = {
            p.client_id
            for p in r.pairs
            if p.a is UNCHANGED
            and p.client_id
            and isinstance(p.g, Version)
            and self._norm(p.g.record) != p.snapshot
        }
        if need_a:
            fetched_a = self.atarys.get(sorted(need_a))
            for p in r.pairs:
                if p.client_id in need_a:
                    p.a_item = fetched_a.get(p.client_id or "")
                    p.a = self._state(p.a_item, p.a_item is None)

        r.clients = [
            Candidate(i, self._norm(it.record))
            for i, it in sorted(r.a_items.items())
            if i not in by_client and i in live
        ]
        r.contacts = [
            Candidate(i, self._norm(it.record), it.hint, it.in_scope)
            for i, it in sorted(r.g_items.items())
            if i not in by_contact and not it.deleted
        ]
        return r

    # --- the run ----------------------------------------------------------------------

    def run(
        self,
        out: Outcome,
        *,
        dry_run: bool,
        force: bool,
        focus_client: str | None = None,
        focus_contact: str | None = None,
    ) -> Outcome:
        r = self._read(out, focus_client=focus_client, focus_contact=focus_contact)
        if self.lock_owner:  # a long listing: show the run is alive
            self.store.heartbeat(self.lock_owner)
        pairs, g_listing = r.pairs, r.g_listing
        for pair in pairs:
            pair.plan = plan_pair(pair.snapshot, pair.a, pair.g, self.settings)
        by_hint = {c.hint: c for c in r.contacts if c.hint}
        for pair in pairs:
            found = by_hint.get(pair.client_id or "") if pair.plan is not None else None
            if found is None or pair.plan is None or pair.plan.action != "recreate_google":
                continue
            # the contact was re-created already (a lost response): follow it, no new copy
            item = r.g_items[found.id]
            pair.resource_name, pair.g_item = found.id, item
            pair.g = Version(item.record, item.updated)
            pair.snapshot = Record()
            pair.plan = plan_pair(Record(), pair.a, pair.g, self.settings)
            r.contacts = [c for c in r.contacts if c.id != found.id]

        # Matching, against the e-mails of links that survive this run.
        leaving = {"delete_google", "delete_atarys", "unlink", "forget"}
        gone = {p.key() for p in pairs if p.plan is not None and p.plan.action in leaving}
        lce: dict[str, str] = {}
        lge: dict[str, str] = {}
        for link in r.links:
            if f"{link.client_id}|{link.resource_name}" in gone:
                continue
            email = Record.from_dict(link.snapshot).email
            if email:
                lce[email] = str(link.client_id)
                lge[email] = link.resource_name
        for p in pairs:  # surviving pairs hold the e-mail they will have after this run
            if p.key() in gone or p.plan is None:
                continue
            held = {p.plan.merged.email} if p.plan.merged is not None else set()
            for c in p.plan.conflicts:
                if c.field == "email" and c.winner is None:
                    held |= {c.atarys, c.google}
            for email in held - {None}:
                assert email is not None
                if p.client_id:
                    lce[email] = p.client_id
                if p.resource_name:
                    lge[email] = p.resource_name
        for email, cid in list(lce.items()):  # an e-mail a pair gives up is free again
            owner = next((p for p in pairs if p.client_id == cid and p.key() not in gone), None)
            plan = owner.plan if owner is not None else None
            if (
                plan is not None
                and plan.merged is not None
                and plan.merged.email != email
                and not any(c.field == "email" and c.winner is None for c in plan.conflicts)
            ):
                lce.pop(email, None)
                lge.pop(email, None)
        result = match(
            r.clients,
            r.contacts,
            linked_clients={str(link.client_id) for link in r.links},
            linked_client_emails=lce,
            linked_contact_emails=lge,
        )
        matches, duplicates = list(result.matches), list(result.duplicates)
        if focus_client is not None:
            matches = [m for m in matches if m.client_id == focus_client]
            duplicates = [d for d in duplicates if focus_client in d.client_ids]
        if focus_contact is not None:
            matches = [m for m in matches if m.resource_name == focus_contact]
            duplicates = [d for d in duplicates if focus_contact in d.resource_names]
        out.duplicates = duplicates
        pairs.extend(self._new_pair(m, r.a_items, r.g_items) for m in matches)

        # The breaker.
        linked = len(r.links)
        dg = sum(1 for p in pairs if p.plan and p.plan.action == "delete_google")
        da = sum(1 for p in pairs if p.plan and p.plan.action == "delete_atarys")
        reasons = breaker_reasons(
            google_deletions=dg,
            atarys_deletions=da,
            linked=linked,
            settings=self.settings,
            full_listing=(g_listing is not None and g_listing.full and not dry_run)
            or (g_listing is not None and g_listing.full),
            listed=sum(1 for i in (g_listing.items if g_listing else []) if not i.deleted),
            expected=g_listing.expected if g_listing else None,
        )
        out.breaker = reasons
        out.pairs = pairs
        out.planned = [self._planned(p) for p in pairs if self._has_work(p)]
        out.planned += [
            PlannedItem(
                "duplicate",
                "none",
                ",".join(d.client_ids) or None,
                ",".join(d.resource_names) or None,
                d.reason,
            )
            for d in out.duplicates
        ]
        if dry_run:
            out.conflicts = [c for p in pairs if p.plan for c in p.plan.conflicts]
            return out
        if reasons and not force:
            raise MassDeletionError({"google": dg, "atarys": da, "linked": linked}, reasons)

        work = [p for p in pairs if self._has_work(p)]
        out.run.progress_total = len(work)
        self.session.commit()
        self._execute(out, pairs)
        focused = focus_client is not None or focus_contact is not None
        if out.duplicates or not focused:
            self.store.record_duplicates(out.run, out.duplicates)
            out.run.duplicates = len(out.duplicates)
        if not focused:
            seen = {(d.email_key, d.reason) for d in out.duplicates}
            for row in self.store.duplicates("open"):
                if (row.email_key, row.reason) not in seen:
                    row.status = "resolved"
            if not out.errors:
                account = self.store.account
                if g_listing is not None and g_listing.cursor:
                    account.sync_token = g_listing.cursor
                if r.a_cursor is not None:
                    account.atarys_watermark = datetime.fromisoformat(r.a_cursor)
        self.session.commit()
        return out

    def _new_pair(self, m: Match, a_items: dict[str, Item], g_items: dict[str, Item]) -> Pair:
        a_item = a_items.get(m.client_id) if m.client_id else None
        g_item = g_items.get(m.resource_name) if m.resource_name else None
        if m.how in ("email", "client_data"):
            assert a_item is not None
            assert g_item is not None
            # no common ancestor (even for our own contact found back by clientData: it
            # may have been edited since): a field set on one side only fills the other,
            # a field set differently on both is a conflict settled by the policy.
            snapshot = Record()
            pair = Pair(m.client_id, m.resource_name, snapshot, None, a_item, g_item, how=m.how)
            pair.a = Version(a_item.record, a_item.updated)
            pair.g = Version(g_item.record, g_item.updated)
            pair.plan = plan_pair(snapshot, pair.a, pair.g, self.settings)
            return pair
        if m.how == "create_google":
            assert a_item is not None
            pair = Pair(m.client_id, None, Record(), None, a_item, None, how=m.how)
            rec = self._norm(a_item.record)
            pair.plan = PairPlan("recreate_google", "new client", rec, to_google=diff(None, rec))
            return pair
        assert g_item is not None
        pair = Pair(None, m.resource_name, Record(), None, None, g_item, how=m.how)
        rec = self._norm(g_item.record)
        pair.plan = PairPlan("recreate_atarys", "new contact", rec, to_atarys=diff(None, rec))
        return pair

    def _needs_hint(self, p: Pair) -> bool:
        return (
            p.g_item is not None
            and not p.g_item.deleted
            and p.client_id is not None
            and p.g_item.hint != p.client_id
        )

    def _has_work(self, p: Pair) -> bool:
        plan = p.plan
        if plan is None:
            return False
        if plan.action == "none":
            return p.how in ("email", "client_data") or self._needs_hint(p)
        return True

    def _planned(self, p: Pair) -> PlannedItem:
        plan = p.plan
        assert plan is not None
        action: str = plan.action
        if p.how == "create_google":
            action = "create_google"
        elif p.how == "create_atarys":
            action = "create_atarys"
        elif p.how in ("email", "client_data"):
            action = f"link_{p.how}"
        direction = (
            "both"
            if plan.to_atarys and plan.to_google
            else G2A
            if plan.to_atarys
            else A2G
            if plan.to_google
            else "none"
        )
        return PlannedItem(
            action,
            direction,
            p.client_id,
            p.resource_name,
            plan.comment,
            plan.to_atarys,
            plan.to_google,
            plan.conflicts,
        )

    # --- execution --------------------------------------------------------------------

    def _execute(self, out: Outcome, pairs: list[Pair]) -> None:
        def of(*actions: str) -> list[Pair]:
            return [p for p in pairs if p.plan is not None and p.plan.action in actions]

        self._deletions(out, of("delete_google", "delete_atarys", "unlink", "forget"))
        self._create_atarys(out, of("recreate_atarys"))
        self._create_google(out, of("recreate_google"))
        updates = [
            p
            for p in pairs
            if p.plan is not None
            and p.plan.action in ("update", "none")
            and not p.done
            and (
                self._has_work(p)
                or p.plan.conflicts
                or (p.plan.merged is not None and p.plan.merged != p.snapshot)
                or (p.link is not None and p.g_item is not None and p.g_item.etag != p.link.etag)
            )
        ]
        self._updates(out, updates)

    def _chunks(self, items: Sequence[Pair], size: int) -> list[list[Pair]]:
        return [list(items[i : i + size]) for i in range(0, len(items), size)]

    def _deletions(self, out: Outcome, pairs: list[Pair]) -> None:
        by_action: dict[str, list[Pair]] = {}
        for p in pairs:
            assert p.plan is not None
            by_action.setdefault(p.plan.action, []).append(p)
        for chunk in self._chunks(by_action.get("delete_google", []), self.google.delete_batch):
            try:
                self.google.delete([p.resource_name for p in chunk if p.resource_name])
            except WriteRejectedError as exc:
                for p in chunk:
                    self._journal(out, A2G, "error", p, message=exc.message)
                continue
            for p in chunk:
                assert p.plan is not None
                assert p.link is not None
                self.store.drop_link(p.link)
                self._journal(out, A2G, "deleted", p, p.plan.to_google)
                p.done = True
            self._progress(out, len(chunk))
        for chunk in self._chunks(by_action.get("delete_atarys", []), self.atarys.delete_batch):
            self.atarys.delete([p.client_id for p in chunk if p.client_id])
            for p in chunk:
                assert p.plan is not None
                assert p.link is not None
                self.store.drop_link(p.link)
                self._journal(out, G2A, "deleted", p, p.plan.to_atarys)
                p.done = True
            self._progress(out, len(chunk))
        rest = by_action.get("unlink", []) + by_action.get("forget", [])
        for p in rest:
            assert p.link is not None
            assert p.plan is not None
            self.store.drop_link(p.link)
            direction = A2G if p.a is DELETED else G2A
            self._journal(out, direction, "unlinked", p, message=p.plan.comment)
            p.done = True
        if rest:
            self._progress(out, len(rest))

    def _create_atarys(self, out: Outcome, pairs: list[Pair]) -> None:
        """New clients from contacts (new, or edited after the client was deleted)."""
        for chunk in self._chunks(pairs, self.atarys.create_batch):
            try:
                created = self.atarys.create(
                    [NewItem(p.plan.merged or Record()) for p in chunk if p.plan]
                )
                done = list(zip(chunk, created, strict=True))
            except WriteRejectedError:
                done = []
                for p in chunk:
                    assert p.plan is not None
                    try:
                        done.append(
                            (p, self.atarys.create([NewItem(p.plan.merged or Record())])[0])
                        )
                    except WriteRejectedError as exc:
                        self._journal(out, G2A, "error", p, message=exc.message)
            for p, item in done:
                assert p.plan is not None
                assert p.g_item is not None
                assert p.resource_name
                p.client_id = item.id
                p.a_item = item
                snapshot = p.plan.merged or Record()
                if p.link is not None:
                    self.store.set_link(
                        p.link, client_id=int(item.id), snapshot=snapshot, etag=p.g_item.etag
                    )
                else:
                    p.link = self.store.add_link(
                        int(item.id), p.resource_name, p.g_item.etag, snapshot
                    )
                self._journal(out, G2A, "created", p, p.plan.to_atarys)
                # the contact still needs our client id in its clientData: an update follows
                p.plan = PairPlan("none", "write clientData", snapshot)
                p.snapshot = snapshot
                p.a = Version(item.record, item.updated)
                p.g = Version(p.g_item.record, p.g_item.updated)
            self.session.flush()
            self._progress(out, len(chunk))

    def _create_google(self, out: Outcome, pairs: list[Pair]) -> None:
        """New contacts from clients (new, or edited after the contact was deleted)."""
        full: ContactLimitError | None = None  # Google refused a create: the account is full
        for chunk in self._chunks(pairs, self.google.create_batch):
            if full is not None:
                # no call: every create would be refused too
                for p in chunk:
                    self._journal(out, A2G, "error", p, message=full.message)
                self._progress(out, len(chunk))
                continue
            news = [
                NewItem(p.a_item.record if p.a_item else Record(), hint=p.client_id) for p in chunk
            ]
            try:
                created = self.google.create(news)
                done = list(zip(chunk, created, strict=True))
            except ContactLimitError as exc:
                full = exc
                logger.warning("Google account full: no more creates in this run")
                done = []
                for p in chunk:
                    self._journal(out, A2G, "error", p, message=exc.message)
            except WriteRejectedError:
                done = []
                for p, new in zip(chunk, news, strict=True):
                    if full is not None:
                        self._journal(out, A2G, "error", p, message=full.message)
                        continue
                    try:
                        done.append((p, self.google.create([new])[0]))
                    except ContactLimitError as exc:
                        full = exc
                        self._journal(out, A2G, "error", p, message=exc.message)
                    except WriteRejectedError as exc:
                        self._journal(out, A2G, "error", p, message=exc.message)
            for p, item in done:
                assert p.plan is not None
                assert p.client_id
                snapshot = self._norm(item.record)
                p.resource_name = item.id
                if p.link is not None:
                    self.store.set_link(
                        p.link, resource_name=item.id, snapshot=snapshot, etag=item.etag
                    )
                else:
                    p.link = self.store.add_link(int(p.client_id), item.id, item.etag, snapshot)
                self._journal(out, A2G, "created", p, p.plan.to_google)
                p.done = True
            self._progress(out, len(chunk))

    def _google_change(self, p: Pair) -> Change | None:
        plan = p.plan
        assert plan is not None
        if not plan.to_google and not self._needs_hint(p):
            return None
        assert p.resource_name
        assert p.g_item is not None
        base = self._norm(p.g_item.record)
        target = base.with_values({k: after for k, (_, after) in plan.to_google.items()})
        return Change(p.resource_name, p.g_item.etag, target, hint=p.client_id)

    def _atarys_change(self, p: Pair) -> Change | None:
        plan = p.plan
        assert plan is not None
        if not plan.to_atarys:
            return None
        assert p.client_id
        assert p.a_item is not None
        base = self._norm(p.a_item.record)
        target = base.with_values({k: after for k, (_, after) in plan.to_atarys.items()})
        return Change(p.client_id, p.a_item.etag, target)

    def _replan(self, p: Pair, fresh: Item | None) -> None:
        """A contact changed under us: plan the pair again from its current version."""
        p.g_item = fresh
        p.g = self._state(fresh, fresh is None)
        if p.a_item is not None and p.a is UNCHANGED:
            p.a = Version(p.a_item.record, p.a_item.updated)
        p.plan = plan_pair(p.snapshot, p.a, p.g, self.settings)

    def _updates(self, out: Outcome, pairs: list[Pair]) -> None:
        for chunk in self._chunks(pairs, self.google.update_batch):
            g_ok = self._google_updates(out, chunk)
            a_changes = [(p, self._atarys_change(p)) for p in chunk if p in g_ok]
            wanted = [(p, c) for p, c in a_changes if c is not None]
            a_ok: set[str] = {p.key() for p, c in a_changes if c is None}
            for p, change in wanted:
                assert change is not None
                try:
                    written = self.atarys.update([change])[0]
                    p.a_item = written
                    a_ok.add(p.key())
                except StaleItemError:
                    # the client changed during the run: the next run merges it
                    self._journal(
                        out, G2A, "deferred", p, message="client modifié pendant la synchronisation"
                    )
                except WriteRejectedError as exc:
                    self._journal(out, G2A, "error", p, message=exc.message)
            for p in chunk:
                if p not in g_ok or p.key() not in a_ok:
                    continue
                self._settle(out, p)
            self._progress(out, len([p for p in chunk if self._has_work(p)]))

    def _google_updates(self, out: Outcome, chunk: list[Pair]) -> list[Pair]:
        """Write the Google side of a chunk; returns the pairs whose Google part is done."""
        ok: list[Pair] = []
        todo: list[tuple[Pair, Change]] = []
        for p in chunk:
            change = (
                self._google_change(p) if p.plan and p.plan.action in ("update", "none") else None
            )
            if change is None:
                ok.append(p)
            else:
                todo.append((p, change))
        for attempt in range(2):
            if not todo:
                break
            try:
                written = self.google.update([c for _, c in todo])
            except StaleItemError as exc:
                stale = set(exc.ids)
                fresh = self.google.get(sorted(stale))
                retry: list[tuple[Pair, Change]] = []
                for p, c in todo:
                    if c.id not in stale:
                        retry.append((p, c))
                        continue
                    if attempt == 1:
                        self._journal(
                            out,
                            A2G,
                            "error",
                            p,
                            message="contact modifié pendant la synchronisation",
                        )
                        continue
                    self._replan(p, fresh.get(c.id))
                    if p.plan is None or p.plan.action not in ("update", "none"):
                        # now a deletion or re-creation: left to the next run
                        self._journal(
                            out, A2G, "deferred", p, message=p.plan.comment if p.plan else None
                        )
                        continue
                    change = self._google_change(p)
                    if change is None:
                        ok.append(p)
                    else:
                        retry.append((p, change))
                todo = retry
                continue
            except WriteRejectedError:
                if len(todo) == 1:
                    p = todo[0][0]
                    self._journal(out, A2G, "error", p, message="écriture refusée par Google")
                    todo = []
                    break
                # find the culprit: one at a time
                for p, c in todo:
                    try:
                        item = self.google.update([c])[0]
                        p.g_item = item
                        ok.append(p)
                    except (WriteRejectedError, StaleItemError) as exc:
                        self._journal(out, A2G, "error", p, message=exc.message)
                todo = []
                break
            for (p, _), item in zip(todo, written, strict=True):
                p.g_item = item
                ok.append(p)
            todo = []
        return ok

    def _settle(self, out: Outcome, p: Pair) -> None:
        """Both writes of a pair are done: journal them and move its link forward."""
        plan = p.plan
        assert plan is not None
        assert p.client_id
        assert p.resource_name
        merged = plan.merged if plan.merged is not None else p.snapshot
        etag = p.g_item.etag if p.g_item is not None else None
        if p.link is None:
            p.link = self.store.add_link(int(p.client_id), p.resource_name, etag, merged)
            self.session.flush()
            direction = A2G
            self._journal(
                out,
                direction,
                "linked",
                p,
                message=f"par {'clientData' if p.how == 'client_data' else 'e-mail'}",
            )
        else:
            self.store.set_link(p.link, snapshot=merged, etag=etag, resource_name=p.resource_name)
        if plan.to_google:
            self._journal(out, A2G, "updated", p, plan.to_google)
        if plan.to_atarys:
            self._journal(out, G2A, "updated", p, plan.to_atarys)
        for c in plan.conflicts:
            self.store.record_conflict(out.run, p.link, int(p.client_id), p.resource_name, c)
            out.conflicts.append(c)
        p.done = True


def summarize_calls(google: Any) -> dict[str, int]:
    counter = getattr(google, "counter", None)
    calls = getattr(counter, "calls", None)
    return dict(calls) if isinstance(calls, dict) else {}


__all__ = [
    "A2G",
    "G2A",
    "DirectionCounts",
    "Engine",
    "Outcome",
    "Pair",
    "SyncError",
    "summarize_calls",
]
