"""The ``clients`` table: ATARYS' clients, with the seed's French field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, func, text
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

    def to_dict(self) -> dict[str, Any]:
        """The client as the API shows it."""
        data: dict[str, Any] = {"id": self.id}
        for name in CLIENT_FIELDS:
            data[name] = getattr(self, name)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        data["deleted_at"] = self.deleted_at.isoformat() if self.deleted_at else None
        return data
