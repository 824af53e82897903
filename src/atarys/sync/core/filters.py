"""Which clients go to which phone: an account's client filter. Pure.

A filter names up to four criteria; a client passes when **every** given criterion
matches (an empty or absent filter lets every client through):

* ``ville``, ``entreprise``, ``tag``: equal, ignoring case, accents and extra spaces
  ("saint-étienne" matches "Saint-Etienne");
* ``code_postal``: a prefix ("69" matches every postal code starting with 69, "69003"
  only that one).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from atarys.sync.core.records import Record

FILTER_KEYS = ("ville", "code_postal", "entreprise", "tag")
_SPACES = re.compile(r"\s+")


def fold(value: str | None) -> str:
    """Lower case without accents nor extra spaces: ``" Saint-Étienne "`` → ``"saint-etienne"``."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.casefold()).strip()


@dataclass(frozen=True)
class ClientFilter:
    """An account's filter (``None`` criteria are not checked)."""

    ville: str | None = None
    code_postal: str | None = None
    entreprise: str | None = None
    tag: str | None = None

    @classmethod
    def of(cls, values: Mapping[str, str | None] | None) -> ClientFilter | None:
        """The filter stored on an account, or ``None`` (all clients) when it checks nothing."""
        if not values:
            return None
        kept = {k: (values.get(k) or "").strip() or None for k in FILTER_KEYS}
        if not any(kept.values()):
            return None
        return cls(**kept)

    def matches(self, record: Record, tag: str | None) -> bool:
        """Whether a client with these mapped fields and this tag goes to the phone."""
        for name in ("ville", "entreprise"):
            wanted = getattr(self, name)
            if wanted is not None and fold(record.get(name)) != fold(wanted):
                return False
        if self.tag is not None and fold(tag) != fold(self.tag):
            return False
        if self.code_postal is not None:
            code = (record.get("code_postal") or "").replace(" ", "")
            if not code.startswith(self.code_postal.replace(" ", "")):
                return False
        return True
