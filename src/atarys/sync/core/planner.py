"""Planning a run: the state both sides were read in → a typed ``Plan``. Pure.

The reader (``sync.reader``) gathers a ``RunState``: the linked pairs this run looks at
(each with the side items it read, or none where a side did not report the item), the
unlinked clients and contacts, and the links outside the run that hold an e-mail the
candidates carry. ``plan_run`` decides everything from there:

1. each linked pair → ``plan_pair`` (three-way, field by field) → one action or none;
2. a client whose contact must be re-created but whose copy already exists (a lost
   answer: an unlinked contact names the client in its clientData) follows that copy;
3. unlinked items are matched (clientData → e-mail → create) against the e-mails the
   surviving links will hold after this run;
4. the breaker checks the deletions.

``replan`` is the same decision for one pair whose side changed between planning and
writing (the executor calls it when a precondition fails).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from atarys.sync.core.actions import (
    Action,
    Changes,
    Conflict,
    CreateClient,
    CreateContact,
    DeleteClient,
    DeleteContact,
    Duplicate,
    FieldChange,
    Link,
    Plan,
    Unlink,
    Update,
)
from atarys.sync.core.filters import ClientFilter
from atarys.sync.core.items import Item
from atarys.sync.core.plan import (
    DELETED,
    UNCHANGED,
    Candidate,
    PairPlan,
    PlanSettings,
    SideState,
    Version,
    breaker_reasons,
    match,
    plan_pair,
)
from atarys.sync.core.records import (
    Record,
    display_name,
    name_key,
    normalize_record,
    normalize_value,
)

# An action's comment starting with this carries, in French, the values of a Google
# contact that had to be adapted to be stored in ATARYS; the executor journals it.
IMPORT_NOTE = "Valeurs adaptées pour ATARYS : "


def import_note(comment: str) -> str | None:
    """The French note an action's comment carries for the journal, if any."""
    return comment if comment.startswith(IMPORT_NOTE) else None


def _noted(comment: str, notes: Sequence[str]) -> str:
    return IMPORT_NOTE + " ; ".join(notes) + "." if notes else comment


@dataclass(frozen=True, slots=True)
class LinkState:
    """A link as the run found it: who with whom, the last synchronised snapshot."""

    client_id: str
    resource_name: str
    snapshot: Record
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class PairState:
    """A linked pair and what the run read of each side.

    ``atarys``/``google`` is ``None`` where the side did not report the item (assumed
    equal to the snapshot); ``*_deleted`` says the side confirmed it gone.
    """

    link: LinkState
    atarys: Item | None = None
    google: Item | None = None
    atarys_deleted: bool = False
    google_deleted: bool = False


@dataclass(frozen=True, slots=True)
class RunState:
    """Everything ``plan_run`` decides from."""

    pairs: Sequence[PairState] = ()
    clients: Sequence[Item] = ()  # unlinked live clients
    contacts: Sequence[Item] = ()  # unlinked live contacts
    # links outside ``pairs`` by the e-mail of their snapshot (at least the candidates' e-mails)
    linked_emails: Mapping[str, LinkState] = field(default_factory=dict)
    # who holds those e-mails among the linked pairs (``name_key``; shared addresses)
    linked_names: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # the linked clients holding those e-mails: client id → ``name_key`` of its snapshot
    linked_holders: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # client ids named by candidates' clientData that are already linked elsewhere
    linked_client_ids: frozenset[str] = frozenset()
    linked: int = 0  # links of the account before the run
    full_listing: bool = False
    listed: int = 0  # live contacts in a full listing
    expected: int | None = None  # contacts the full listing announced
    google_cursor: str | None = None
    atarys_cursor: str | None = None
    focus_client: str | None = None
    focus_contact: str | None = None
    pushed: bool = False  # a push: only edited linked clients were read (cursors stay)
    # which clients go to this account's phone (``None``: all of them)
    client_filter: ClientFilter | None = None


def outside_filter(item: Item | None, client_filter: ClientFilter | None) -> bool:
    """Whether a live client is kept off the phone by the account's filter."""
    if client_filter is None or item is None or item.deleted:
        return False
    return not client_filter.matches(item.record, item.tag)


FILTERED_COMMENT = "hors du filtre de ce compte : retiré de ce téléphone, gardé dans ATARYS"


def filtered_action(pair: PairState, settings: PlanSettings) -> Action | None:
    """A linked client outside the account's filter: its contact leaves this phone only.

    A contact deleted on the phone meanwhile just drops the link (the client is never
    deleted, whatever the deletion settings); a contact edited on the phone since the
    last sync is synced first (nothing is lost) and leaves at a later run.
    """
    link = pair.link
    region = settings.phone_region
    a_rec = normalize_record(pair.atarys.record, region) if pair.atarys else None
    if pair.google_deleted:
        return Unlink(
            client_id=link.client_id,
            resource_name=link.resource_name,
            name=_name(a_rec, link.snapshot),
            comment=FILTERED_COMMENT,
            deleted_in="google",
            exclude=False,
        )
    g_rec = normalize_record(pair.google.record, region) if pair.google else None
    if g_rec is not None and g_rec != link.snapshot:
        return None  # edited on the phone: the usual three-way merge first
    return DeleteContact(
        client_id=link.client_id,
        resource_name=link.resource_name,
        name=_name(a_rec, g_rec, link.snapshot),
        comment=FILTERED_COMMENT,
        atarys_etag=pair.atarys.etag if pair.atarys else None,
        atarys_updated=pair.atarys.updated if pair.atarys else None,
        google_etag=pair.google.etag if pair.google else link.etag,
        snapshot=link.snapshot,
        filtered=True,
    )


def _state(item: Item | None, deleted: bool) -> SideState:
    if deleted:
        return DELETED
    if item is None:
        return UNCHANGED
    return Version(item.record, item.updated, item.field_times)


def _name(*records: Record | None) -> str:
    for record in records:
        if record is not None and not record.is_empty():
            return display_name(record)
    return "(sans nom)"


def _conflicts(plan: PairPlan) -> tuple[Conflict, ...]:
    return tuple(plan.conflicts)


class _Common(TypedDict):
    client_id: str | None
    resource_name: str | None
    name: str
    comment: str
    atarys_etag: str | None
    atarys_updated: datetime | None
    google_etag: str | None


def pair_action(
    pair: PairState, settings: PlanSettings, *, followed: Item | None = None
) -> Action | None:
    """The action for one linked pair, or ``None`` when nothing at all moves.

    ``followed``: an unlinked contact carrying this client's id, to use instead of
    creating the contact again.
    """
    region = settings.phone_region
    link = pair.link
    a_state = _state(pair.atarys, pair.atarys_deleted)
    g_state = _state(pair.google, pair.google_deleted)
    plan = plan_pair(link.snapshot, a_state, g_state, settings)
    google = pair.google
    snapshot = link.snapshot
    resource_name = link.resource_name
    if plan.action == "recreate_google" and followed is not None:
        # the contact was re-created already (a lost response): follow it, no new copy
        google, snapshot, resource_name = followed, Record(), followed.id
        g_state = Version(followed.record, followed.updated, followed.field_times)
        plan = plan_pair(snapshot, a_state, g_state, settings)
    a_rec = normalize_record(pair.atarys.record, region) if pair.atarys else None
    g_rec = normalize_record(google.record, region) if google else None
    name = _name(a_rec, g_rec, snapshot)
    common: _Common = {
        "client_id": link.client_id,
        "resource_name": resource_name,
        "name": name,
        "comment": plan.comment,
        "atarys_etag": pair.atarys.etag if pair.atarys else None,
        "atarys_updated": pair.atarys.updated if pair.atarys else None,
        "google_etag": google.etag if google else None,
    }
    if plan.action == "forget":
        return Unlink(**common, deleted_in="both")
    if plan.action == "unlink":
        return Unlink(**common, deleted_in="atarys" if pair.atarys_deleted else "google")
    if plan.action == "delete_google":
        return DeleteContact(**common, snapshot=snapshot)
    if plan.action == "delete_atarys":
        return DeleteClient(**common, snapshot=snapshot)
    if plan.action == "recreate_google":
        return CreateContact(**common, record=plan.merged or Record(), recreate=True)
    if plan.action == "recreate_atarys":
        return CreateClient(**common, record=plan.merged or Record(), recreate=True)
    merged = plan.merged if plan.merged is not None else snapshot
    write_hint = google is not None and google.hint != link.client_id
    moved = (
        merged != link.snapshot
        or resource_name != link.resource_name
        or (google is not None and google.etag != link.etag)
    )
    if not (plan.to_atarys or plan.to_google or write_hint or plan.conflicts or moved):
        return None  # neither side differs from the snapshot: echo, touch, reformatting
    return Update(
        **common,
        snapshot=snapshot,
        atarys=a_rec if a_rec is not None else snapshot,
        google=g_rec if g_rec is not None else snapshot,
        merged=merged,
        atarys_changes=_changes(plan.to_atarys),
        google_changes=_changes(plan.to_google),
        conflicts=_conflicts(plan),
        write_hint=write_hint,
    )


def _changes(changes: dict[str, tuple[str | None, str | None]]) -> Changes:
    return {k: FieldChange(before=b, after=a) for k, (b, a) in changes.items()}


def link_action(client: Item, contact: Item, how: str, settings: PlanSettings) -> Link:
    """Link an unlinked client and contact found to be the same person.

    No common ancestor (even for our own contact found back by its clientData: it may
    have been edited since): a field set on one side only fills the other; a field set
    differently on both is a conflict settled by the policy.
    """
    region = settings.phone_region
    a_rec = normalize_record(client.record, region)
    g_rec = normalize_record(contact.record, region)
    plan = plan_pair(
        Record(),
        Version(client.record, client.updated, client.field_times),
        Version(contact.record, contact.updated, contact.field_times),
        settings,
    )
    return Link(
        client_id=client.id,
        resource_name=contact.id,
        name=_name(a_rec, g_rec),
        comment=f"same person ({'clientData' if how == 'client_data' else 'e-mail'})",
        atarys_etag=client.etag,
        atarys_updated=client.updated,
        google_etag=contact.etag,
        how="client_data" if how == "client_data" else "email",
        snapshot=Record(),
        atarys=a_rec,
        google=g_rec,
        merged=plan.merged if plan.merged is not None else Record(),
        atarys_changes=_changes(plan.to_atarys),
        google_changes=_changes(plan.to_google),
        conflicts=_conflicts(plan),
        write_hint=contact.hint != client.id,
    )


def replan(
    action: Update | Link,
    settings: PlanSettings,
    *,
    atarys: Item | None,
    google: Item | None,
) -> Action | None:
    """The same pair planned again from fresh versions of its sides.

    ``None`` for a side means it is gone now.
    """
    if isinstance(action, Link):
        if atarys is None or google is None:
            return None  # one side vanished: the next run matches again
        return link_action(atarys, google, action.how, settings)
    assert action.client_id is not None
    assert action.resource_name is not None
    pair = PairState(
        LinkState(action.client_id, action.resource_name, action.snapshot, None),
        atarys=atarys,
        google=google,
        atarys_deleted=atarys is None,
        google_deleted=google is None,
    )
    return pair_action(pair, settings)


def plan_run(state: RunState, settings: PlanSettings) -> Plan:
    """Decide everything a run will do (see the module docstring)."""
    region = settings.phone_region
    contacts = list(state.contacts)
    by_hint = {c.hint: c for c in contacts if c.hint}
    actions: list[Action] = []
    followed: set[str] = set()
    for pair in state.pairs:
        copy = by_hint.get(pair.link.client_id)
        action: Action | None = None
        if not pair.atarys_deleted and outside_filter(pair.atarys, state.client_filter):
            action = filtered_action(pair, settings)
        if action is not None:
            actions.append(action)
            continue
        action = pair_action(pair, settings, followed=copy)
        if copy is not None and action is not None and action.resource_name == copy.id:
            followed.add(copy.id)
        if action is not None:
            actions.append(action)
    contacts = [c for c in contacts if c.id not in followed]

    # Edit beats delete, but a live unlinked client already holds the contact's e-mail
    # (the office entered the person again): no copy of the deleted client, which would
    # collide with it; the contact is matched like an unlinked one, in this same run.
    recreated = any(isinstance(a, CreateClient) and a.recreate for a in actions)
    unlinked_emails = (
        {normalize_value("email", c.record.email, region) for c in state.clients}
        if recreated
        else set()
    )
    by_client = {p.link.client_id: p for p in state.pairs}
    rematched: set[str] = set()
    staying: list[Action] = []
    for action in actions:
        held_by = by_client.get(action.client_id or "")
        if (
            isinstance(action, CreateClient)
            and action.recreate
            and action.record.email is not None
            and action.record.email in unlinked_emails
            and held_by is not None
            and held_by.google is not None
        ):
            staying.append(
                Unlink(
                    client_id=action.client_id,
                    resource_name=action.resource_name,
                    name=action.name,
                    comment="client supprimé ; son contact rejoint le client qui a son e-mail",
                    deleted_in="atarys",
                    exclude=False,
                )
            )
            contacts.append(held_by.google)
            rematched.add(action.client_id or "")
        else:
            staying.append(action)
    actions = staying

    # A merge in Google leaves one contact carrying two of our client ids: the client
    # whose contact disappeared keeps living, unlinked, reported for a person.
    holder: dict[str, Item] = {}
    for item in [*(p.google for p in state.pairs if p.google is not None), *contacts]:
        for cid in item.hints[1:]:
            holder.setdefault(cid, item)
    merged_dups: list[Duplicate] = []
    pairs = {p.link.client_id: p for p in state.pairs}
    remaining: list[Action] = []
    for action in actions:
        merged_into = holder.get(action.client_id or "")
        if (
            isinstance(action, DeleteClient | Unlink)
            and merged_into is not None
            and merged_into.id != action.resource_name
        ):
            snap = pairs[action.client_id or ""].link.snapshot
            remaining.append(
                Unlink(
                    client_id=action.client_id,
                    resource_name=action.resource_name,
                    name=action.name,
                    comment="fusionné dans Google avec un autre contact : à vérifier",
                    deleted_in="google",
                    exclude=False,
                )
            )
            merged_dups.append(
                Duplicate(
                    email_key=snap.email or "",
                    client_ids=(action.client_id or "",),
                    resource_names=(merged_into.id,),
                    reason="merged_in_google",
                    names=(action.name, _name(merged_into.record)),
                )
            )
        else:
            remaining.append(action)
    actions = remaining

    # The e-mails each surviving link holds after this run (a candidate with one of
    # them is a duplicate, not a new person).
    leaving = {a.client_id for a in actions if isinstance(a, DeleteContact | DeleteClient | Unlink)}
    lce: dict[str, str] = {}
    lge: dict[str, str] = {}
    holders: dict[str, set[str]] = {e: set(n) for e, n in state.linked_names.items()}
    for email, link in state.linked_emails.items():
        lce[email] = link.client_id
        lge[email] = link.resource_name
        holders.setdefault(email, set()).add(name_key(link.snapshot))
    in_run = {p.link.client_id: p for p in state.pairs}
    planned = {a.client_id: a for a in actions}
    # who holds each e-mail once this run is done, and under which name (a pair of the
    # run may give its e-mail up, or change its name)
    holding = {e: dict(ids) for e, ids in state.linked_holders.items()}
    for cid, pair in in_run.items():
        if cid in leaving:
            continue
        action = planned.get(cid)
        if isinstance(action, Update):
            held = {action.merged.email}
            held |= {c.atarys for c in action.conflicts if c.field == "email" and not c.winner}
            held |= {c.google for c in action.conflicts if c.field == "email" and not c.winner}
            rn: str = action.resource_name or pair.link.resource_name
        elif isinstance(action, CreateContact | CreateClient):
            held, rn = {action.record.email}, pair.link.resource_name
        else:
            held, rn = {pair.link.snapshot.email}, pair.link.resource_name
        who = name_key(
            action.merged
            if isinstance(action, Update)
            else action.record
            if isinstance(action, CreateContact | CreateClient)
            else pair.link.snapshot
        )
        for email, ids in holding.items():
            if email not in held:
                ids.pop(cid, None)
        for kept in held:
            if kept is not None:
                lce[kept] = cid
                lge[kept] = rn
                holders.setdefault(kept, set()).add(who)
                holding.setdefault(kept, {})[cid] = who
    for ids in holding.values():
        for gone in leaving:
            ids.pop(gone or "", None)
    for email in [e for e, cid in lce.items() if cid in leaving or not holding.get(e, {cid: ""})]:
        lce.pop(email, None)
        lge.pop(email, None)
    for email, ids in holding.items():
        if ids:  # the holders' names after this run (a pair renamed in it: its new name)
            holders[email] = set(ids.values())

    deleted = {cid for cid, p in in_run.items() if p.atarys_deleted and cid in leaving}
    clients = [Candidate(c.id, normalize_record(c.record, region)) for c in state.clients]
    candidates = [
        Candidate(c.id, normalize_record(c.record, region), c.hint, c.in_scope, c.emails)
        for c in contacts
    ]
    result = match(
        clients,
        candidates,
        # a client deleted in this run no longer holds its id: a contact still carrying
        # it (a copy reported as its duplicate) is matched like an unlinked one now
        linked_clients=(set(state.linked_client_ids) | set(in_run)) - rematched - deleted,
        linked_client_emails=lce,
        linked_contact_emails=lge,
        linked_names={e: frozenset(n) for e, n in holders.items() if e in lce},
    )
    a_items = {c.id: c for c in state.clients}
    g_items = {c.id: c for c in contacts}
    matches = []
    for m in result.matches:
        merged_into = holder.get(m.client_id or "")
        if m.how == "create_google" and merged_into is not None:
            # the client's contact was merged into another one: no new copy, a report
            record = normalize_record(a_items[m.client_id or ""].record, region)
            merged_dups.append(
                Duplicate(
                    email_key=record.email or "",
                    client_ids=(m.client_id or "",),
                    resource_names=(merged_into.id,),
                    reason="merged_in_google",
                )
            )
        else:
            matches.append(m)
    duplicates = [
        d
        for d in result.duplicates
        # the merged contact itself (several client ids), not a copy of a linked one
        if not (
            d.reason == "client_data_linked"
            and all(len(g_items[rn].hints) > 1 for rn in d.resource_names if rn in g_items)
        )
    ]
    duplicates += merged_dups
    if state.focus_client is not None:
        matches = [m for m in matches if m.client_id == state.focus_client]
        duplicates = [d for d in duplicates if state.focus_client in d.client_ids]
    if state.focus_contact is not None:
        matches = [m for m in matches if m.resource_name == state.focus_contact]
        duplicates = [d for d in duplicates if state.focus_contact in d.resource_names]
    for m in matches:
        if m.how in ("email", "client_data"):
            assert m.client_id is not None
            assert m.resource_name is not None
            actions.append(
                link_action(a_items[m.client_id], g_items[m.resource_name], m.how, settings)
            )
        elif m.how == "create_google":
            assert m.client_id is not None
            client = a_items[m.client_id]
            if outside_filter(client, state.client_filter):
                continue  # never created on a phone whose filter it does not match
            record = normalize_record(client.record, region)
            actions.append(
                CreateContact(
                    client_id=client.id,
                    name=_name(record),
                    comment="new client",
                    atarys_etag=client.etag,
                    atarys_updated=client.updated,
                    record=record,
                )
            )
        else:
            assert m.resource_name is not None
            contact = g_items[m.resource_name]
            record = normalize_record(contact.record, region)
            actions.append(
                CreateClient(
                    resource_name=contact.id,
                    name=_name(record),
                    comment=_noted("new contact", contact.notes),
                    google_etag=contact.etag,
                    record=record,
                )
            )
    # values Google holds that ATARYS could not store as they are: say so on the item
    notes = {p.link.client_id: p.google.notes for p in state.pairs if p.google is not None}
    notes.update(
        {
            m.client_id: g_items[m.resource_name].notes
            for m in matches
            if m.client_id and m.resource_name
        }
    )
    actions = [
        a.model_copy(update={"comment": _noted(a.comment, notes[a.client_id or ""])})
        if isinstance(a, Update | Link) and a.atarys_changes and notes.get(a.client_id or "")
        else a
        for a in actions
    ]
    names = _names(a_items, g_items, region)
    duplicates = [
        d.model_copy(
            update={
                "names": tuple(
                    dict.fromkeys(
                        n for n in [names.get(i) for i in (*d.client_ids, *d.resource_names)] if n
                    )
                )
            }
        )
        for d in duplicates
    ]

    # A contact leaving a phone by its filter is no loss (the client stays, and comes
    # back with a wider filter) and a person confirmed the filter: not the breaker's.
    dg = sum(1 for a in actions if isinstance(a, DeleteContact))
    filtered = sum(1 for a in actions if isinstance(a, DeleteContact) and a.filtered)
    da = sum(1 for a in actions if isinstance(a, DeleteClient))
    reasons = breaker_reasons(
        google_deletions=dg - filtered,
        atarys_deletions=da,
        linked=state.linked,
        settings=settings,
        full_listing=state.full_listing,
        listed=state.listed,
        expected=state.expected,
    )
    focused = state.focus_client is not None or state.focus_contact is not None or state.pushed
    return Plan(
        actions=tuple(actions),
        duplicates=tuple(_sorted_dups(duplicates)),
        breaker=tuple(reasons),
        deletions={"google": dg, "atarys": da},
        linked=state.linked,
        full_listing=state.full_listing and not focused,
        google_cursor=state.google_cursor,
        atarys_cursor=state.atarys_cursor,
        focused=focused,
    )


def _names(a_items: Mapping[str, Item], g_items: Mapping[str, Item], region: str) -> dict[str, str]:
    out = {i: display_name(normalize_record(it.record, region)) for i, it in a_items.items()}
    out.update({i: display_name(normalize_record(it.record, region)) for i, it in g_items.items()})
    return out


def _sorted_dups(duplicates: Sequence[Duplicate]) -> list[Duplicate]:
    return sorted(duplicates, key=lambda d: (d.email_key, d.reason, d.client_ids, d.resource_names))
