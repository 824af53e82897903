"""The emulator's in-memory model: users, contacts, groups, tokens, change log, faults, stats.

No HTTP here (``wire.py`` turns requests into calls of these People-named methods).

Vocabulary:

- *user*: a Google account, identified by its e-mail; each user's contacts are separate.
- *contact*: a stored person (``people/c<digits>``); a deleted contact stays as a
  *tombstone* so incremental syncs can report it.
- *seq*: a state-wide, strictly increasing change number. Every change of a contact
  (create, update, delete, touch, membership change) gives it a new seq and appends
  ``(seq, resource name)`` to its user's *change log*. A sync token holds the seq it
  was issued at; an incremental list returns every contact whose current seq is
  greater, found by bisecting the log (O(changes), not O(contacts)).
- *visible*: with a propagation delay, a change becomes visible to lists only at
  ``visible_at``; sync tokens never move past an invisible change.

Every public method expects the caller to hold ``state.lock``.
"""

from __future__ import annotations

import base64
import bisect
import dataclasses
import functools
import gc
import hashlib
import json
import logging
import random
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from atarys.emulator.errors import (
    AlreadyExistsError,
    ContactLimitReachedError,
    ExpiredSyncTokenError,
    FailedPreconditionError,
    GoogleApiError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    StaleEtagError,
    UnauthenticatedError,
    error_for_http_code,
)
from atarys.google.client import CONTACTS_SCOPE

logger = logging.getLogger("atarys.emulator.state")

DEFAULT_USER = "demo@example.com"
CONTACTS_READONLY_SCOPE = "https://www.googleapis.com/auth/contacts.readonly"
MAX_CONTACTS = 25_000
DEFAULT_SYNC_TOKEN_TTL_S = 7 * 24 * 3600.0
ACCESS_TOKEN_TTL_S = 3600
AUTH_CODE_TTL_S = 600
#: After this many new contacts, long-lived state is moved out of the garbage
#: collector's reach (``gc.freeze``): a full collection otherwise rescans every
#: stored contact again and again, which dominates the cost of big imports.
GC_FREEZE_EVERY = 2_000
QUOTA_WINDOW_S = 60.0
DAILY_WINDOW_S = 86_400.0

#: System contact groups every account has: id → formatted name.
SYSTEM_GROUPS: dict[str, str] = {
    "myContacts": "My Contacts",
    "starred": "Starred",
    "friends": "Friends",
    "family": "Family",
    "coworkers": "Coworkers",
    "chatBuddies": "Chat Buddies",
    "all": "All Contacts",
    "blocked": "Blocked",
}
#: System groups a client may add contacts to or remove them from.
MODIFIABLE_SYSTEM_GROUPS = frozenset({"myContacts", "starred"})

#: Quota cost of each API method: bucket → units. ``daily_contact_writes`` of a
#: batch is its number of contacts (added by the caller).
METHOD_COSTS: dict[str, dict[str, int]] = {
    "people.get": {"critical_read": 1},
    "people.getBatchGet": {"critical_read": 1},
    "people.connections.list": {"critical_read": 1},
    "people.searchContacts": {"critical_read": 1},
    "people.createContact": {"critical_write": 1, "daily_contact_writes": 1},
    "people.updateContact": {"critical_write": 1, "daily_contact_writes": 1},
    "people.deleteContact": {"write": 1, "daily_contact_writes": 1},
    "people.batchCreateContacts": {"critical_read": 6, "critical_write": 6},
    "people.batchUpdateContacts": {"critical_read": 6, "critical_write": 6},
    "people.batchDeleteContacts": {"write": 10},
    "contactGroups.list": {"read": 1},
    "contactGroups.get": {"read": 1},
    "contactGroups.create": {"write": 1},
    "contactGroups.update": {"write": 1},
    "contactGroups.delete": {"write": 1},
    "contactGroups.members.modify": {"write": 1},
}
QUOTA_BUCKETS = (
    "critical_read",
    "critical_write",
    "write",
    "read",
    "daily_contact_writes",
    "full_sync",
)
_QUOTA_METRICS = {
    "critical_read": "Critical read requests (Contact and Profile Reads)",
    "critical_write": "Critical write requests (Contact and Profile Creates and Updates)",
    "write": "Write requests (Contact Deletes and Group Writes)",
    "read": "Read requests (Contact Group Reads)",
    "daily_contact_writes": "Daily Contact Writes",
    "full_sync": "Full sync requests (first page of connections.list without a sync token)",
}


def now_rfc3339(epoch: float) -> str:
    """``2026-11-24T00:32:26.123456Z`` for an epoch time (Google's timestamp format)."""
    whole = int(epoch)
    micros = round((epoch - whole) * 1_000_000)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}Z"


@functools.lru_cache(maxsize=65_536)
def _digest(*parts: object) -> str:
    raw = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=21).digest()
    return base64.b64encode(raw).decode()


def reformat_phone(value: str, style: str) -> str:
    """``value`` as Google may store it: ``E164``, ``INTERNATIONAL`` or ``NATIONAL`` (region FR)."""
    try:
        parsed = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(parsed):
        return value
    fmt = getattr(phonenumbers.PhoneNumberFormat, style.upper())
    return str(phonenumbers.format_number(parsed, fmt))


# --------------------------------------------------------------------------- model


@dataclass(slots=True)
class Contact:
    """One stored person of a user; ``fields`` holds only writable content."""

    number: int
    fields: dict[str, tuple[dict[str, Any], ...]]
    groups: tuple[str, ...]
    seq: int
    version: int
    update_time: float
    visible_at: float
    deleted: bool = False
    history: tuple[int, ...] = ()
    previous_resource_names: tuple[str, ...] = ()
    encoded: dict[str, bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def resource_name(self) -> str:
        """``people/c<digits>``."""
        return f"people/c{self.number}"

    @property
    def source_id(self) -> str:
        """The CONTACT source id: the contact number in hexadecimal (as Google does)."""
        return format(self.number, "x")

    @property
    def etag(self) -> str:
        """The person etag; changes with every version (content change or touch)."""
        return "%" + _digest(self.number, self.version)[:16]

    @property
    def source_etag(self) -> str:
        """The CONTACT source's etag (also accepted on update)."""
        return "#" + _digest(self.number, self.version)[-12:]

    def to_json(self) -> dict[str, Any]:
        """Persistable form."""
        data = dataclasses.asdict(self)
        del data["encoded"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Contact:
        """Inverse of ``to_json``."""
        data = dict(data)
        data["fields"] = {k: tuple(v) for k, v in data["fields"].items()}
        for name in ("groups", "history", "previous_resource_names"):
            data[name] = tuple(data[name])
        return cls(**data)


@dataclass
class Group:
    """A contact group of a user (system or user-defined)."""

    gid: str
    name: str
    system: bool
    version: int
    update_time: float
    members: dict[str, None] = field(default_factory=dict)
    client_data: list[dict[str, Any]] = field(default_factory=list)

    @property
    def resource_name(self) -> str:
        """``contactGroups/<id>``."""
        return f"contactGroups/{self.gid}"

    @property
    def etag(self) -> str:
        """The group etag; changes when its name or client data change."""
        return "#" + _digest("g", self.gid, self.version)

    def to_json(self) -> dict[str, Any]:
        """Persistable form."""
        data = dataclasses.asdict(self)
        data["members"] = list(self.members)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Group:
        """Inverse of ``to_json``."""
        data = dict(data)
        data["members"] = dict.fromkeys(data["members"])
        return cls(**data)


@dataclass
class UserStats:
    """Request counts of one user: per API method, per quota bucket, per error status."""

    methods: Counter[str] = field(default_factory=Counter)
    buckets: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    server_time_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    server_cpu_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def record_time(self, method: str, wall_s: float, cpu_s: float) -> None:
        """Add one request's server time (wall clock and the serving thread's CPU time)."""
        self.server_time_s[method] += wall_s
        self.server_cpu_s[method] += cpu_s

    def to_json(self) -> dict[str, Any]:
        """The ``/_emulator/stats`` answer for this user."""
        return {
            "methods": dict(self.methods),
            "buckets": dict(self.buckets),
            "errors": dict(self.errors),
            "requests": sum(self.methods.values()),
            "server_time_s": {k: round(v, 6) for k, v in self.server_time_s.items()},
            "total_server_time_s": round(sum(self.server_time_s.values()), 6),
            "server_cpu_s": {k: round(v, 6) for k, v in self.server_cpu_s.items()},
            "total_server_cpu_s": round(sum(self.server_cpu_s.values()), 6),
        }


@dataclass
class UserState:
    """One Google account: its profile, contacts (with tombstones), groups and change log."""

    email: str
    display_name: str
    profile_number: int
    contacts: dict[str, Contact] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    live_count: int = 0
    log_seqs: list[int] = field(default_factory=list)
    log_names: list[str] = field(default_factory=list)
    #: Sync tokens issued before this time are expired (admin "expire now").
    tokens_expired_before: float = 0.0
    #: Sync tokens older than this seq are expired (tombstones were pruned).
    pruned_seq: int = 0
    stats: UserStats = field(default_factory=UserStats)
    quota_windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def live_contacts(self) -> Iterator[Contact]:
        """Non-deleted contacts, in no particular order."""
        return (c for c in self.contacts.values() if not c.deleted)

    def to_json(self) -> dict[str, Any]:
        """Persistable form (stats and quota windows are not kept)."""
        return {
            "email": self.email,
            "display_name": self.display_name,
            "profile_number": self.profile_number,
            "contacts": [c.to_json() for c in self.contacts.values()],
            "groups": [g.to_json() for g in self.groups.values()],
            "log": [self.log_seqs, self.log_names],
            "tokens_expired_before": self.tokens_expired_before,
            "pruned_seq": self.pruned_seq,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserState:
        """Inverse of ``to_json``."""
        user = cls(data["email"], data["display_name"], data["profile_number"])
        for raw in data["contacts"]:
            contact = Contact.from_json(raw)
            user.contacts[contact.resource_name] = contact
            user.live_count += not contact.deleted
        for raw in data["groups"]:
            group = Group.from_json(raw)
            user.groups[group.gid] = group
        user.log_seqs, user.log_names = data["log"]
        user.tokens_expired_before = data["tokens_expired_before"]
        user.pruned_seq = data["pruned_seq"]
        return user


@dataclass
class Faults:
    """Injected faults and quota limits (all off by default).

    - ``quota``: per-minute limits per bucket (``critical_read``, ``critical_write``,
      ``write``, ``read``, ``full_sync`` — first pages of full lists) and a per-day
      ``daily_contact_writes``; counted per user.
    - ``latency_ms``: added to every API request.
    - ``error_rate`` / ``error_codes`` / ``error_seed``: a seeded share of API
      requests fails with 500 or 503 before doing anything.
    - ``fail_next``: the next N API requests fail (``fail_next_code``) before doing anything.
    - ``fail_after_apply``: the next N writes are applied, then answered 503;
      ``fail_after_apply_rate`` does the same for a seeded share of writes.
    - ``propagation_delay_s``: a write shows in list/sync answers only after N seconds.
    - ``phone_format``: ``E164``/``INTERNATIONAL``/``NATIONAL``: the server stores phone
      values in that format instead of as sent.
    - ``sync_token_ttl_s``: sync token lifetime (default 7 days).
    """

    quota: dict[str, int] = field(default_factory=dict)
    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_codes: list[int] = field(default_factory=lambda: [500, 503])
    error_seed: int = 0
    fail_next: int = 0
    fail_next_code: int = 503
    fail_after_apply: int = 0
    fail_after_apply_rate: float = 0.0
    propagation_delay_s: float = 0.0
    phone_format: str | None = None
    sync_token_ttl_s: float = DEFAULT_SYNC_TOKEN_TTL_S

    def to_json(self) -> dict[str, Any]:
        """The ``/_emulator/faults`` answer."""
        return dataclasses.asdict(self)


FAULT_NAMES = frozenset(f.name for f in dataclasses.fields(Faults))


@dataclass
class AccessToken:
    """An issued OAuth2 access token."""

    user: str
    scopes: list[str]
    expires_at: float
    client_id: str = ""
    refresh_token: str | None = None


@dataclass
class RefreshToken:
    """An issued OAuth2 refresh token (revocable)."""

    user: str
    scopes: list[str]
    client_id: str


@dataclass
class AuthCode:
    """A one-time authorization code from the consent page."""

    user: str
    scopes: list[str]
    client_id: str
    redirect_uri: str
    expires_at: float
    offline: bool
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class OAuthClient:
    """A registered OAuth client (from a written client secrets file)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class Page:
    """One page of a list answer: contacts (tombstones included in incremental lists)."""

    contacts: list[Contact]
    next_position: int | None
    total_items: int
    high_water: int


# --------------------------------------------------------------------------- state


class EmulatorState:
    """All users of one emulator, plus OAuth tokens, faults and the clock."""

    def __init__(self, *, seed: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.clock_offset = 0.0
        self.seed = seed
        self.rng = random.Random(seed)
        self.users: dict[str, UserState] = {}
        self.seq = 0
        self.faults = Faults()
        self.error_rng = random.Random(0)
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.clients: dict[str, OAuthClient] = {}
        self.changes = 0
        self.created_since_freeze = 0
        self.secret = secrets.token_hex(8)

    # ----------------------------------------------------------------- basics

    def now(self) -> float:
        """The emulator's clock (wall clock plus ``advance_clock`` offsets)."""
        return self.clock() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward (token expiry, quota windows, delays)."""
        self.clock_offset += seconds

    def mark_changed(self) -> None:
        """Note a change (the persistence thread saves when this counter moves)."""
        self.changes += 1

    def user(self, email: str) -> UserState:
        """The user ``email``, created (with its system groups) on first use."""
        found = self.users.get(email)
        if found is not None:
            return found
        local = email.split("@", 1)[0]
        display = " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)
        user = UserState(email, display or email, self.rng.randrange(10**20, 10**21))
        now = self.now()
        for gid, _name in SYSTEM_GROUPS.items():
            user.groups[gid] = Group(gid, gid, system=True, version=1, update_time=now)
        self.users[email] = user
        self.mark_changed()
        return user

    def reset(self, *, keep_tokens: bool = True) -> None:
        """Forget contacts, groups, faults, stats and registered OAuth clients.

        Users and, by default, tokens stay.

        The change counter keeps going, and every sync token issued before the reset is
        expired (an old token must never read the new, empty account as "no change").
        """
        emails = list(self.users)
        self.users = {}
        self.rng = random.Random(self.seed)
        self.faults = Faults()
        self.error_rng = random.Random(0)
        self.clock_offset = 0.0
        self.clients.clear()
        self.seq += 1
        for email in emails:
            self.user(email).pruned_seq = self.seq
        if not keep_tokens:
            self.access_tokens.clear()
            self.refresh_tokens.clear()
            self.auth_codes.clear()
        self.mark_changed()

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _new_number(self, user: UserState) -> int:
        while True:
            number = self.rng.getrandbits(61) | (1 << 61)
            if f"people/c{number}" not in user.contacts:
                return number

    def record_change(self, user: UserState, contact: Contact) -> None:
        """Give ``contact`` a new seq and version and log it."""
        now = self.now()
        contact.seq = self._next_seq()
        contact.version += 1
        contact.update_time = now
        contact.visible_at = now + self.faults.propagation_delay_s
        contact.history += (contact.seq,)
        contact.encoded = None
        user.log_seqs.append(contact.seq)
        user.log_names.append(contact.resource_name)
        self.mark_changed()
        if len(user.log_seqs) > 4 * len(user.contacts) + 10_000:
            self._compact(user)

    def _compact(self, user: UserState) -> None:
        """Drop log entries superseded by a later change of the same contact."""
        seqs: list[int] = []
        names: list[str] = []
        for seq, name in zip(user.log_seqs, user.log_names, strict=True):
            contact = user.contacts.get(name)
            if contact is not None and contact.seq == seq:
                seqs.append(seq)
                names.append(name)
        user.log_seqs, user.log_names = seqs, names
        for contact in user.contacts.values():
            contact.history = contact.history[-1:]

    # ----------------------------------------------------------------- contacts

    def get_contact(self, email: str, resource_name: str) -> Contact:
        """A live contact; 404 when unknown or deleted."""
        contact = self.user(email).contacts.get(resource_name)
        if contact is None or contact.deleted:
            raise NotFoundError()
        return contact

    def _prepare_groups(self, user: UserState, groups: Sequence[str] | None) -> list[str]:
        if groups is None:
            return ["myContacts"]
        result: list[str] = []
        for gid in groups:
            group = user.groups.get(gid)
            if group is None:
                raise InvalidArgumentError(f"Contact group contactGroups/{gid} does not exist.")
            if group.system and gid not in MODIFIABLE_SYSTEM_GROUPS:
                raise InvalidArgumentError(
                    f"Cannot add contacts to system group contactGroups/{gid}."
                )
            if gid not in result:
                result.append(gid)
        return result

    def _store_phones(self, fields: dict[str, list[dict[str, Any]]]) -> None:
        style = self.faults.phone_format
        if style and "phoneNumbers" in fields:
            for entry in fields["phoneNumbers"]:
                if "value" in entry:
                    entry["value"] = reformat_phone(entry["value"], style)

    def create_contacts(
        self,
        email: str,
        people: Sequence[tuple[dict[str, list[dict[str, Any]]], Sequence[str] | None]],
    ) -> list[Contact]:
        """Create contacts (``(fields, group ids or None)`` each): all or none.

        A new contact always joins ``myContacts``. Raises ``ContactLimitReachedError`` when
        the account would hold more than 25,000 contacts.
        """
        user = self.user(email)
        if user.live_count + len(people) > MAX_CONTACTS:
            raise ContactLimitReachedError()
        prepared = []
        for fields, groups in people:
            gids = self._prepare_groups(user, groups)
            if "myContacts" not in gids:
                gids.insert(0, "myContacts")
            prepared.append((fields, gids))
        created = []
        for fields, gids in prepared:
            self._store_phones(fields)
            stored = {name: tuple(entries) for name, entries in fields.items()}
            contact = Contact(self._new_number(user), stored, tuple(gids), 0, 0, 0.0, 0.0)
            user.contacts[contact.resource_name] = contact
            user.live_count += 1
            for gid in gids:
                user.groups[gid].members[contact.resource_name] = None
            self.record_change(user, contact)
            created.append(contact)
        self.created_since_freeze += len(created)
        if self.created_since_freeze >= GC_FREEZE_EVERY:
            self.created_since_freeze = 0
            gc.freeze()
        return created

    def check_etag(self, contact: Contact, etag: str | None) -> None:
        """Raise the error Google gives for a missing or stale etag on update."""
        if not etag:
            raise InvalidArgumentError(
                "Request must set person.etag or person.metadata.sources.etag "
                "for the source that is being updated."
            )
        if etag not in (contact.etag, contact.source_etag):
            raise StaleEtagError()

    def update_contacts(
        self,
        email: str,
        updates: Sequence[
            tuple[str, str | None, dict[str, list[dict[str, Any]]], list[str] | None]
        ],
        mask: Iterable[str],
    ) -> list[Contact]:
        """Update contacts (``(resource name, etag, fields, group ids or None)``): all or none.

        Each field named in ``mask`` is replaced whole (absent from ``fields`` → cleared);
        ``memberships`` in the mask replaces the contact's groups with ``group ids``.
        """
        user = self.user(email)
        mask = list(mask)
        checked = []
        for resource_name, etag, fields, groups in updates:
            contact = self.get_contact(email, resource_name)
            self.check_etag(contact, etag)
            gids = self._prepare_groups(user, groups or []) if "memberships" in mask else None
            checked.append((contact, fields, gids))
        for contact, fields, gids in checked:
            self._store_phones(fields)
            for name in mask:
                if name == "memberships":
                    continue
                if fields.get(name):
                    contact.fields[name] = tuple(fields[name])
                else:
                    contact.fields.pop(name, None)
            if gids is not None:
                self._set_groups(user, contact, gids)
            self.record_change(user, contact)
        return [contact for contact, _, _ in checked]

    def _set_groups(self, user: UserState, contact: Contact, gids: list[str]) -> None:
        for gid in contact.groups:
            group = user.groups.get(gid)
            if group is not None:
                group.members.pop(contact.resource_name, None)
        contact.groups = tuple(gids)
        for gid in gids:
            user.groups[gid].members[contact.resource_name] = None

    def delete_contacts(self, email: str, resource_names: Sequence[str]) -> None:
        """Delete contacts (all or none; 404 if one is unknown), keeping tombstones."""
        user = self.user(email)
        contacts = [self.get_contact(email, name) for name in dict.fromkeys(resource_names)]
        for contact in contacts:
            self._set_groups(user, contact, [])
            contact.fields = {}
            contact.deleted = True
            user.live_count -= 1
            self.record_change(user, contact)

    def touch(self, email: str, resource_name: str) -> Contact:
        """Bump updateTime and etag with no content change (as Google does after an e-mail)."""
        contact = self.get_contact(email, resource_name)
        self.record_change(self.user(email), contact)
        return contact

    def admin_patch(
        self, email: str, resource_name: str, fields: dict[str, list[dict[str, Any]]]
    ) -> Contact:
        """Edit a contact as a phone would: listed fields replaced, new etag and updateTime."""
        contact = self.get_contact(email, resource_name)
        return self.update_contacts(email, [(resource_name, contact.etag, fields, None)], fields)[0]

    # ----------------------------------------------------------------- listing

    def visible_high_water(self, user: UserState) -> int:
        """The greatest seq such that every change of ``user`` up to it is visible."""
        if not user.log_seqs:
            return self.seq
        now = self.now()
        index = len(user.log_seqs) - 1
        high = self.seq
        while index >= 0:
            contact = user.contacts.get(user.log_names[index])
            if contact is not None and contact.seq == user.log_seqs[index]:
                if contact.visible_at <= now:
                    break
                high = user.log_seqs[index] - 1
            index -= 1
        return high

    def list_full_by_seq(
        self, email: str, *, after: int, high_water: int, size: int, descending: bool = False
    ) -> Page:
        """One page of live contacts as they were at ``high_water``, by last modification.

        ``after`` is the position to continue from (a seq; 0 or, descending,
        ``high_water + 1`` for the first page). A contact changed after ``high_water`` is
        listed at its last position up to ``high_water`` (so no live contact is skipped);
        one created after it is not listed (the next incremental sync reports it).
        """
        user = self.user(email)
        seqs, names = user.log_seqs, user.log_names
        found: list[Contact] = []
        if descending:
            index = bisect.bisect_left(seqs, min(after, high_water + 1)) - 1
            step = -1
        else:
            index = bisect.bisect_right(seqs, after)
            step = 1
        last = after
        while 0 <= index < len(seqs) and len(found) < size:
            seq = seqs[index]
            if not descending and seq > high_water:
                break
            contact = user.contacts.get(names[index])
            index += step
            if contact is None or contact.deleted:
                continue
            if contact.seq != seq:
                if contact.seq <= high_water:
                    continue
                at = bisect.bisect_right(contact.history, high_water) - 1
                if at < 0 or contact.history[at] != seq:
                    continue
            found.append(contact)
            last = seq
        more = 0 <= index < len(seqs) and (descending or seqs[index] <= high_water)
        return Page(found, last if more else None, user.live_count, high_water)

    def list_changes(self, email: str, *, after: int, high_water: int, size: int) -> Page:
        """Contacts (tombstones included) whose last change is in ``(after, high_water]``."""
        user = self.user(email)
        seqs, names = user.log_seqs, user.log_names
        index = bisect.bisect_right(seqs, after)
        found: list[Contact] = []
        last = after
        while index < len(seqs) and len(found) < size:
            seq = seqs[index]
            if seq > high_water:
                break
            contact = user.contacts.get(names[index])
            index += 1
            if contact is None or contact.seq != seq:
                continue
            found.append(contact)
            last = seq
        more = index < len(seqs) and seqs[index] <= high_water
        return Page(found, last if more else None, user.live_count, high_water)

    def check_sync_token(self, email: str, seq: int, issued_at: float) -> None:
        """Raise ``ExpiredSyncTokenError`` when a sync token issued at ``issued_at`` is expired."""
        user = self.user(email)
        if (
            self.now() - issued_at > self.faults.sync_token_ttl_s
            or issued_at < user.tokens_expired_before
            or seq < user.pruned_seq
        ):
            raise ExpiredSyncTokenError()

    def expire_sync_tokens(self, email: str) -> None:
        """Make every sync token issued so far for ``email`` expired."""
        user = self.user(email)
        user.tokens_expired_before = self.now() + 1e-6
        self.mark_changed()

    def prune_tombstones(self, email: str, older_than_s: float | None = None) -> int:
        """Forget tombstones older than ``older_than_s`` (default: the sync token TTL).

        Sync tokens issued before the newest pruned change become expired. Returns the
        number of tombstones dropped.
        """
        user = self.user(email)
        limit = self.now() - (
            self.faults.sync_token_ttl_s if older_than_s is None else older_than_s
        )
        dropped = [c for c in user.contacts.values() if c.deleted and c.update_time <= limit]
        for contact in dropped:
            del user.contacts[contact.resource_name]
            user.pruned_seq = max(user.pruned_seq, contact.seq)
        if dropped:
            self._compact(user)
            self.mark_changed()
        return len(dropped)

    # ----------------------------------------------------------------- groups

    def get_group(self, email: str, resource_name: str) -> Group:
        """A contact group by resource name; 404 when unknown."""
        gid = resource_name.removeprefix("contactGroups/")
        group = self.user(email).groups.get(gid)
        if group is None:
            raise NotFoundError()
        return group

    def _check_group_name(self, user: UserState, name: str, exclude: str | None = None) -> str:
        name = name.strip()
        if not name:
            raise InvalidArgumentError("Contact group name must not be empty.")
        folded = name.casefold()
        for group in user.groups.values():
            if group.gid != exclude and not group.system and group.name.casefold() == folded:
                raise AlreadyExistsError()
        return name

    def create_group(
        self, email: str, name: str, client_data: list[dict[str, Any]] | None = None
    ) -> Group:
        """A new user contact group; 409 when the name is taken."""
        user = self.user(email)
        name = self._check_group_name(user, name)
        gid = format(self.rng.getrandbits(60), "x")
        group = Group(gid, name, False, 1, self.now(), client_data=list(client_data or []))
        user.groups[gid] = group
        self.mark_changed()
        return group

    def update_group(
        self,
        email: str,
        resource_name: str,
        *,
        etag: str | None,
        name: str | None,
        client_data: list[dict[str, Any]] | None,
    ) -> Group:
        """Rename a user group and/or replace its client data (etag checked when given)."""
        user = self.user(email)
        group = self.get_group(email, resource_name)
        if group.system:
            raise FailedPreconditionError("Cannot update a system contact group.")
        if etag and etag != group.etag:
            raise FailedPreconditionError(
                "Request contactGroup.etag is different than the current contactGroup.etag. "
                "Clear local cache and get the latest contact group."
            )
        if name is not None:
            group.name = self._check_group_name(user, name, exclude=group.gid)
        if client_data is not None:
            group.client_data = list(client_data)
        group.version += 1
        group.update_time = self.now()
        self.mark_changed()
        return group

    def delete_group(self, email: str, resource_name: str, *, delete_contacts: bool) -> None:
        """Delete a user group (and its members when ``delete_contacts``)."""
        user = self.user(email)
        group = self.get_group(email, resource_name)
        if group.system:
            raise FailedPreconditionError("Cannot delete a system contact group.")
        members = list(group.members)
        if delete_contacts:
            self.delete_contacts(email, members)
        else:
            for name in members:
                contact = user.contacts[name]
                self._set_groups(user, contact, [g for g in contact.groups if g != group.gid])
                self.record_change(user, contact)
        del user.groups[group.gid]
        self.mark_changed()

    def modify_members(
        self, email: str, resource_name: str, add: Sequence[str], remove: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """Add/remove contacts to/from a group; returns (not found, cannot remove last)."""
        user = self.user(email)
        group = self.get_group(email, resource_name)
        if group.system and group.gid not in MODIFIABLE_SYSTEM_GROUPS:
            raise FailedPreconditionError(f"Cannot modify members of system group {resource_name}.")
        not_found: list[str] = []
        cannot_remove: list[str] = []
        for name in add:
            contact = user.contacts.get(name)
            if contact is None or contact.deleted:
                not_found.append(name)
            elif group.gid not in contact.groups:
                self._set_groups(user, contact, [*contact.groups, group.gid])
                self.record_change(user, contact)
        for name in remove:
            contact = user.contacts.get(name)
            if contact is None or contact.deleted:
                not_found.append(name)
            elif group.gid in contact.groups:
                if contact.groups == (group.gid,) and group.gid != "myContacts":
                    cannot_remove.append(name)
                    continue
                self._set_groups(user, contact, [g for g in contact.groups if g != group.gid])
                self.record_change(user, contact)
        return not_found, cannot_remove

    # ----------------------------------------------------------------- oauth

    def issue_access_token(
        self,
        email: str,
        scopes: Sequence[str],
        *,
        client_id: str = "",
        refresh_token: str | None = None,
        ttl_s: float = ACCESS_TOKEN_TTL_S,
    ) -> str:
        """A new access token for ``email`` with ``scopes``."""
        self.user(email)
        token = "ya29.emu-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = AccessToken(
            email, list(scopes), self.now() + ttl_s, client_id, refresh_token
        )
        self.mark_changed()
        return token

    def issue_refresh_token(self, email: str, scopes: Sequence[str], client_id: str) -> str:
        """A new (revocable) refresh token."""
        token = "1//emu-" + secrets.token_urlsafe(32)
        self.refresh_tokens[token] = RefreshToken(email, list(scopes), client_id)
        self.mark_changed()
        return token

    def authenticate(self, header: str | None) -> AccessToken:
        """The access token of an ``Authorization: Bearer`` header; 401 when unusable."""
        if not header:
            raise UnauthenticatedError(
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                reason="CREDENTIALS_MISSING",
            )
        kind, _, value = header.partition(" ")
        token = self.access_tokens.get(value.strip()) if kind.lower() == "bearer" else None
        if token is None:
            raise UnauthenticatedError()
        if token.expires_at <= self.now():
            raise UnauthenticatedError(reason="ACCESS_TOKEN_EXPIRED")
        return token

    @staticmethod
    def require_scope(token: AccessToken, *, write: bool) -> None:
        """403 when the token has neither the contacts scope (nor, for reads, read-only)."""
        allowed = {CONTACTS_SCOPE} if write else {CONTACTS_SCOPE, CONTACTS_READONLY_SCOPE}
        if not allowed.intersection(token.scopes):
            raise PermissionDeniedError()

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (a refresh token takes its access tokens along)."""
        if token in self.refresh_tokens:
            del self.refresh_tokens[token]
            for key in [k for k, v in self.access_tokens.items() if v.refresh_token == token]:
                del self.access_tokens[key]
            self.mark_changed()
            return True
        if token in self.access_tokens:
            del self.access_tokens[token]
            self.mark_changed()
            return True
        return False

    # ----------------------------------------------------------------- faults

    def set_faults(self, **settings: Any) -> Faults:
        """Change fault settings (unknown names → ``ValueError``); ``error_seed`` reseeds."""
        unknown = set(settings) - FAULT_NAMES
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        for name, value in settings.items():
            setattr(self.faults, name, value)
        if "error_seed" in settings:
            self.error_rng = random.Random(self.faults.error_seed)
        return self.faults

    def charge_quota(
        self, email: str, method: str, contacts: int = 0, extra: dict[str, int] | None = None
    ) -> None:
        """Count ``method`` against ``email``'s buckets; 429 when a limit would be passed.

        ``contacts`` adds to ``daily_contact_writes``; ``extra`` adds other units (e.g.
        ``full_sync`` for the first page of a full connections.list).
        """
        user = self.user(email)
        user.stats.methods[method] += 1
        costs = dict(METHOD_COSTS.get(method, {}))
        for bucket, units in (extra or {}).items():
            costs[bucket] = costs.get(bucket, 0) + units
        if contacts:
            costs["daily_contact_writes"] = costs.get("daily_contact_writes", 0) + contacts
        now = self.now()
        limits = self.faults.quota
        for bucket, units in costs.items():
            limit = limits.get(bucket)
            if limit is None:
                continue
            span = DAILY_WINDOW_S if bucket == "daily_contact_writes" else QUOTA_WINDOW_S
            start, used = user.quota_windows.get(bucket, (now, 0))
            if now - start >= span:
                start, used = now, 0
            if used + units > limit:
                user.quota_windows[bucket] = (start, used)
                metric = _QUOTA_METRICS[bucket]
                per = "per day" if bucket == "daily_contact_writes" else "per minute"
                raise ResourceExhaustedError(
                    f"Quota exceeded for quota metric '{metric}' and limit "
                    f"'{metric} {per} per user' of service 'people.googleapis.com' "
                    "for consumer 'project_number:0'.",
                    metadata={
                        "quota_metric": f"people.googleapis.com/{bucket}",
                        "quota_limit": f"{bucket}_per_{'day' if per == 'per day' else 'minute'}",
                        "quota_limit_value": str(limit),
                        "consumer": "projects/0",
                    },
                )
        for bucket, units in costs.items():
            limit = limits.get(bucket)
            if limit is not None:
                span = DAILY_WINDOW_S if bucket == "daily_contact_writes" else QUOTA_WINDOW_S
                start, used = user.quota_windows.get(bucket, (now, 0))
                if now - start >= span:
                    start, used = now, 0
                user.quota_windows[bucket] = (start, used + units)
            user.stats.buckets[bucket] += units

    def draw_error(self) -> GoogleApiError | None:
        """The injected error for this request (``fail_next``, then ``error_rate``), if any."""
        faults = self.faults
        if faults.fail_next > 0:
            faults.fail_next -= 1
            return error_for_http_code(faults.fail_next_code)
        if faults.error_rate > 0 and self.error_rng.random() < faults.error_rate:
            return error_for_http_code(self.error_rng.choice(faults.error_codes))
        return None

    def draw_fail_after_apply(self) -> bool:
        """Whether this (already applied) write should be answered 503."""
        faults = self.faults
        if faults.fail_after_apply > 0:
            faults.fail_after_apply -= 1
            return True
        return faults.fail_after_apply_rate > 0 and (
            self.error_rng.random() < faults.fail_after_apply_rate
        )

    # ----------------------------------------------------------------- persistence

    def to_json(self) -> dict[str, Any]:
        """The whole state as JSON-able data."""
        return {
            "version": 1,
            "seed": self.seed,
            "seq": self.seq,
            "clock_offset": self.clock_offset,
            "secret": self.secret,
            "users": [u.to_json() for u in self.users.values()],
            "access_tokens": {k: dataclasses.asdict(v) for k, v in self.access_tokens.items()},
            "refresh_tokens": {k: dataclasses.asdict(v) for k, v in self.refresh_tokens.items()},
            "clients": {k: dataclasses.asdict(v) for k, v in self.clients.items()},
            "faults": self.faults.to_json(),
        }

    def load_json(self, data: dict[str, Any]) -> None:
        """Replace this state with one saved by ``to_json``."""
        self.seed = data["seed"]
        self.seq = data["seq"]
        self.clock_offset = data["clock_offset"]
        self.secret = data["secret"]
        self.users = {u["email"]: UserState.from_json(u) for u in data["users"]}
        self.access_tokens = {k: AccessToken(**v) for k, v in data["access_tokens"].items()}
        self.refresh_tokens = {k: RefreshToken(**v) for k, v in data["refresh_tokens"].items()}
        self.clients = {k: OAuthClient(**v) for k, v in data["clients"].items()}
        self.faults = Faults(**data["faults"])
        self.rng = random.Random(f"{self.seed}:{self.seq}")

    def dumps(self) -> str:
        """``to_json`` as a compact JSON string."""
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)
