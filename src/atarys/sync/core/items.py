"""The values that pass between the sides and the core: items, listings, writes.

The vocabulary (item, id, etag, record, hint, cursor, listing) is defined in
``atarys.sync.sides.base``; these classes are pure data so the core can plan over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from atarys.sync.core.records import Record


@dataclass(frozen=True, slots=True)
class Item:
    """One item as a side reports it."""

    id: str
    etag: str
    record: Record
    updated: datetime | None = None
    hint: str | None = None
    in_scope: bool = True
    deleted: bool = False  # a listing reports a deletion (record then empty)
    previous_ids: tuple[str, ...] = ()  # ids this item had before (Google renames)
    emails: tuple[str, ...] = ()  # every e-mail key it holds (matching), primary first
    hints: tuple[str, ...] = ()  # every client id its clientData names (a merge: several)
    notes: tuple[str, ...] = ()  # values adapted to be stored (French, for the journal)
    tag: str | None = None  # a client's free-text tag (ATARYS only: accounts' filters)
    # when each mapped field took its current value, where known (ATARYS: exact, kept per
    # field; Google: the earliest of the contact's updateTime and our first sight of it)
    field_times: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Listing:
    """Items changed since a cursor, the cursor to pass next time, and how complete it is."""

    items: list[Item]
    cursor: str | None
    full: bool
    expected: int | None = None  # how many items the side announced (full listings)
    cursor_expired: bool = False  # the given cursor was refused: this is a full listing


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item to create: its record and the hint to store on it."""

    record: Record
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A write to an existing item, conditional on ``etag`` (``None``: unconditional).

    ``record`` is the whole target; the side writes only the fields that differ from
    the item once normalized, and keeps everything it holds beyond the mapped fields.
    """

    id: str
    etag: str | None
    record: Record
    hint: str | None = None
