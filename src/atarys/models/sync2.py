"""Items the sync must come back to: creates whose answer was lost, items that failed.

Owned by ``atarys.sync``; created by migration ``0008_sync2``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atarys.models.base import Base, UTCDateTime, utcnow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class SyncPending(Base):
    """One item a later run must come back to.

    ``kind`` is ``in_doubt`` (a contact create applied or not: its answer was lost; the
    client is not created again until a full listing was read) or ``retry`` (an item
    that failed: re-read by the next runs, with backoff, while the cursors move on).
    """

    __tablename__ = "sync_pending"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("google_accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    resource_name: Mapped[str | None] = mapped_column(String(200), default=None)
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "google_id": self.resource_name,
            "name": self.name,
            "message": self.message,
            "attempts": self.attempts,
            "first_failed_at": _iso(self.first_at),
            "last_failed_at": _iso(self.last_at),
            "next_attempt_at": _iso(self.next_at),
        }
