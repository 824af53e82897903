"""Carrying out a plan: one handler per action class, in Google's batch sizes.

Order: deletions and unlinks, then new clients, new contacts, then updates and links.
Before writing, each action's precondition is checked: a contact is read again before
it is deleted (an edit made since the plan beats the deletion), a client is re-read
before its values go to Google (an edit made during the run is not overwritten), and
writes to both sides are conditional on the etag they were planned with. An action
whose precondition fails is planned again from the fresh versions (``core.planner.
replan``) and carried out in this run when it still can be. Every write is journaled
(``sync_run_items``: the person's name, each field before → after) and each batch is
committed with the links it moves, so a crash costs at most the batch in flight.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from typing import Literal, TypeVar

from sqlalchemy.orm import Session

from atarys.models import SyncLink, SyncRun
from atarys.sync.core.actions import (
    A2G,
    G2A,
    Action,
    Changes,
    Conflict,
    CreateClient,
    CreateContact,
    DeleteClient,
    DeleteContact,
    Link,
    Plan,
    RestoreClient,
    RestoreContact,
    Unlink,
    Update,
    apply_changes,
    changes_between,
)
from atarys.sync.core.errors import (
    ContactLimitError,
    GoogleApiError,
    GoogleUnavailableError,
    StaleItemError,
    WriteRejectedError,
)
from atarys.sync.core.items import Change, Item, NewItem
from atarys.sync.core.plan import PlanSettings
from atarys.sync.core.planner import import_note, replan
from atarys.sync.core.records import Record, diff, normalize_record
from atarys.sync.log import stamp, write_lines
from atarys.sync.sides.atarys_db import AtarysDbSide
from atarys.sync.sides.base import Side
from atarys.sync.sides.google import ContactsRejectedError
from atarys.sync.store import FILTER_REASON, Store

logger = logging.getLogger("atarys.sync.executor")

T = TypeVar("T")
COUNTED = ("created", "updated", "deleted", "linked", "unlinked")
_CLIENT_WRITES = ("created", "updated", "deleted", "restored")


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


Status = Literal["done", "error", "deferred", "changed"]


@dataclass(frozen=True)
class ActionResult:
    """What became of one action: ``written`` is the action as carried out (re-planned)."""

    action: Action
    status: Status
    written: Action | None = None
    client_id: str | None = None
    resource_name: str | None = None
    message: str | None = None


@dataclass
class Results:
    """The executor's account of a run."""

    a2g: DirectionCounts = field(default_factory=DirectionCounts)
    g2a: DirectionCounts = field(default_factory=DirectionCounts)
    items: list[ActionResult] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # clients this run wrote (created, updated, deleted, restored): the other accounts follow
    written_clients: set[int] = field(default_factory=set)

    def counts(self, direction: str) -> DirectionCounts:
        return self.a2g if direction == A2G else self.g2a


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``chunks`` of an iterable, taken as they come (nothing built ahead)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _only_hint(a: Update | Link) -> bool:
    """Only the client's id goes into its contact (just created by this run): nothing
    of the client is written, so an edit made meanwhile cannot be overwritten; the link
    keeps the version planned, and the next run reads the edit."""
    return a.write_hint and not a.google_changes and not a.atarys_changes


def _payload(changes: Changes) -> dict[str, dict[str, str | None]]:
    return {k: {"before": c.before, "after": c.after} for k, c in changes.items()}


def _created(record: Record) -> dict[str, dict[str, str | None]]:
    """The journal's changes of a creation (every field set), without pydantic objects."""
    return {k: {"before": b, "after": a} for k, (b, a) in diff(None, record).items()}


class Executor:
    """Writes a plan to ATARYS and Google and moves the links (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        store: Store,
        atarys: AtarysDbSide,
        google: Side,
        settings: PlanSettings,
        *,
        run: SyncRun,
        links: dict[str, SyncLink],
        actions_log: logging.Logger,
        progress: Callable[[int], None],
        strict: bool = False,
    ) -> None:
        self.session = session
        self.store = store
        self.atarys = atarys
        self.google = google
        self.settings = settings
        self.run = run
        self.run_id = run.id  # the run row expires at every commit: its id, read once
        self.links = links  # client id → link row (read by the reader)
        self.log = actions_log
        self.progress = progress
        # strict: applying a previewed plan; an action whose precondition fails is not
        # re-planned and written but reported as changed since the preview
        self.strict = strict
        self.results = Results()
        self._lines: list[str] = []  # action log lines, written with their batch
        # clients whose link this run inserted in bulk (no ORM object: a first sync makes
        # one per client); their later moves go out in one statement per batch
        self.fresh: set[str] = set()
        # clients whose clientData write follows their creation: its success is the
        # creation's (already a result), not kept again for each of them
        self._follow: set[str] = set()
        self._moves: list[tuple[int, str, str | None, Record, datetime | None]] = []
        self.region = settings.phone_region

    # --- journal ----------------------------------------------------------------------

    def _journal(
        self,
        action: Action,
        direction: str,
        verb: str,
        *,
        changes: Changes | None = None,
        payload: dict[str, dict[str, str | None]] | None = None,
        message: str | None = None,
        client_id: str | None = None,
        resource_name: str | None = None,
    ) -> None:
        """Journal one write; ``payload``: the changes as journaled, when already built."""
        if payload is None:
            payload = _payload(changes or {})
        counts = self.results.counts(direction)
        cid = client_id if client_id is not None else action.client_id
        rn = resource_name if resource_name is not None else action.resource_name
        if verb == "error":
            counts.errors += 1
            self.results.errors.append(message or "")
        elif verb in COUNTED:
            setattr(counts, verb, getattr(counts, verb) + 1)
        if direction == G2A and verb in _CLIENT_WRITES and cid and cid.isdigit():
            self.results.written_clients.add(int(cid))
        self.store.add_item(
            self.run,
            direction=direction,
            action=verb,
            client_id=int(cid) if cid and cid.isdigit() else None,
            resource_name=rn,
            changes=payload,
            message=message,
            name=action.name or None,
        )
        fields = ",".join(sorted(payload)) or "-"
        error = f" error={message}" if verb == "error" and message else ""
        self._log(f"{direction} {verb} client={cid} contact={rn} fields={fields}{error}")

    def _result(self, action: Action, status: Status, **kw: object) -> None:
        self.results.items.append(ActionResult(action, status, **kw))  # type: ignore[arg-type]

    def _changed(self, action: Action, direction: str, again: Action | None = None) -> None:
        """Strict mode: the item changed since the preview; nothing written for it."""
        message = (
            "modifié depuis l'aperçu : non appliqué, la prochaine synchronisation le reprendra"
        )
        self._journal(action, direction, "changed", message=message)
        self._result(action, "changed", written=again, message=message)

    def _error(self, action: Action, direction: str, message: str) -> None:
        self._journal(action, direction, "error", message=message)
        self._result(action, "error", message=message)

    # --- the run ----------------------------------------------------------------------

    def execute(self, plan: Plan) -> Results:
        try:
            return self._execute(plan)
        finally:
            self.flush_log()  # a run stopped halfway still logs what it journaled

    def _execute(self, plan: Plan) -> Results:
        creates_a: list[CreateClient] = []
        creates_g: list[CreateContact] = []
        writes: list[Update | Link] = []
        deletes_g: list[DeleteContact] = []
        deletes_a: list[DeleteClient] = []
        unlinks: list[Unlink] = []
        restores_g: list[RestoreContact] = []
        restores_a: list[RestoreClient] = []
        for action in plan.actions:
            match action:
                case CreateClient():
                    creates_a.append(action)
                case CreateContact():
                    creates_g.append(action)
                case Update() | Link():
                    writes.append(action)
                case DeleteContact():
                    deletes_g.append(action)
                case DeleteClient():
                    deletes_a.append(action)
                case Unlink():
                    unlinks.append(action)
                case RestoreContact():
                    restores_g.append(action)
                case RestoreClient():
                    restores_a.append(action)
        # a deletion whose precondition failed comes back as a re-creation
        creates_a += self._delete_contacts(deletes_g)
        creates_g += self._delete_clients(deletes_a)
        self._unlink(unlinks)
        self._restore_contacts(restores_g)
        self._restore_clients(restores_a)
        hints = self._create_clients(creates_a)
        self._create_contacts(creates_g)
        self._write_pairs(chain(writes, (self._write_hint(*h) for h in hints)))
        return self.results

    def _write_hint(
        self, a: CreateClient, client_id: str, etag: str, updated: datetime | None
    ) -> Update:
        """The write that puts a new client's id in its contact's clientData."""
        self._follow.add(client_id)
        return Update(
            client_id=client_id,
            resource_name=a.resource_name,
            name=a.name,
            comment="write clientData",
            atarys_etag=etag,
            atarys_updated=updated,
            google_etag=a.google_etag,
            snapshot=a.record,
            atarys=a.record,
            google=a.contact if a.contact is not None else a.record,
            merged=a.record,
            google_changes=changes_between(a.contact, a.record) if a.contact is not None else {},
            write_hint=True,
        )

    def _commit(self, n: int) -> None:
        if self._moves:
            moves, self._moves = self._moves, []
            self.store.move_links(moves)
        self.store.flush_items()
        self.session.flush()
        self.flush_log()
        self.progress(n)

    def _log(self, text: str) -> None:
        """One action log line of this run, stamped now, written with its batch."""
        self._lines.append(stamp(time.time(), f"run={self.run_id} {text}"))

    def flush_log(self) -> None:
        """Write the action log's lines of the actions journaled so far."""
        lines, self._lines = self._lines, []
        write_lines(self.log, lines)

    # --- deletions --------------------------------------------------------------------

    def _delete_contacts(self, actions: list[DeleteContact]) -> list[CreateClient]:
        """Delete contacts that did not change since the plan; an edit beats the deletion."""
        recreate: list[CreateClient] = []
        for chunk in chunks(actions, self.google.delete_batch):
            fresh = self.google.get([a.resource_name for a in chunk if a.resource_name])
            todo: list[DeleteContact] = []
            for a in chunk:
                item = fresh.get(a.resource_name or "")
                if item is None or normalize_record(item.record, self.region) == a.snapshot:
                    todo.append(a)
                    continue
                if self.strict:
                    self._changed(a, A2G)
                    continue
                if a.filtered:
                    # edited on the phone since the plan: kept (and linked) for now; the
                    # next run syncs the edit first, then takes the contact off the phone
                    self._journal(
                        a, A2G, "deferred", message="modifié sur le téléphone entre-temps"
                    )
                    self._result(a, "deferred")
                    continue
                # edited in Google since the last sync: the edit wins, the client comes back
                again = self._replan_deleted(a, atarys=None, google=item)
                if isinstance(again, CreateClient):
                    recreate.append(again)
            if todo:
                # a full copy of each contact first: the trash can restore it whole
                copies = self.google.copies([a.resource_name for a in todo if a.resource_name])
                for a in todo:
                    copy = copies.get(a.resource_name or "")
                    if copy is not None:
                        self.store.add_trash(
                            self.run, a.client_id, a.resource_name or "", a.name, copy
                        )
                try:
                    self.google.delete([a.resource_name for a in todo if a.resource_name])
                except WriteRejectedError as exc:
                    for a in todo:
                        self._error(a, A2G, exc.message)
                    continue
            for a in todo:
                self._drop_link(a.client_id)
                if a.exclude_client and a.client_id:
                    self.store.exclude(a.client_id, "annulation d'une synchronisation")
                if a.filtered and a.client_id:
                    self.store.exclude(a.client_id, FILTER_REASON)
                self._journal(a, A2G, "deleted", changes=a.to_google)
                self._result(a, "done")
            self._commit(len(chunk))
        return recreate

    def _delete_clients(self, actions: list[DeleteClient]) -> list[CreateContact]:
        """Soft-delete clients that did not change since the plan; an edit beats it."""
        recreate: list[CreateContact] = []
        for chunk in chunks(actions, self.atarys.delete_batch):
            fresh = self.atarys.get_any([a.client_id for a in chunk if a.client_id])
            todo: list[DeleteClient] = []
            for a in chunk:
                item = fresh.get(a.client_id or "")
                if item is None or item.deleted or a.atarys_etag in (None, item.etag):
                    todo.append(a)
                    continue
                if self.strict:
                    self._changed(a, G2A)
                    continue
                again = self._replan_deleted(a, atarys=item, google=None)
                if isinstance(again, CreateContact):
                    recreate.append(again)
            self.atarys.delete([a.client_id for a in todo if a.client_id])
            for a in todo:
                self._drop_link(a.client_id)
                if a.exclude_contact and a.resource_name:
                    self.store.exclude_contact(a.resource_name, "annulation d'une synchronisation")
                self._journal(a, G2A, "deleted", changes=a.to_atarys)
                self._result(a, "done")
            self._commit(len(chunk))
        return recreate

    # --- restores (undo) --------------------------------------------------------------

    def _restore_contacts(self, actions: list[RestoreContact]) -> None:
        """Contacts again from their full copies; their clients back; linked again."""
        for a in actions:
            row = self.store.trash_item(a.trash_id)
            if row is None or row.restored_at is not None:
                self._changed(a, A2G)  # restored meanwhile (the trash, another undo)
                continue
            cid = a.client_id
            try:
                back = self.atarys.undelete([cid]) if cid else []
            except WriteRejectedError as exc:
                self._error(a, G2A, exc.message)
                continue
            item = self.google.restore(row.person, cid)
            row.restored_at = self.store.clock()
            row.restored_as = item.id
            if cid:
                client = back[0] if back else None
                record = normalize_record(item.record, self.region)
                self._link_again(cid, item, record, client.updated if client else None)
                if client is not None:
                    self._journal(a, G2A, "restored", changes=a.to_google, client_id=cid)
            self._journal(a, A2G, "created", changes=a.to_google, resource_name=item.id)
            self._result(a, "done", client_id=cid, resource_name=item.id)
        if actions:
            self._commit(len(actions))

    def _restore_clients(self, actions: list[RestoreClient]) -> None:
        """Clients back from the trash; a contact made again when Google has none."""
        for a in actions:
            assert a.client_id is not None
            fresh = self.atarys.get_any([a.client_id]).get(a.client_id)
            if fresh is None or not fresh.deleted:
                self._changed(a, G2A)
                continue
            try:
                client = self.atarys.undelete([a.client_id])[0]
            except WriteRejectedError as exc:
                self._error(a, G2A, exc.message)
                continue
            self._journal(a, G2A, "restored", changes=a.to_atarys)
            contact = self.google.create([NewItem(client.record, hint=a.client_id)])[0]
            record = normalize_record(contact.record, self.region)
            self._link_again(a.client_id, contact, record, client.updated)
            self._journal(a, A2G, "created", changes=a.to_atarys, resource_name=contact.id)
            self._result(a, "done", client_id=a.client_id, resource_name=contact.id)
        if actions:
            self._commit(len(actions))

    def _link_again(
        self, client_id: str, contact: Item, snapshot: Record, version: datetime | None
    ) -> None:
        self.store.resume(int(client_id))
        link = self.links.get(client_id) or self.store.link_for_client(int(client_id))
        if link is not None:
            self.store.set_link(
                link,
                resource_name=contact.id,
                snapshot=snapshot,
                etag=contact.etag,
                client_version=version,
            )
        else:
            link = self.store.add_link(int(client_id), contact.id, contact.etag, snapshot, version)
        self.links[client_id] = link

    def _replan_deleted(
        self, action: DeleteContact | DeleteClient, *, atarys: Item | None, google: Item | None
    ) -> Action | None:
        """One side was deleted, the other changed since the plan: plan the pair again."""
        assert action.client_id is not None
        assert action.resource_name is not None
        probe = Update(
            client_id=action.client_id,
            resource_name=action.resource_name,
            name=action.name,
            snapshot=action.snapshot,
            atarys=action.snapshot,
            google=action.snapshot,
            merged=action.snapshot,
        )
        again = replan(probe, self.settings, atarys=atarys, google=google)
        self._journal(
            action,
            A2G if isinstance(action, DeleteContact) else G2A,
            "deferred",
            message="modifié depuis l'aperçu : la modification l'emporte sur la suppression",
        )
        self._result(action, "deferred", written=again)
        return again

    def _unlink(self, actions: list[Unlink]) -> None:
        for a in actions:
            self._drop_link(a.client_id)
            if a.deleted_in == "google" and a.exclude and a.client_id:
                # kept in ATARYS, out of the sync until a person turns it back on
                self.store.exclude(a.client_id, "contact supprimé dans Google")
            self._journal(a, a.direction, "unlinked", message=a.comment)
            self._result(a, "done")
        if actions:
            self._commit(len(actions))

    def _drop_link(self, client_id: str | None) -> None:
        link = self.links.pop(client_id or "", None)
        if link is not None:
            self.store.drop_link(link)

    # --- creations --------------------------------------------------------------------

    def _create_clients(
        self, actions: list[CreateClient]
    ) -> list[tuple[CreateClient, str, str, datetime | None]]:
        """New clients from contacts; returns the clientData writes that must follow
        (the action, the new client's id, etag and version)."""
        follow: list[tuple[CreateClient, str, str, datetime | None]] = []
        for chunk in chunks(actions, self.atarys.create_batch):
            if self.strict:
                chunk = self._unchanged_contacts(chunk)
            done: list[tuple[CreateClient, Item]] = []
            try:
                created = self.atarys.create([NewItem(a.record) for a in chunk])
                done = list(zip(chunk, created, strict=True))
            except WriteRejectedError:
                for a in chunk:
                    try:
                        done.append((a, self.atarys.create([NewItem(a.record)])[0]))
                    except WriteRejectedError as exc:
                        # the database refused this one (an e-mail never blocks: clients
                        # may share one); journaled by name, the next run tries again
                        self._error(a, G2A, exc.message)
            new_links: list[tuple[int, str, str | None, Record, datetime | None]] = []
            for a, item in done:
                assert a.resource_name is not None
                link = self.links.pop(a.client_id or "", None)
                if link is not None:
                    self.store.set_link(
                        link,
                        client_id=int(item.id),
                        snapshot=a.record,
                        etag=a.google_etag,
                        client_version=item.updated,
                    )
                    self.links[item.id] = link
                else:
                    new_links.append(
                        (int(item.id), a.resource_name, a.google_etag, a.record, item.updated)
                    )
                    self.fresh.add(item.id)
                self._journal(
                    a,
                    G2A,
                    "created",
                    payload=_created(a.record),
                    client_id=item.id,
                    message=import_note(a.comment),
                )
                self._result(a, "done", client_id=item.id, resource_name=a.resource_name)
                # the contact still needs our client id in its clientData (the write is
                # built when its batch comes: a first sync makes one per contact)
                follow.append((a, item.id, item.etag, item.updated))
            self.store.add_links(new_links)
            self._commit(len(chunk))
        return follow

    def _unchanged_contacts(self, chunk: list[CreateClient]) -> list[CreateClient]:
        """Strict mode: contacts whose mapped fields changed since the preview are reported."""
        fresh = self.google.get([a.resource_name for a in chunk if a.resource_name])
        out: list[CreateClient] = []
        for a in chunk:
            item = fresh.get(a.resource_name or "")
            expected = a.contact if a.contact is not None else a.record
            if item is not None and normalize_record(item.record, self.region) == expected:
                out.append(a)
            else:
                self._changed(a, G2A)
        return out

    def _create_contacts(self, actions: list[CreateContact]) -> None:
        """New contacts from clients; at Google's contact cap, stop (no call per client)."""
        full: ContactLimitError | None = None

        def one_by_one(
            pending: list[tuple[CreateContact, NewItem]],
        ) -> list[tuple[CreateContact, Item]]:
            """A batch refused with no contact named: find the culprit, one create at a time."""
            nonlocal full
            made: list[tuple[CreateContact, Item]] = []
            for a, new in pending:
                if full is not None:
                    self._error(a, A2G, full.message)
                    continue
                try:
                    made.append((a, self._create_in_doubt([(a, new)])[0]))
                except ContactLimitError as exc:
                    full = exc
                    self._error(a, A2G, exc.message)
                except WriteRejectedError as exc:
                    self._error(a, A2G, exc.message)
            return made

        for chunk in chunks(actions, self.google.create_batch):
            if full is not None:
                for a in chunk:
                    self._error(a, A2G, full.message)
                self._commit(len(chunk))
                continue
            fresh = self._fresh_clients(chunk)
            chunk = [a for a, _ in fresh]
            news = [NewItem(record, hint=a.client_id) for a, record in fresh]
            done: list[tuple[CreateContact, Item]] = []
            pending = list(zip(chunk, news, strict=True))
            while pending:
                try:
                    created = self._create_in_doubt(pending)
                    done += [(a, item) for (a, _), item in zip(pending, created, strict=True)]
                    pending = []
                except ContactLimitError as exc:
                    full = exc
                    logger.warning("Google account full: no more creates in this run")
                    for a, _ in pending:
                        self._error(a, A2G, exc.message)
                    pending = []
                except ContactsRejectedError as exc:
                    # only these were refused (by index): create the others in one batch
                    rest = []
                    for index, (a, new) in enumerate(pending):
                        if str(index) in exc.errors:
                            self._error(a, A2G, exc.message)
                        else:
                            rest.append((a, new))
                    if len(rest) == len(pending):
                        done += one_by_one(pending)
                        break
                    pending = rest
                except WriteRejectedError:
                    done += one_by_one(pending)
                    pending = []
            new_links: list[tuple[int, str, str | None, Record, datetime | None]] = []
            for a, item in done:
                assert a.client_id is not None
                snapshot = normalize_record(item.record, self.region)
                link = self.links.get(a.client_id)
                if link is not None:
                    self.store.set_link(
                        link,
                        resource_name=item.id,
                        snapshot=snapshot,
                        etag=item.etag,
                        client_version=a.atarys_updated,
                    )
                else:
                    # not kept in self.links: nothing later in the run writes this pair, and
                    # a first sync would hold every new link in memory
                    new_links.append(
                        (int(a.client_id), item.id, item.etag, snapshot, a.atarys_updated)
                    )
                self._journal(a, A2G, "created", payload=_created(a.record), resource_name=item.id)
                self._result(a, "done", client_id=a.client_id, resource_name=item.id)
            self.store.add_links(new_links)
            self._commit(len(chunk))

    # --- creates in doubt and our own extra copies (issue 12 item 6) ----------------------

    def _create_in_doubt(self, pending: Sequence[tuple[CreateContact, NewItem]]) -> list[Item]:
        """Create contacts; when the answer is lost (5xx, network) the create may have
        been applied: each client is recorded "in doubt" (committed, whatever becomes of
        the run) so no run creates it again before its contact is looked for."""
        try:
            return self.google.create([n for _, n in pending])
        except (GoogleUnavailableError, GoogleApiError) as exc:
            if isinstance(exc, GoogleApiError) and 400 <= exc.status < 500:
                raise
            for a, _ in pending:
                if a.client_id:
                    self.store.mark_in_doubt(a.client_id, a.name)
            self.session.commit()
            raise

    def delete_extra_copies(self, copies: Sequence[tuple[str, str, str]]) -> None:
        """Delete contacts we created twice for one client: (client id, contact, name).

        Each copy is re-read first (it must still carry the client id), kept whole in
        the trash, then deleted; the journal names the person.
        """
        for chunk in chunks(list(copies), self.google.delete_batch):
            fresh = self.google.copies([rn for _, rn, _ in chunk])
            todo = [(cid, rn, name) for cid, rn, name in chunk if rn in fresh]
            if not todo:
                continue
            for cid, rn, name in todo:
                self.store.add_trash(self.run, cid, rn, name, fresh[rn])
            try:
                self.google.delete([rn for _, rn, _ in todo])
            except WriteRejectedError as exc:
                for cid, rn, name in todo:
                    self._note(cid, rn, name, "error", exc.message)
                continue
            for cid, rn, name in todo:
                self._note(
                    cid,
                    rn,
                    name,
                    "deleted",
                    "contact en double créé par la synchronisation : supprimé, "
                    "une copie est gardée dans la corbeille",
                )
            self._commit(0)
        self.flush_log()

    def _note(self, cid: str, rn: str, name: str, verb: str, message: str) -> None:
        """Journal a write that is no action of the plan."""
        counts = self.results.a2g
        if verb == "error":
            counts.errors += 1
            self.results.errors.append(message)
        else:
            counts.deleted += 1
        self.store.add_item(
            self.run,
            direction=A2G,
            action=verb,
            client_id=int(cid) if cid.isdigit() else None,
            resource_name=rn,
            message=message,
            name=name or None,
        )
        self._log(f"{A2G} {verb} client={cid} contact={rn}")

    def _fresh_clients(self, chunk: list[CreateContact]) -> list[tuple[CreateContact, Record]]:
        """The clients as they are now (one query): a client edited during the run goes
        to Google with its current values, a client deleted meanwhile is not created."""
        fresh = self.atarys.get_any([a.client_id for a in chunk if a.client_id])
        out: list[tuple[CreateContact, Record]] = []
        for a in chunk:
            item = fresh.get(a.client_id or "")
            if item is None or item.deleted:
                self._journal(
                    a, A2G, "deferred", message="client supprimé pendant la synchronisation"
                )
                self._result(a, "deferred")
                continue
            if a.atarys_etag is not None and item.etag != a.atarys_etag:
                if self.strict:
                    self._changed(a, A2G)
                    continue
                record = normalize_record(item.record, self.region)
                a = a.model_copy(update={"record": record, "atarys_etag": item.etag})
            if a.atarys_updated != item.updated:
                a = a.model_copy(update={"atarys_updated": item.updated})
            out.append((a, item.record))
        return out

    # --- updates and links ------------------------------------------------------------

    def _write_pairs(self, actions: Iterable[Update | Link]) -> None:
        for chunk in batches(actions, self.google.update_batch):
            chunk = self._check_atarys(chunk)
            if self.strict:
                chunk = self._check_google(chunk)
            g_ok = self._google_writes(chunk)
            for a in g_ok:
                done = self._atarys_write(a) if a.atarys_changes else a
                if done is not None:
                    self._settle(done)
            self._commit(sum(1 for a in chunk if not a.bookkeeping))

    def _check_atarys(self, chunk: list[Update | Link]) -> list[Update | Link]:
        """Clients changed since the plan are planned again before anything is written."""
        ids = [
            a.client_id
            for a in chunk
            if a.client_id and a.atarys_etag is not None and not _only_hint(a)
        ]
        fresh = self.atarys.get_any(ids) if ids else {}
        out: list[Update | Link] = []
        for a in chunk:
            item = fresh.get(a.client_id or "")
            if a.atarys_etag is None or item is None or item.etag == a.atarys_etag:
                out.append(a)
                continue
            if self.strict:
                self._changed(a, A2G)
                continue
            google = self._google_item(a)
            again = replan(a, self.settings, atarys=None if item.deleted else item, google=google)
            if isinstance(again, Update | Link):
                out.append(again)
            else:
                # now a deletion or a re-creation: the next run carries it out
                self._journal(
                    a, A2G, "deferred", message="client modifié pendant la synchronisation"
                )
                self._result(a, "deferred", written=again)
        return out

    def _check_google(self, chunk: list[Update | Link]) -> list[Update | Link]:
        """Strict mode: a pair written only in ATARYS checks its contact did not change
        since the preview (a Google write is etag-conditional already)."""
        ids = [a.resource_name for a in chunk if a.resource_name and not a.writes_google]
        fresh = self.google.get(ids) if ids else {}
        out: list[Update | Link] = []
        for a in chunk:
            if a.writes_google or not a.resource_name:
                out.append(a)
                continue
            item = fresh.get(a.resource_name)
            if item is not None and normalize_record(item.record, self.region) == a.google:
                out.append(a)
            else:
                self._changed(a, G2A)
        return out

    def _google_item(self, a: Update | Link) -> Item:
        """The contact as planned (its etag is the write's precondition)."""
        return Item(a.resource_name or "", a.google_etag or "", a.google, hint=None)

    def _google_change(self, a: Update | Link) -> Change | None:
        if not a.writes_google:
            return None
        assert a.resource_name is not None
        target = apply_changes(a.google, a.google_changes)
        return Change(a.resource_name, a.google_etag, target, hint=a.client_id)

    def _google_writes(self, chunk: list[Update | Link]) -> list[Update | Link]:
        """Write the Google part of a chunk; returns the actions whose Google part is done."""
        ok: list[Update | Link] = []
        todo: list[tuple[Update | Link, Change]] = []
        for a in chunk:
            change = self._google_change(a)
            if change is None:
                ok.append(a)
            else:
                todo.append((a, change))
        stale_rounds = 0
        while todo:
            try:
                written = self.google.update([c for _, c in todo])
            except StaleItemError as exc:
                todo = self._restale(todo, set(exc.ids), ok, last=stale_rounds >= 1)
                stale_rounds += 1
                continue
            except ContactsRejectedError as exc:
                # Google named the contacts it refused: the others go again, in one batch
                rest = self._drop_rejected(todo, exc)
                if len(rest) == len(todo):
                    self._one_by_one(todo, ok)
                    break
                todo = rest
                continue
            except WriteRejectedError:
                self._one_by_one(todo, ok)
                break
            for (a, _), item in zip(todo, written, strict=True):
                ok.append(a.model_copy(update={"google_etag": item.etag, "resource_name": item.id}))
            todo = []
        return ok

    def _drop_rejected(
        self, todo: list[tuple[Update | Link, Change]], exc: ContactsRejectedError
    ) -> list[tuple[Update | Link, Change]]:
        """Journal the contacts Google refused as item errors; the others, to retry."""
        rest: list[tuple[Update | Link, Change]] = []
        for a, c in todo:
            if c.id in exc.errors:
                self._error(a, A2G, exc.message)
            else:
                rest.append((a, c))
        return rest

    def _restale(
        self,
        todo: list[tuple[Update | Link, Change]],
        stale: set[str],
        ok: list[Update | Link],
        *,
        last: bool,
    ) -> list[tuple[Update | Link, Change]]:
        """Contacts changed under us: re-read them, plan those pairs again, retry once."""
        fresh = self.google.get(sorted(stale))
        a_fresh = self.atarys.get([a.client_id for a, c in todo if c.id in stale and a.client_id])
        retry: list[tuple[Update | Link, Change]] = []
        for a, c in todo:
            if c.id not in stale:
                retry.append((a, c))
                continue
            if self.strict:
                self._changed(a, A2G)
                continue
            if last:
                self._error(a, A2G, "contact modifié pendant la synchronisation")
                continue
            again = replan(
                a, self.settings, atarys=a_fresh.get(a.client_id or ""), google=fresh.get(c.id)
            )
            if not isinstance(again, Update | Link):
                # now a deletion or re-creation: left to the next run
                self._journal(a, A2G, "deferred", message=a.comment or None)
                self._result(a, "deferred", written=again)
                continue
            change = self._google_change(again)
            if change is None:
                ok.append(again)
            else:
                retry.append((again, change))
        return retry

    def _one_by_one(
        self, todo: list[tuple[Update | Link, Change]], ok: list[Update | Link]
    ) -> None:
        """A batch was refused: find the culprit, one write at a time."""
        if len(todo) == 1:
            self._error(todo[0][0], A2G, "écriture refusée par Google")
            return
        for a, c in todo:
            try:
                item = self.google.update([c])[0]
            except (WriteRejectedError, StaleItemError) as exc:
                self._error(a, A2G, exc.message)
                continue
            ok.append(a.model_copy(update={"google_etag": item.etag, "resource_name": item.id}))

    def _atarys_write(self, a: Update | Link) -> Update | Link | None:
        """Write the ATARYS part; the action with the client's new version, or ``None``."""
        assert a.client_id is not None
        target = apply_changes(a.atarys, a.atarys_changes)
        try:
            written = self.atarys.update([Change(a.client_id, a.atarys_etag, target)])[0]
        except StaleItemError:
            # the client changed during the run: the next run merges it
            self._journal(a, G2A, "deferred", message="client modifié pendant la synchronisation")
            self._result(a, "deferred")
            return None
        except WriteRejectedError as exc:
            self._error(a, G2A, exc.message)
            return None
        return a.model_copy(update={"atarys_etag": written.etag, "atarys_updated": written.updated})

    def _settle(self, a: Update | Link) -> None:
        """Both writes of a pair are done: journal them and move its link forward."""
        assert a.client_id is not None
        assert a.resource_name is not None
        link = self.links.get(a.client_id)
        if link is None and a.client_id in self.fresh:
            if not a.conflicts:
                # a link this run inserted in bulk: moved in bulk with its batch
                self._moves.append(
                    (int(a.client_id), a.resource_name, a.google_etag, a.merged, a.atarys_updated)
                )
            else:
                # a conflict is kept against the link row: load it (rare: an edit mid-run)
                self.store.move_links(self._moves)
                self._moves = []
                link = self.store.link_for_client(int(a.client_id))
                assert link is not None
                self.links[a.client_id] = link
                self.fresh.discard(a.client_id)
        if link is None and a.client_id in self.fresh:
            pass
        elif link is None:
            link = self.store.add_link(
                int(a.client_id), a.resource_name, a.google_etag, a.merged, a.atarys_updated
            )
            self.links[a.client_id] = link
            self.session.flush()
            if isinstance(a, Link):
                how = "clientData" if a.how == "client_data" else "e-mail"
                self._journal(a, A2G, "linked", message=f"par {how}")
        else:
            self.store.set_link(
                link,
                snapshot=a.merged,
                etag=a.google_etag,
                resource_name=a.resource_name,
                client_version=a.atarys_updated,
            )
        if a.google_changes:
            self._journal(a, A2G, "updated", changes=a.google_changes)
        if a.atarys_changes:
            self._journal(
                a, G2A, "updated", changes=a.atarys_changes, message=import_note(a.comment)
            )
        for c in a.conflicts:
            self.store.record_conflict(self.run, link, int(a.client_id), a.resource_name, c)
            self.results.conflicts.append(c)
        if a.client_id in self._follow and a.comment == "write clientData":
            return
        self._result(a, "done", client_id=a.client_id, resource_name=a.resource_name)


__all__ = ["ActionResult", "DirectionCounts", "Executor", "Record", "Results"]
