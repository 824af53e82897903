"""The ``clients`` table: ATARYS' clients, with the seed's French field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, event, func, inspect, text
from sqlalchemy.orm import Mapped, mapped_column

from atarys.models.base import Base, UTCDateTime, utcnow
from atarys.sync.core.records import FIELD_LENGTHS

# The seed's fields, in its order, with their maximum lengths: one table, owned by the
# pure sync core, so the columns, the API validation and the sync agree.
CLIENT_FIELDS: dict[str, int] = FIELD_LENGTHS


class Client(Base):
    """A client of the company. Deleting one only sets ``deleted_at`` so the sync can follow."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nom: Mapped[str] = mapped_column(String(100))
    prenom: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    telephone: Mapped[str | None] = mapped_column(String(30))
    adresse: Mapped[str | None] = mapped_column(String(200))
    ville: Mapped[str | None] = mapped_column(String(100))
    code_postal: Mapped[str | None] = mapped_column(String(10))
    entreprise: Mapped[str | None] = mapped_column(String(200))
    fonction: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, index=True
    )
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None, index=True)
    # When each field took its current value (ISO times), kept by the events below whoever
    # writes: the sync decides "newest" per field, not per record.
    field_times: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)

    __table_args__ = (
        Index(
            "uq_clients_email_live",
            func.lower(text("email")),
            unique=True,
            sqlite_where=text("deleted_at IS NULL AND email IS NOT NULL"),
            postgresql_where=text("deleted_at IS NULL AND email IS NOT NULL"),
        ),
        Index("ix_clients_nom_prenom", "nom", "prenom"),
        Index("ix_clients_entreprise", "entreprise"),
        Index("ix_clients_ville", "ville"),
    )

    def field_time(self, name: str) -> datetime | None:
        raw = (self.field_times or {}).get(name)
        return datetime.fromisoformat(raw) if raw else None

    def to_dict(self) -> dict[str, Any]:
        """The client as the API shows it."""
        data: dict[str, Any] = {"id": self.id}
        for name in CLIENT_FIELDS:
            data[name] = getattr(self, name)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        data["deleted_at"] = self.deleted_at.isoformat() if self.deleted_at else None
        return data


@event.listens_for(Client, "before_insert")
def _times_on_insert(mapper: Any, connection: Any, target: Client) -> None:
    now = utcnow().isoformat()
    target.field_times = {n: now for n in CLIENT_FIELDS if getattr(target, n)}


@event.listens_for(Client, "before_update")
def _times_on_update(mapper: Any, connection: Any, target: Client) -> None:
    state = inspect(target)
    changed = [n for n in CLIENT_FIELDS if state.attrs[n].history.has_changes()]
    if changed:
        now = utcnow().isoformat()
        target.field_times = {**(target.field_times or {}), **dict.fromkeys(changed, now)}
