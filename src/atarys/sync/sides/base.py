"""The side interface: what the engine needs from ATARYS and from Google.

Vocabulary (used the same way everywhere):

- **item**: one client (ATARYS) or contact (Google), seen through its mapped fields.
- **id**: the side's identifier of an item, a string: the client id (``"42"``) or the
  contact's resourceName (``"people/c123"``).
- **etag**: an opaque version of an item; it changes whenever the item is written.
  Writes are conditional on it.
- **record**: the item's nine mapped fields (``core.records.Record``), raw.
- **hint**: the other side's id stored on the item (Google: ``clientData``
  ``atarys_client_id``); ``None`` where a side keeps none (ATARYS).
- **cursor**: an opaque position in the side's change history (Google's sync token,
  ATARYS' watermark). ``None`` asks for everything.
- **listing**: items changed since a cursor (a *full* listing has every live item,
  so an item absent from it was deleted).

Every method may raise ``core.errors.SyncError`` subclasses (never a library error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from atarys.sync.core.items import Change, Item, Listing, NewItem


@dataclass
class CallCounter:
    """API calls made by a side, per method."""

    calls: dict[str, int] = field(default_factory=dict)

    def count(self, method: str, n: int = 1) -> None:
        self.calls[method] = self.calls.get(method, 0) + n

    def total(self, prefix: str = "") -> int:
        return sum(v for k, v in self.calls.items() if k.startswith(prefix))


class Side(Protocol):
    """One side of the sync. Batch sizes bound every ``Sequence`` argument."""

    name: str
    create_batch: int
    update_batch: int
    delete_batch: int

    def list_changes(self, cursor: str | None) -> Listing:
        """Items changed (or deleted) since ``cursor``; every live item when ``None``.

        An expired cursor is not an error: the side falls back to a full listing and
        says so (``full=True, cursor_expired=True``).
        """
        ...

    def ids(self) -> set[str]:
        """The ids of every live item (may cost a full listing)."""
        ...

    def get(self, ids: Sequence[str]) -> dict[str, Item]:
        """The live items among ``ids``; missing or deleted ones are absent."""
        ...

    def create(self, items: Sequence[NewItem]) -> list[Item]:
        """Create items; returns them in the same order."""
        ...

    def update(self, changes: Sequence[Change]) -> list[Item]:
        """Apply changes; returns the items as written, in the same order.

        Raises ``StaleItemError(ids)`` when an etag is stale or an item is gone; the
        items it names were not written (the others may have been).
        """
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Delete items; ids already gone are ignored."""
        ...

    def copies(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """A full copy of each live item (every field the side holds), to restore it later."""
        ...

    def restore(self, copy: dict[str, Any], hint: str | None) -> Item:
        """Create an item again from a copy ``copies`` returned, with ``hint``."""
        ...


__all__ = ["CallCounter", "Change", "Item", "Listing", "NewItem", "Side"]
