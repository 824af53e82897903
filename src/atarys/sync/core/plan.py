"""The pure decisions: the three-way merge of a linked pair, matching, the breaker.

``plan_pair`` follows the pimsync/vdirsyncer model: the last synchronised normalized
snapshot is the common ancestor; each case below carries a one-line comment.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from atarys.sync.core.actions import Conflict, Duplicate
from atarys.sync.core.options import (
    CONFLICT_POLICIES,
    ConflictPolicy,
    DeletionSetting,
)
from atarys.sync.core.records import FIELDS, Record, diff, name_key, normalize_record

Policy = ConflictPolicy
POLICIES = CONFLICT_POLICIES

PairAction = Literal[
    "none",  # nothing to write (the snapshot may still move to ``merged``)
    "update",  # write ``to_atarys`` and/or ``to_google``
    "delete_google",  # the client was deleted: delete the contact, drop the link
    "delete_atarys",  # the contact was deleted: soft-delete the client, drop the link
    "unlink",  # one side deleted, setting "unlink": drop the link only
    "forget",  # both deleted: drop the link
    "recreate_google",  # contact deleted but client edited: create the contact again
    "recreate_atarys",  # client deleted but contact edited: create the client again
]
Changes = dict[str, tuple[str | None, str | None]]


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """The account's sync settings, as the pure core sees them."""

    conflict_policy: ConflictPolicy = ConflictPolicy.NEWEST
    google_deletions: DeletionSetting = DeletionSetting.PROPAGATE
    atarys_deletions: DeletionSetting = DeletionSetting.PROPAGATE
    phone_region: str = "FR"
    breaker_ratio: float = 0.2
    breaker_min: int = 10


@dataclass(frozen=True, slots=True)
class Version:
    """One side's current state of an item: its mapped fields and when it last changed."""

    record: Record
    updated: datetime | None = None
    times: Mapping[str, datetime] = field(default_factory=dict)  # per field, where known

    def time_of(self, name: str) -> datetime | None:
        """When the field took its value: its own time if known, else the record's."""
        return self.times.get(name, self.updated)


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNCHANGED = _Marker("UNCHANGED")  # the side did not report the item: assume it equals the snapshot
DELETED = _Marker("DELETED")  # the side reported the item deleted (or a full listing lacked it)
SideState = Version | _Marker


FieldConflict = Conflict


@dataclass(frozen=True, slots=True)
class PairPlan:
    """What to do with one linked pair."""

    action: PairAction
    comment: str
    merged: Record | None = None  # the next snapshot (normalized)
    to_atarys: Changes = field(default_factory=dict)
    to_google: Changes = field(default_factory=dict)
    conflicts: tuple[FieldConflict, ...] = ()


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 time (Google's ``updateTime``, nanoseconds allowed) as aware UTC."""
    if not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _winner(
    policy: Policy, a: Version, g: Version, name: str
) -> Literal["atarys", "google"] | None:
    if policy == ConflictPolicy.MANUAL:
        return None
    if policy == ConflictPolicy.ATARYS:
        return "atarys"
    if policy == ConflictPolicy.GOOGLE:
        return "google"
    # newest, field by field: when each side's field took its value (an unrelated later
    # change to another field does not count); a tie keeps ATARYS.
    at, gt = a.time_of(name), g.time_of(name)
    if at is not None and gt is not None and gt > at:
        return "google"
    if at is None and gt is not None:
        return "google"
    return "atarys"


def merge(snapshot: Record, a: Version, g: Version, settings: PlanSettings) -> PairPlan:
    """Three-way, field by field, of two present versions against the snapshot."""
    region = settings.phone_region
    na, ng = normalize_record(a.record, region), normalize_record(g.record, region)
    merged: dict[str, str | None] = {}
    conflicts: list[FieldConflict] = []
    for name in FIELDS:
        s, av, gv = snapshot.get(name), na.get(name), ng.get(name)
        if av == gv:
            merged[name] = av  # same on both sides (unchanged, or the same edit twice)
        elif av == s:
            merged[name] = gv  # changed in Google only: Google wins
        elif gv == s:
            merged[name] = av  # changed in ATARYS only: ATARYS wins
        else:
            # changed differently on both sides: the policy decides, or a person does
            winner = _winner(settings.conflict_policy, a, g, name)
            resolution = str(settings.conflict_policy) if winner else "manual"
            conflicts.append(
                Conflict(
                    field=name,
                    snapshot=s,
                    atarys=av,
                    google=gv,
                    winner=winner,
                    resolution=resolution,
                )
            )
            merged[name] = av if winner == "atarys" else gv if winner == "google" else s
    new = Record(**merged)
    open_fields = {c.field for c in conflicts if c.winner is None}
    target_a = new.with_values({f: na.get(f) for f in open_fields})
    target_g = new.with_values({f: ng.get(f) for f in open_fields})
    to_atarys, to_google = diff(na, target_a), diff(ng, target_g)
    action: PairAction = "update" if to_atarys or to_google else "none"
    comment = (
        "merged field by field"
        if action == "update"
        else "both sides agree"
        if not conflicts
        else "conflicts left open"
    )
    return PairPlan(action, comment, new, to_atarys, to_google, tuple(conflicts))


def plan_pair(snapshot: Record, a: SideState, g: SideState, settings: PlanSettings) -> PairPlan:
    """The plan for one linked pair from its snapshot and each side's state."""
    region = settings.phone_region
    a_changed = isinstance(a, Version) and normalize_record(a.record, region) != snapshot
    g_changed = isinstance(g, Version) and normalize_record(g.record, region) != snapshot
    if a is DELETED and g is DELETED:
        return PairPlan("forget", "deleted on both sides")
    if a is DELETED:
        if g_changed:
            assert isinstance(g, Version)
            # deleted in ATARYS but edited in Google: the edit wins, the client comes back
            merged = normalize_record(g.record, region)
            return PairPlan("recreate_atarys", "deleted in ATARYS, edited in Google", merged,
                            to_atarys=diff(None, merged))  # fmt: skip
        if settings.atarys_deletions == "unlink":
            return PairPlan("unlink", "deleted in ATARYS, setting: unlink only")
        # deleted in ATARYS, unchanged in Google: delete the contact
        return PairPlan("delete_google", "deleted in ATARYS", to_google=diff(snapshot, None))
    if g is DELETED:
        if a_changed:
            assert isinstance(a, Version)
            # deleted in Google but edited in ATARYS: the edit wins, the contact comes back
            merged = normalize_record(a.record, region)
            return PairPlan("recreate_google", "deleted in Google, edited in ATARYS", merged,
                            to_google=diff(None, merged))  # fmt: skip
        if settings.google_deletions == "unlink":
            return PairPlan("unlink", "deleted in Google, setting: unlink only")
        # deleted in Google, unchanged in ATARYS: soft-delete the client
        return PairPlan("delete_atarys", "deleted in Google", to_atarys=diff(snapshot, None))
    if not a_changed and not g_changed:
        # neither side differs from the snapshot (echo, touch, reformatting): nothing to do
        return PairPlan("none", "unchanged", snapshot)
    a_version = a if isinstance(a, Version) else Version(snapshot)
    g_version = g if isinstance(g, Version) else Version(snapshot)
    # at least one side changed: merge field by field
    return merge(snapshot, a_version, g_version, settings)


# --- matching -------------------------------------------------------------------------

MatchHow = Literal["client_data", "email", "create_google", "create_atarys"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An unlinked client or contact; ``hint`` is the client id a contact's clientData names."""

    id: str
    record: Record  # normalized
    hint: str | None = None
    in_scope: bool = True
    emails: tuple[str, ...] = ()  # every e-mail key a contact holds (the primary included)

    @property
    def phone_key(self) -> str | None:
        """The E.164 phone, a matching key for a client with no e-mail."""
        phone = self.record.telephone
        return phone if phone and phone.startswith("+") else None

    def match_key(self) -> str | None:
        """What a client is matched on: its e-mail, else its E.164 phone."""
        return self.record.email or self.phone_key

    def keys(self) -> set[str]:
        """What a contact can be matched on: each of its e-mails and its E.164 phone."""
        found = {e for e in (self.record.email, *self.emails) if e}
        if self.phone_key:
            found.add(self.phone_key)
        return found


@dataclass(frozen=True, slots=True)
class Match:
    """A decision for unlinked items: link the two, or create the missing side."""

    how: MatchHow
    client_id: str | None
    resource_name: str | None


@dataclass(frozen=True, slots=True)
class MatchResult:
    matches: tuple[Match, ...]
    duplicates: tuple[Duplicate, ...]


def match(
    clients: Sequence[Candidate],
    contacts: Sequence[Candidate],
    *,
    linked_clients: Iterable[str] = (),
    linked_client_emails: dict[str, str] | None = None,
    linked_contact_emails: dict[str, str] | None = None,
    known_duplicate_emails: Iterable[str] = (),
    linked_names: Mapping[str, frozenset[str]] | None = None,
) -> MatchResult:
    """Match unlinked clients and contacts: clientData → e-mail (else phone) → create.

    A client is matched on its e-mail, or on its E.164 phone when it has none, against
    every e-mail (and the phone) of each contact.

    ``linked_client_emails`` / ``linked_contact_emails`` map an e-mail key to the linked
    client / contact holding it; ``known_duplicate_emails`` are keys already reported
    with unlinked contacts this listing may not show.

    **Shared addresses** (``info@`` of a company): where several people hold one e-mail
    (or linked pairs already share it), names tell them apart (``name_key``). Same name
    on both sides: linked; a name found on one side only, whose family name no unmatched
    item of the other side bears: a colleague, created on the other side;
    ``linked_names`` (e-mail → names of the linked pairs holding it) does the same
    against pairs linked before. Anything else (a nameless item, one name twice on a
    side, one family name unmatched on both sides) is a duplicate for a person.
    """
    matches: list[Match] = []
    duplicates: list[Duplicate] = []
    linked = set(linked_clients)
    by_client = {c.id: c for c in clients}
    taken_clients: set[str] = set()
    rest_contacts: list[Candidate] = []
    by_hint: dict[str, list[Candidate]] = defaultdict(list)
    for contact in sorted(contacts, key=lambda c: c.id):
        if contact.hint is not None and (contact.hint in by_client or contact.hint in linked):
            by_hint[contact.hint].append(contact)
        else:
            rest_contacts.append(contact)
    for client_id, holders in sorted(by_hint.items()):
        if client_id in linked:
            # a copy of an already linked contact (e.g. restored from Google's trash)
            duplicates.append(_dup(_key(holders[0]), (client_id,), tuple(h.id for h in holders), "client_data_linked"))  # fmt: skip
            continue
        # our own contact found back by its clientData (a lost response, a wiped status)
        matches.append(Match("client_data", client_id, holders[0].id))
        taken_clients.add(client_id)
        if len(holders) > 1:
            duplicates.append(_dup(_key(holders[0]), (client_id,), tuple(h.id for h in holders[1:]), "client_data_twice"))  # fmt: skip
    rest_clients = [c for c in sorted(clients, key=lambda c: c.id) if c.id not in taken_clients]
    lce = linked_client_emails or {}
    lge = linked_contact_emails or {}
    names = linked_names or {}
    known = set(known_duplicate_emails)
    # A client is matched on its e-mail (else its E.164 phone) against every e-mail (and
    # the phone) of each contact; a contact no client claims is keyed on its primary e-mail.
    holding: dict[str, list[Candidate]] = defaultdict(list)
    for g in rest_contacts:
        for k in sorted(g.keys()):
            holding[k].append(g)
    by_key: dict[str, list[Candidate]] = defaultdict(list)
    for c in rest_clients:
        key = c.match_key()
        if key is None:
            matches.append(Match("create_google", c.id, None))  # nothing to match on
        else:
            by_key[key].append(c)
    claims: dict[str, set[str]] = defaultdict(set)  # contact → client keys naming it
    for key in by_key:
        for g in holding.get(key, ()):
            claims[g.id].add(key)
    claimed: set[str] = set()
    reported: set[str] = set()
    for key, cs in sorted(by_key.items()):
        if key in reported:
            continue
        gs = holding.get(key, [])
        cids, rns = tuple(c.id for c in cs), tuple(g.id for g in gs)
        claimed.update(rns)
        shared = {k for g in gs for k in claims[g.id]}
        # several people for one address, or an address linked pairs already share
        several = len(cs) > 1 or len(gs) > 1 or (key in names and bool(gs))
        told = _told_apart(cs, gs, names.get(key, frozenset())) if several else None
        if told is not None and len(shared) <= 1:
            # a shared address: people told apart by name
            in_scope = {g.id for g in gs if g.in_scope}
            matches.extend(
                m for m in told if m.how != "create_atarys" or m.resource_name in in_scope
            )
            continue
        if len(cs) > 1 or len(gs) > 1 or len(shared) > 1:
            # several clients or contacts for one key (or a contact holding two clients'
            # e-mails): never merged silently
            others = sorted(shared - {key})
            reported.update(others)
            cids += tuple(c.id for k in others for c in by_key[k])
            duplicates.append(_dup(key, cids, rns, "same_email"))
        elif gs:
            # one client, one contact holding its e-mail (or phone): link them
            matches.append(Match("email", cs[0].id, gs[0].id))
        elif key in lge and _colleague(cs[0], names.get(key)):
            matches.append(Match("create_google", cs[0].id, None))  # shares a linked address
        elif key in lge or key in known:
            # the client's e-mail belongs to a contact already linked or reported
            taken = (lge[key],) if key in lge else ()
            duplicates.append(_dup(key, cids, taken, "email_taken_in_google"))
        else:
            matches.append(Match("create_google", cs[0].id, None))  # new client
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for g in rest_contacts:
        if g.id in claimed:
            continue
        if g.record.email:
            groups[g.record.email].append(g)
        elif g.in_scope:
            matches.append(Match("create_atarys", None, g.id))  # no e-mail: nothing to match
    for key, gs in sorted(groups.items()):
        rns = tuple(g.id for g in gs)
        told = _told_apart((), gs, names.get(key, frozenset())) if len(gs) > 1 else None
        if told is not None:
            matches.extend(m for m in told if m.resource_name in {g.id for g in gs if g.in_scope})
        elif len(gs) > 1:
            duplicates.append(_dup(key, (), rns, "same_email"))  # never merged silently
        elif key in lce and _colleague(gs[0], names.get(key)):
            if gs[0].in_scope:
                matches.append(Match("create_atarys", None, gs[0].id))  # shares a linked address
        elif key in lce:
            # the contact's e-mail belongs to a client already linked to another contact
            duplicates.append(_dup(key, (lce[key],), rns, "email_taken_in_atarys"))
        elif gs[0].in_scope:
            matches.append(Match("create_atarys", None, gs[0].id))  # new contact
    return MatchResult(tuple(matches), tuple(duplicates))


def _colleague(item: Candidate, linked: frozenset[str] | None) -> bool:
    """An unlinked person whose name none of the linked holders of its address bears."""
    who = name_key(item.record)
    return bool(who) and linked is not None and bool(linked) and who not in linked


def _told_apart(
    cs: Sequence[Candidate], gs: Sequence[Candidate], linked: frozenset[str]
) -> list[Match] | None:
    """People sharing one address, told apart by name (see ``match``), or ``None`` when
    names cannot tell them apart."""
    c_names = [name_key(c.record) for c in cs]
    g_names = [name_key(g.record) for g in gs]
    for found in (c_names, g_names):
        if "" in found or len(set(found)) != len(found):
            return None  # a nameless item, or one name twice on a side
        families = [n.split("|")[0] for n in found]
        if any(families.count(f) > 1 and f"{f}|" in found for f in families):
            return None  # "Leroy" beside "Leroy Paul": maybe one person, named twice
    c_by = dict(zip(c_names, cs, strict=True))
    g_by = dict(zip(g_names, gs, strict=True))
    if set(c_by) & linked or set(g_by) & linked:
        return None  # a copy of someone already linked
    both = set(c_by) & set(g_by)
    only_c_names = [n for n in c_names if n not in both]
    only_g_names = [n for n in g_names if n not in both]
    only_c = [c_by[n] for n in only_c_names]
    only_g = [g_by[n] for n in only_g_names]
    if {n.split("|")[0] for n in only_c_names} & {n.split("|")[0] for n in only_g_names}:
        return None  # one family name unmatched on both sides: maybe one person, spelled apart
    out = [Match("email", c_by[n].id, g_by[n].id) for n in sorted(both)]
    out += [Match("create_google", c.id, None) for c in only_c]
    out += [Match("create_atarys", None, g.id) for g in only_g]
    return out


def _dup(key: str, cids: tuple[str, ...], rns: tuple[str, ...], reason: str) -> Duplicate:
    return Duplicate(email_key=key, client_ids=cids, resource_names=rns, reason=reason)


def _key(c: Candidate) -> str:
    return c.record.email or ""


# --- the breaker ----------------------------------------------------------------------


def breaker_reasons(
    *,
    google_deletions: int,
    atarys_deletions: int,
    linked: int,
    settings: PlanSettings,
    full_listing: bool = False,
    listed: int = 0,
    expected: int | None = None,
) -> list[str]:
    """Why a plan must be refused unless forced (empty: it may run).

    A side loses too much when more than ``breaker_min`` items and more than
    ``breaker_ratio`` of the linked pairs would be deleted on it; a full Google
    listing is suspicious when it announced more items than it gave, or shrank below
    the linked pairs by that much.
    """
    reasons: list[str] = []

    def too_many(n: int) -> bool:
        return n > settings.breaker_min and n > settings.breaker_ratio * max(linked, 1)

    pct = f"{int(settings.breaker_ratio * 100)} %"
    if too_many(google_deletions):
        reasons.append(
            f"{google_deletions} contacts Google seraient supprimés sur {linked} liés "
            f"(seuil : {pct} et plus de {settings.breaker_min})."
        )
    if too_many(atarys_deletions):
        reasons.append(
            f"{atarys_deletions} clients ATARYS seraient supprimés sur {linked} liés "
            f"(seuil : {pct} et plus de {settings.breaker_min})."
        )
    if full_listing and expected is not None and listed < expected:
        reasons.append(
            f"La liste Google s'est arrêtée avant la fin ({listed} contacts sur {expected})."
        )
    if full_listing and too_many(linked - listed):
        reasons.append(
            f"La liste Google a suspicieusement rétréci ({listed} contacts pour {linked} liens)."
        )
    return reasons
