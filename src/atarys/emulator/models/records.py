"""The stored records of one account: contacts (and tombstones), groups, stats, list pages.

Plain dataclasses with their persistable form (``to_json``/``from_json``); no HTTP,
no behaviour beyond derived values (resource names, etags). The rules that change
them live in ``people``, ``changelog`` and ``groups``.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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
    #: PROFILE-source values Google merges into this contact (verified e-mails, phones, name).
    profile: dict[str, tuple[dict[str, Any], ...]] | None = None
    profile_number: int = 0
    #: What reads return until ``stale_until`` (the "stale read after write" fault).
    stale: Contact | None = field(default=None, repr=False, compare=False)
    stale_until: float = 0.0
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
        stale, self.stale = self.stale, None
        try:
            data = dataclasses.asdict(self)
        finally:
            self.stale = stale
        del data["encoded"], data["stale"], data["stale_until"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Contact:
        """Inverse of ``to_json``."""
        data = dict(data)
        data["fields"] = {k: tuple(v) for k, v in data["fields"].items()}
        if data.get("profile") is not None:
            data["profile"] = {k: tuple(v) for k, v in data["profile"].items()}
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


@dataclass(frozen=True)
class Page:
    """One page of a list answer: contacts (tombstones included in incremental lists)."""

    contacts: list[Contact]
    next_position: int | None
    total_items: int
    high_water: int
