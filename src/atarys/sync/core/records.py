"""Records: the nine mapped fields of a client / contact, and their normalization.

A ``Record`` holds raw values as a side gives them; ``normalize_record`` makes the
form every comparison uses (and that snapshots store): whitespace folded, e-mail in
lower case, phone in E.164 when readable, each value cut to the ATARYS column length.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any

from atarys.normalize import clean_text, phone_key

# The seed's fields and the ATARYS column lengths (models.client builds its columns' limits from this).
FIELD_LENGTHS: dict[str, int] = {
    "nom": 100,
    "prenom": 100,
    "email": 200,
    "telephone": 30,
    "adresse": 200,
    "ville": 100,
    "code_postal": 10,
    "entreprise": 200,
    "fonction": 100,
}
FIELDS: tuple[str, ...] = tuple(FIELD_LENGTHS)


@dataclass(frozen=True, slots=True)
class Record:
    """The mapped fields of one client or contact; ``None`` means empty."""

    nom: str | None = None
    prenom: str | None = None
    email: str | None = None
    telephone: str | None = None
    adresse: str | None = None
    ville: str | None = None
    code_postal: str | None = None
    entreprise: str | None = None
    fonction: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Field → value, in the seed's order."""
        return {n: getattr(self, n) for n in FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """A record from a dict (unknown keys ignored, non-strings refused)."""
        values: dict[str, str | None] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{f.name} must be a string or None")
            values[f.name] = value
        return cls(**values)

    def get(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value

    def with_values(self, values: dict[str, str | None]) -> Record:
        return replace(self, **values)

    def is_empty(self) -> bool:
        return all(getattr(self, n) is None for n in FIELDS)


@lru_cache(maxsize=50_000)
def normalize_value(name: str, value: str | None, region: str = "FR") -> str | None:
    """The normalized form of one field's value."""
    text = clean_text(value)
    if text is None:
        return None
    if name == "email":
        text = text.lower()
    elif name == "telephone":
        text = phone_key(text, region) or text
    return text[: FIELD_LENGTHS[name]].rstrip() or None


@lru_cache(maxsize=8192)
def normalize_record(record: Record, region: str = "FR") -> Record:
    """The normalized record: the form compared and stored as snapshot (cached: a run
    compares the same records several times)."""
    return Record(*[normalize_value(n, getattr(record, n), region) for n in FIELDS])


def diff(before: Record | None, after: Record | None) -> dict[str, tuple[str | None, str | None]]:
    """Field → (before, after) for every field that differs (``None`` record = all empty)."""
    b = before or Record()
    a = after or Record()
    return {n: (b.get(n), a.get(n)) for n in FIELDS if b.get(n) != a.get(n)}


def display_name(record: Record) -> str:
    """The person as people read it: "LEFÈVRE Zoé — Menuiserie Leroy".

    Falls back to the company, then the e-mail, then the phone; never an id.
    """
    who = " ".join(x for x in ((record.nom or "").upper(), record.prenom or "") if x)
    if who and record.entreprise:
        return f"{who} — {record.entreprise}"
    return who or record.entreprise or record.email or record.telephone or "(sans nom)"


def name_key(record: Record) -> str:
    """Who a record is, to tell apart people sharing an e-mail address: family and
    given names folded (case, accents, spaces); empty when the record has no name."""
    parts = []
    for value in (record.nom, record.prenom):
        text = clean_text(value) or ""
        bare = "".join(
            ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
        )
        parts.append(" ".join(bare.casefold().split()))
    return "|".join(parts) if parts[0] or parts[1] else ""
