"""An in-memory side for tests: a dict of items and a change log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from atarys.sync.core.errors import StaleItemError
from atarys.sync.core.records import FIELDS, Record, normalize_value
from atarys.sync.sides.base import Change, Item, Listing, NewItem


@dataclass
class _Entry:
    item: Item
    seq: int


class MemorySide:
    """Items in a dict; the cursor is the last change's sequence number."""

    create_batch = 200
    update_batch = 200
    delete_batch = 500

    def __init__(self, name: str = "memory", *, prefix: str = "m", region: str = "FR") -> None:
        self.name = name
        self.prefix = prefix
        self.region = region
        self.entries: dict[str, _Entry] = {}
        self.seq = 0
        self.next_id = 1
        self.writes = 0
        self.base_time = datetime(2026, 1, 1, tzinfo=UTC)

    def _stamp(self) -> tuple[int, datetime]:
        self.seq += 1
        return self.seq, self.base_time + timedelta(seconds=self.seq)

    def _put(self, item: Item) -> Item:
        seq, now = self._stamp()
        stored = replace(item, etag=f"e{seq}", updated=now)
        self.entries[item.id] = _Entry(stored, seq)
        return stored

    def list_changes(self, cursor: str | None) -> Listing:
        since = int(cursor) if cursor else None
        items = [
            e.item
            for e in self.entries.values()
            if (since is None and not e.item.deleted) or (since is not None and e.seq > since)
        ]
        return Listing(
            items, str(self.seq), full=since is None, expected=len(items) if since is None else None
        )

    def ids(self) -> set[str]:
        return {i for i, e in self.entries.items() if not e.item.deleted}

    def get(self, ids: Sequence[str]) -> dict[str, Item]:
        return {
            i: self.entries[i].item
            for i in ids
            if i in self.entries and not self.entries[i].item.deleted
        }

    def create(self, items: Sequence[NewItem]) -> list[Item]:
        out = []
        for new in items:
            item_id = f"{self.prefix}{self.next_id}"
            self.next_id += 1
            self.writes += 1
            out.append(self._put(Item(item_id, "", new.record, hint=new.hint)))
        return out

    def update(self, changes: Sequence[Change]) -> list[Item]:
        stale = [
            c.id
            for c in changes
            if c.id not in self.ids()
            or (c.etag is not None and self.entries[c.id].item.etag != c.etag)
        ]
        if stale:
            raise StaleItemError(stale)
        out = []
        for c in changes:
            current = self.entries[c.id].item
            values = {
                n: c.record.get(n)
                for n in FIELDS
                if normalize_value(n, c.record.get(n), self.region)
                != normalize_value(n, current.record.get(n), self.region)
            }
            hint = c.hint if c.hint is not None else current.hint
            if not values and hint == current.hint:
                out.append(current)
                continue
            self.writes += 1
            out.append(
                self._put(replace(current, record=current.record.with_values(values), hint=hint))
            )
        return out

    def delete(self, ids: Sequence[str]) -> None:
        for i in ids:
            if i in self.ids():
                self.writes += 1
                self._put(replace(self.entries[i].item, record=Record(), deleted=True))

    def copies(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Full copies: here, the record and the hint (a memory side holds nothing more)."""
        live = self.get(ids)
        return {i: {"record": it.record.as_dict(), "hint": it.hint} for i, it in live.items()}

    def restore(self, copy: dict[str, Any], hint: str | None) -> Item:
        return self.create([NewItem(Record.from_dict(copy.get("record") or {}), hint=hint)])[0]

    # Test helpers: edits made "by a person" on this side.
    def edit(self, item_id: str, **values: str | None) -> Item:
        current = self.entries[item_id].item
        return self._put(replace(current, record=current.record.with_values(values)))
