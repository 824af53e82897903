"""The ``clients`` table: ATARYS' clients, with the seed's French field names."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import JSON, Index, Integer, String, Text, event, func, inspect, text
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from atarys.models.base import Base, UTCDateTime, utcnow
from atarys.sync.core.records import FIELD_LENGTHS

# The seed's fields, in its order, with their maximum lengths: one table, owned by the
# pure sync core, so the columns, the API validation and the sync agree.
CLIENT_FIELDS: dict[str, int] = FIELD_LENGTHS


# --- search and sort keys ---------------------------------------------------------------------
#
# Searching "elodie" must find "Élodie" and sorting must put "Élodie" among the E's, on
# SQLite (whose LOWER() and LIKE only fold ASCII) as on PostgreSQL. So each client row
# stores folded copies (lower case, accents and ligatures removed) of what people search
# and sort on, kept up to date by the ORM hooks below on every insert and update, whoever
# writes (the client service, the sync's ATARYS side). Queries fold their text the same way.

SEARCHED_FIELDS = ("nom", "prenom", "email", "entreprise", "ville", "fonction", "tag")
TAG_LENGTH = 100
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o"})
_SPACES = re.compile(r"\s+")


def fold(value: str | None) -> str:
    """Lower case without accents: ``"Électricité Œuvre"`` → ``"electricite oeuvre"``."""
    if not value:
        return ""
    return _fold(value)


@lru_cache(maxsize=8192)
def _fold(value: str) -> str:
    """``fold`` of a non-empty value (cached: towns, companies and titles repeat)."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_LIGATURES))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.casefold()).strip()


def phone_digits(value: str | None) -> list[str]:
    """The digits a person may type for a stored E.164 number: international and national.

    ``+33478000000`` → ``["33478000000", "0478000000"]``.
    """
    if not value:
        return []
    return list(_phone_digits(value))


@lru_cache(maxsize=4096)
def _phone_digits(value: str) -> tuple[str, ...]:
    if len(value) == 12 and value.startswith("+33") and value[1:].isdigit():
        # a French number in E.164 (nearly every client's): its national form is 0 and
        # the nine digits, as phonenumbers would format it, without parsing (~100 µs)
        return (value[1:], "0" + value[3:])
    digits = [re.sub(r"\D", "", value)]
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else "FR")
    except phonenumbers.NumberParseException:
        return tuple(d for d in digits if d)
    national = re.sub(
        r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    )
    digits.append(national)
    return tuple(d for d in dict.fromkeys(digits) if d)


def search_key_of(values: dict[str, Any]) -> str:
    """The folded text a client is searched on (its words, then its phone digits)."""
    words = [fold(values.get(name)) for name in SEARCHED_FIELDS]
    return " ".join([w for w in words if w] + phone_digits(values.get("telephone")))[:2000]


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
    # A free-text label the office gives (not synced to Google): accounts' filters use it.
    tag: Mapped[str | None] = mapped_column(String(TAG_LENGTH), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, index=True
    )
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None, index=True)
    # When each field took its current value (ISO times), kept by the events below whoever
    # writes: the sync decides "newest" per field, not per record.
    field_times: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    # Folded copies for search and sort (see ``fold``), maintained by ``_keep_keys``.
    search_key: Mapped[str | None] = mapped_column(Text, default=None)
    sort_nom: Mapped[str | None] = mapped_column(String(100), default=None)
    sort_prenom: Mapped[str | None] = mapped_column(String(100), default=None)

    __table_args__ = (
        # not unique: a company's shared address (info@…) may be several clients'
        Index(
            "ix_clients_email_live",
            func.lower(text("email")),
            sqlite_where=text("deleted_at IS NULL AND email IS NOT NULL"),
            postgresql_where=text("deleted_at IS NULL AND email IS NOT NULL"),
        ),
        Index("ix_clients_nom_prenom", "nom", "prenom"),
        Index("ix_clients_entreprise", "entreprise"),
        Index("ix_clients_ville", "ville"),
        Index("ix_clients_tag", "tag"),
        Index("ix_clients_sort_name", "sort_nom", "sort_prenom"),
    )

    def field_time(self, name: str) -> datetime | None:
        raw = (self.field_times or {}).get(name)
        return datetime.fromisoformat(raw) if raw else None

    def refresh_keys(self) -> None:
        """Recompute the folded search and sort keys from the fields."""
        values = {name: getattr(self, name) for name in CLIENT_FIELDS}
        values["tag"] = self.tag
        self.search_key = search_key_of(values)
        self.sort_nom = fold(self.nom)[:100]
        self.sort_prenom = fold(self.prenom)[:100]

    def to_dict(self) -> dict[str, Any]:
        """The client as the API shows it."""
        data: dict[str, Any] = {"id": self.id}
        for name in CLIENT_FIELDS:
            data[name] = getattr(self, name)
        data["tag"] = self.tag
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


@event.listens_for(Client, "before_insert")
@event.listens_for(Client, "before_update")
def _keep_keys(_mapper: Mapper[Client], _connection: Any, client: Client) -> None:
    client.refresh_keys()
