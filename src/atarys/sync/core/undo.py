"""Undoing a run: its journal and the current state of what it touched → a ``Plan``. Pure.

A run's journal (``sync_run_items``) says, for each write, who, which side, each field
before → after. Undoing puts every record the run touched back where it was before the
change the run carried, on both sides, so the pair is in agreement again and the next
sync writes nothing:

| the run… | the undo… |
| --- | --- |
| changed fields (either way) | sets them back to their before-values on both sides |
| created a contact for a client | deletes that contact (a copy kept) and keeps the client out of the sync |
| created a client from a contact | deletes that client (to the trash) and stops importing the contact |
| deleted a contact | re-creates it from its full copy, brings its client back, links them |
| deleted a client | brings it back from the trash, makes its contact again if Google has none |

What changed since the run is not overwritten: it is listed in ``Plan.skipped`` with the
reason. Links made or dropped alone are not undone (nothing was written to a record).
An undo is itself a run with a journal, so it can be undone in turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from atarys.sync.core.actions import (
    A2G,
    Action,
    Changes,
    DeleteClient,
    DeleteContact,
    FieldChange,
    Plan,
    RestoreClient,
    RestoreContact,
    Skipped,
    Update,
)
from atarys.sync.core.items import Item
from atarys.sync.core.planner import LinkState
from atarys.sync.core.records import Record, normalize_record, normalize_value

ValueChanges = dict[str, tuple[str | None, str | None]]


@dataclass(frozen=True)
class JournalEntry:
    """One journal row of the run to undo."""

    direction: str  # atarys_to_google / google_to_atarys
    action: str  # created, updated, deleted, restored, linked, unlinked, …
    client_id: str | None
    resource_name: str | None
    name: str = ""
    changes: ValueChanges = field(default_factory=dict)
    trash_id: int | None = None  # a deleted contact's kept copy


@dataclass(frozen=True)
class UndoState:
    """The current state of what the run touched."""

    clients: Mapping[str, Item] = field(default_factory=dict)  # deleted ones flagged
    contacts: Mapping[str, Item] = field(default_factory=dict)  # live ones only
    links: Mapping[str, LinkState] = field(default_factory=dict)  # by client id


def _after(changes: ValueChanges) -> Record:
    return Record(**{k: a for k, (_, a) in changes.items()})


def _before(changes: ValueChanges) -> Record:
    return Record(**{k: b for k, (b, _) in changes.items()})


def _same(record: Record, expected: Record, region: str) -> bool:
    return normalize_record(record, region) == normalize_record(expected, region)


class _Undo:
    def __init__(self, state: UndoState, region: str) -> None:
        self.state = state
        self.region = region
        self.actions: list[Action] = []
        self.skipped: list[Skipped] = []

    def skip(self, entry: JournalEntry, reason: str) -> None:
        self.skipped.append(
            Skipped(
                client_id=entry.client_id,
                resource_name=entry.resource_name,
                name=entry.name,
                reason=reason,
            )
        )

    def fields(self, entries: Sequence[JournalEntry]) -> None:
        """Field changes of one pair (either way): back to the before-values, both sides."""
        first = entries[0]
        cid, rn = first.client_id, first.resource_name
        client = self.state.clients.get(cid or "")
        link = self.state.links.get(cid or "")
        contact = self.state.contacts.get(link.resource_name if link else rn or "")
        if client is None or client.deleted or contact is None or link is None:
            self.skip(first, "la fiche n'existe plus des deux côtés : rien à rétablir")
            return
        a = normalize_record(client.record, self.region)
        g = normalize_record(contact.record, self.region)
        target: dict[str, str | None] = {}
        for entry in entries:
            for name, (before, after) in entry.changes.items():
                after_n = normalize_value(name, after, self.region)
                if a.get(name) != after_n or g.get(name) != after_n:
                    self.skip(entry, f"« {name} » a changé depuis : la valeur actuelle est gardée")
                    continue
                target[name] = normalize_value(name, before, self.region)
        if not target:
            return
        a_changes: Changes = {
            k: FieldChange(before=a.get(k), after=v) for k, v in target.items() if a.get(k) != v
        }
        g_changes: Changes = {
            k: FieldChange(before=g.get(k), after=v) for k, v in target.items() if g.get(k) != v
        }
        self.actions.append(
            Update(
                client_id=cid,
                resource_name=contact.id,
                name=first.name,
                comment="annulation : valeurs d'avant rétablies",
                atarys_etag=client.etag,
                atarys_updated=client.updated,
                google_etag=contact.etag,
                snapshot=link.snapshot,
                atarys=a,
                google=g,
                merged=link.snapshot.with_values(target),
                atarys_changes=a_changes,
                google_changes=g_changes,
            )
        )

    def created(self, entry: JournalEntry) -> None:
        made = _after(entry.changes)
        if entry.direction == A2G:
            contact = self.state.contacts.get(entry.resource_name or "")
            if contact is None:
                self.skip(entry, "le contact n'existe plus dans Google")
            elif not _same(contact.record, made, self.region):
                self.skip(entry, "le contact a été modifié depuis : il est gardé")
            else:
                self.actions.append(
                    DeleteContact(
                        client_id=entry.client_id,
                        resource_name=entry.resource_name,
                        name=entry.name,
                        comment="annulation : contact créé par la synchronisation",
                        google_etag=contact.etag,
                        snapshot=normalize_record(made, self.region),
                        exclude_client=True,
                    )
                )
            return
        client = self.state.clients.get(entry.client_id or "")
        if client is None or client.deleted:
            self.skip(entry, "le client n'existe plus dans ATARYS")
        elif not _same(client.record, made, self.region):
            self.skip(entry, "le client a été modifié depuis : il est gardé")
        else:
            self.actions.append(
                DeleteClient(
                    client_id=entry.client_id,
                    resource_name=entry.resource_name,
                    name=entry.name,
                    comment="annulation : client importé par la synchronisation",
                    atarys_etag=client.etag,
                    snapshot=normalize_record(made, self.region),
                    exclude_contact=True,
                )
            )

    def restored(self, entry: JournalEntry) -> None:
        """A client brought back by an undo or a restore: deleted again."""
        client = self.state.clients.get(entry.client_id or "")
        if client is None or client.deleted:
            self.skip(entry, "le client est déjà supprimé")
            return
        self.actions.append(
            DeleteClient(
                client_id=entry.client_id,
                resource_name=entry.resource_name,
                name=entry.name,
                comment="annulation : client rétabli, supprimé à nouveau",
                atarys_etag=client.etag,
                snapshot=normalize_record(client.record, self.region),
            )
        )

    def deleted(self, entry: JournalEntry) -> None:
        kept = _before(entry.changes)
        if entry.direction == A2G:
            if entry.trash_id is None:
                self.skip(entry, "aucune copie du contact n'a été gardée")
                return
            self.actions.append(
                RestoreContact(
                    client_id=entry.client_id,
                    resource_name=entry.resource_name,
                    name=entry.name,
                    comment="annulation : contact supprimé, rétabli depuis sa copie",
                    trash_id=entry.trash_id,
                    record=normalize_record(kept, self.region),
                )
            )
            return
        client = self.state.clients.get(entry.client_id or "")
        if client is None or not client.deleted:
            self.skip(entry, "le client n'est plus dans la corbeille")
            return
        self.actions.append(
            RestoreClient(
                client_id=entry.client_id,
                resource_name=entry.resource_name,
                name=entry.name,
                comment="annulation : client supprimé, rétabli",
                atarys_etag=client.etag,
                record=normalize_record(kept, self.region),
            )
        )


def plan_undo(entries: Sequence[JournalEntry], state: UndoState, *, region: str) -> Plan:
    """The plan that undoes a run (see the module docstring)."""
    undo = _Undo(state, region)
    by_pair: dict[str | None, list[JournalEntry]] = {}
    for entry in entries:
        if entry.action == "updated":
            by_pair.setdefault(entry.client_id, []).append(entry)
        elif entry.action == "created":
            undo.created(entry)
        elif entry.action == "deleted":
            undo.deleted(entry)
        elif entry.action == "restored":
            undo.restored(entry)
        elif entry.action in ("linked", "unlinked"):
            undo.skip(entry, "un lien seul : aucune fiche n'a été modifiée")
    for pair_entries in by_pair.values():
        undo.fields(pair_entries)
    return Plan(actions=tuple(undo.actions), skipped=tuple(undo.skipped), focused=True)
