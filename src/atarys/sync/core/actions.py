"""The plan as data: one frozen, typed action per thing a run will write.

A run is *planned* by ``core.planner.plan_run`` (pure) and *carried out* by
``sync.executor`` (I/O), which dispatches on the action's class. Each action names the
identities involved (client id, contact resourceName), the person by name, the field
changes with before/after values, and the preconditions it was planned under (the
client's etag, the contact's etag). A plan serializes to JSON and back without loss
(``Plan.model_dump_json`` / ``Plan.model_validate_json``), so a dry run can be shown,
stored and applied later exactly as previewed.

| action | what the executor writes |
| --- | --- |
| ``CreateContact`` | a new contact from a client (``recreate``: the contact was deleted in Google but the client edited) |
| ``CreateClient`` | a new client from a contact (``recreate``: the client was deleted in ATARYS but the contact edited), then the client id into the contact's clientData |
| ``Update`` | field changes to one or both sides of a linked pair, then the link's snapshot |
| ``Link`` | a new link between a matched client and contact (clientData or e-mail), with the fields one side fills in the other |
| ``DeleteContact`` | the contact, after checking it did not change since the plan |
| ``DeleteClient`` | the client (soft delete), after checking it did not change since the plan |
| ``Unlink`` | only the link (deletion setting "unlink", or both sides deleted) |
| ``RestoreContact`` | (undo) a deleted contact again from its full copy, its client back, linked |
| ``RestoreClient`` | (undo) a deleted client back, a contact made again if needed, linked |
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from atarys.sync.core.records import FIELDS, Record, diff

Direction = Literal["atarys_to_google", "google_to_atarys", "both", "none"]
A2G: Direction = "atarys_to_google"
G2A: Direction = "google_to_atarys"


class FieldChange(BaseModel):
    """One field's value before and after a write."""

    model_config = ConfigDict(frozen=True)

    before: str | None
    after: str | None


Changes = dict[str, FieldChange]


def changes_between(before: Record | None, after: Record | None) -> Changes:
    """The field changes that turn ``before`` into ``after`` (``None`` = all empty)."""
    return {k: FieldChange(before=b, after=a) for k, (b, a) in diff(before, after).items()}


def apply_changes(record: Record, changes: Changes) -> Record:
    """``record`` with each change's ``after`` value."""
    return record.with_values({k: c.after for k, c in changes.items()})


class Conflict(BaseModel):
    """One field changed differently on both sides since the last sync."""

    model_config = ConfigDict(frozen=True)

    field: str
    snapshot: str | None
    atarys: str | None
    google: str | None
    winner: Literal["atarys", "google"] | None  # None: left open for a person
    resolution: str  # the policy that decided, or "manual"


# One set object per distinct "fields given" of an action: pydantic keeps a set per
# instance (728 bytes; more than half of a first sync's 25,000 actions). Sharing is safe:
# the actions are frozen and ``model_copy`` copies the set before changing it.
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


class _Action(BaseModel):
    """What every action carries."""

    model_config = ConfigDict(frozen=True)

    def model_post_init(self, context: object, /) -> None:
        given = self.__pydantic_fields_set__
        shared = _FIELDS_SETS.setdefault(frozenset(given), given)
        object.__setattr__(self, "__pydantic_fields_set__", shared)

    client_id: str | None = None
    resource_name: str | None = None
    name: str = ""  # the person, as people read it ("LEFÈVRE Zoé — Menuiserie Leroy")
    comment: str = ""  # why, in one line (for logs and developers)
    atarys_etag: str | None = None  # precondition: the client as planned
    google_etag: str | None = None  # precondition: the contact as planned
    atarys_updated: datetime | None = None  # the client's change time as planned

    @property
    def key(self) -> str:
        """A stable identity of the action within its plan."""
        return f"{type(self).__name__}:{self.client_id}:{self.resource_name}"

    @property
    def to_atarys(self) -> Changes:
        return {}

    @property
    def to_google(self) -> Changes:
        return {}

    @property
    def direction(self) -> Direction:
        a, g = bool(self.to_atarys), bool(self.to_google)
        return "both" if a and g else G2A if a else A2G if g else "none"

    @property
    def label(self) -> str:
        """The action as the API's plan items name it (kept from the first version)."""
        raise NotImplementedError

    def summary(self) -> dict[str, object]:
        """The item a person reads: who, what, each field before → after."""
        return {
            "action": self.label,
            "kind": type(self).__name__,
            "direction": self.direction,
            "client_id": int(self.client_id)
            if self.client_id and self.client_id.isdigit()
            else None,
            "resource_name": self.resource_name,
            "name": self.name,
            "comment": self.comment,
            "to_atarys": {k: c.model_dump() for k, c in self.to_atarys.items()},
            "to_google": {k: c.model_dump() for k, c in self.to_google.items()},
            "conflicts": [c.model_dump() for c in self.conflicts_of()],
        }

    def conflicts_of(self) -> tuple[Conflict, ...]:
        return ()


class CreateContact(_Action):
    """A client with no contact: create one (and link it)."""

    kind: Literal["create_contact"] = "create_contact"
    record: Record  # normalized, what the contact will hold
    recreate: bool = False  # the linked contact was deleted in Google, the client edited

    @property
    def to_google(self) -> Changes:
        return changes_between(None, self.record)

    @property
    def label(self) -> str:
        return "recreate_google" if self.recreate else "create_google"


class CreateClient(_Action):
    """A contact with no client: create one (and link it, and tag the contact)."""

    kind: Literal["create_client"] = "create_client"
    record: Record
    recreate: bool = False  # the linked client was deleted in ATARYS, the contact edited
    # the contact as it is when it differs from ``record`` (a merge chose other values):
    # the contact is then written to ``record`` too
    contact: Record | None = None

    @property
    def to_atarys(self) -> Changes:
        return changes_between(None, self.record)

    @property
    def label(self) -> str:
        return "recreate_atarys" if self.recreate else "create_atarys"


class _PairWrite(_Action):
    """Writes to a pair whose two sides exist: field changes, the next snapshot."""

    snapshot: Record  # the last synchronised snapshot (empty for a new link)
    atarys: Record  # the client as planned (normalized)
    google: Record  # the contact as planned (normalized)
    merged: Record  # the next snapshot
    google_changes: Changes = Field(default_factory=dict)
    atarys_changes: Changes = Field(default_factory=dict)
    conflicts: tuple[Conflict, ...] = ()
    write_hint: bool = False  # the contact lacks this client's id in its clientData

    @property
    def to_atarys(self) -> Changes:
        return self.atarys_changes

    @property
    def to_google(self) -> Changes:
        return self.google_changes

    def conflicts_of(self) -> tuple[Conflict, ...]:
        return self.conflicts

    @property
    def writes_google(self) -> bool:
        return bool(self.google_changes) or self.write_hint

    @property
    def bookkeeping(self) -> bool:
        """Nothing to write on either side: only the link moves (snapshot, etag)."""
        return not self.google_changes and not self.atarys_changes and not self.write_hint


class Update(_PairWrite):
    """A linked pair changed on one or both sides: merge field by field."""

    kind: Literal["update"] = "update"

    @property
    def label(self) -> str:
        return "update"


class Link(_PairWrite):
    """An unlinked client and contact are the same person: link them."""

    kind: Literal["link"] = "link"
    how: Literal["client_data", "email"]

    @property
    def label(self) -> str:
        return f"link_{self.how}"


class DeleteContact(_Action):
    """The client was deleted in ATARYS: delete its contact (a full copy kept)."""

    kind: Literal["delete_contact"] = "delete_contact"
    snapshot: Record
    # undo of a contact the sync created: its client then stays out of the sync
    exclude_client: bool = False
    # the client left the account's filter: the contact leaves that phone only, the client
    # stays in ATARYS (kept out of this account until it matches the filter again)
    filtered: bool = False

    @property
    def to_google(self) -> Changes:
        return changes_between(self.snapshot, None)

    @property
    def label(self) -> str:
        return "delete_google"


class DeleteClient(_Action):
    """The contact was deleted in Google: soft-delete its client (in the clients' trash)."""

    kind: Literal["delete_client"] = "delete_client"
    snapshot: Record
    # undo of a client the sync imported: its contact is not imported again
    exclude_contact: bool = False

    @property
    def to_atarys(self) -> Changes:
        return changes_between(self.snapshot, None)

    @property
    def label(self) -> str:
        return "delete_atarys"


class Unlink(_Action):
    """Drop the link only: a deletion with the setting "unlink", or both sides deleted."""

    kind: Literal["unlink"] = "unlink"
    deleted_in: Literal["atarys", "google", "both"]
    # the client stays out of the sync until a person turns it back on (a phone deleted
    # its contact); not for a merge in Google, which a person reviews as a duplicate
    exclude: bool = True

    @property
    def direction(self) -> Direction:
        return A2G if self.deleted_in == "atarys" else G2A

    @property
    def label(self) -> str:
        return "forget" if self.deleted_in == "both" else "unlink"


class RestoreContact(_Action):
    """Undo of a contact deletion: the contact again from its full copy (every field), its
    client brought back from the trash if it was deleted, the two linked again."""

    kind: Literal["restore_contact"] = "restore_contact"
    trash_id: int
    record: Record  # the contact's mapped fields, as kept

    @property
    def to_google(self) -> Changes:
        return changes_between(None, self.record)

    @property
    def label(self) -> str:
        return "restore_google"


class RestoreClient(_Action):
    """Undo of a client deletion: the client back from the trash, a contact made for it
    again when Google has none, the two linked again."""

    kind: Literal["restore_client"] = "restore_client"
    record: Record  # the client's mapped fields, as deleted

    @property
    def to_atarys(self) -> Changes:
        return changes_between(None, self.record)

    @property
    def label(self) -> str:
        return "restore_atarys"


Action = Annotated[
    CreateContact
    | CreateClient
    | Update
    | Link
    | DeleteContact
    | DeleteClient
    | Unlink
    | RestoreContact
    | RestoreClient,
    Field(discriminator="kind"),
]


class Duplicate(BaseModel):
    """Items that could be the same person and are not merged: a person decides."""

    model_config = ConfigDict(frozen=True)

    email_key: str
    client_ids: tuple[str, ...]
    resource_names: tuple[str, ...]
    reason: str
    names: tuple[str, ...] = ()

    def summary(self) -> dict[str, object]:
        return {
            "action": "duplicate",
            "kind": "Duplicate",
            "direction": "none",
            "client_id": None,
            "client_ids": list(self.client_ids),
            "resource_name": None,
            "resource_names": list(self.resource_names),
            "name": " / ".join(self.names),
            "comment": self.reason,
            "email": self.email_key,
            "to_atarys": {},
            "to_google": {},
            "conflicts": [],
        }


class Skipped(BaseModel):
    """Something a plan leaves alone on purpose (an undo does not overwrite a later edit)."""

    model_config = ConfigDict(frozen=True)

    client_id: str | None = None
    resource_name: str | None = None
    name: str = ""
    reason: str  # in French, for a person

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "reason": self.reason}


class Plan(BaseModel):
    """Everything a run will do, decided before anything is written."""

    model_config = ConfigDict(frozen=True)

    actions: tuple[Action, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()
    breaker: tuple[str, ...] = ()  # why the plan deletes too much (empty: it may run)
    deletions: dict[str, int] = Field(default_factory=dict)  # {"google": n, "atarys": n}
    linked: int = 0  # linked pairs before the run
    full_listing: bool = False  # Google listed every contact (no sync token)
    google_cursor: str | None = None  # the sync token to keep once the run succeeds
    atarys_cursor: str | None = None  # the ATARYS watermark to keep once the run succeeds
    focused: bool = False  # a one-item run (cursors never move)

    @property
    def work(self) -> list[_Action]:
        """The actions a person would see (a pure link bookkeeping move is not one)."""
        return [a for a in self.actions if not (isinstance(a, _PairWrite) and a.bookkeeping)]

    def items(self) -> list[dict[str, object]]:
        """The plan as a person reads it: one item per action with work, then duplicates."""
        return [a.summary() for a in self.work] + [d.summary() for d in self.duplicates]

    def conflicts(self) -> list[Conflict]:
        return [c for a in self.actions for c in a.conflicts_of()]


def format_plan(plan: Plan | Sequence[dict[str, object]]) -> str:
    """The plan as text: one block per person, one line per field."""
    items = plan.items() if isinstance(plan, Plan) else list(plan)
    if not items:
        return "Rien à synchroniser."
    lines: list[str] = []
    for item in items:
        who = item.get("name") or " ↔ ".join(
            str(x) for x in (item.get("client_id"), item.get("resource_name")) if x
        )
        lines.append(f"{item['action']!s:<16} {who or '-'}  ({item['comment']})")
        for label, key in (("ATARYS", "to_atarys"), ("Google", "to_google")):
            changes = item.get(key)
            assert isinstance(changes, dict)
            for name in FIELDS:
                if name in changes:
                    c = changes[name]
                    lines.append(f"    → {label:<6} {name}: {c['before']!r} → {c['after']!r}")
        conflicts = item.get("conflicts")
        assert isinstance(conflicts, list)
        for c in conflicts:
            lines.append(
                f"    ! conflit {c['field']}: ATARYS {c['atarys']!r} / Google {c['google']!r}"
                f" → {c['winner'] or 'à trancher'}"
            )
    return "\n".join(lines)
