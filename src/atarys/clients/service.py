"""Client queries and writes, shared by the HTTP API, the demo seeding and the sync engine's tests.

Writes commit and then send ``client_changed`` (the client's id) so that other
features (e.g. the near-real-time push to Google) can follow without this module
knowing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from blinker import Namespace
from sqlalchemy import Select, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atarys.http import ApiError
from atarys.models import CLIENT_FIELDS, Client, utcnow
from atarys.models.client import fold

_signals = Namespace()
client_changed = _signals.signal("client-changed")

# the fields a person writes: the synced ones, and the tag (ATARYS only)
EDITABLE_FIELDS = (*CLIENT_FIELDS, "tag")
SORTABLE = ("id", "nom", "prenom", "email", "ville", "entreprise", "created_at", "updated_at")
DUPLICATE_EMAIL = "Un client avec cette adresse e-mail existe déjà."
TRASH_DAYS = 30


@dataclass(frozen=True)
class Page:
    """One page of clients and the numbers to page through the rest."""

    items: list[Client]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def pagination(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": self.pages,
            "has_next": self.page < self.pages,
            "has_prev": self.page > 1,
        }


def _live() -> Select[tuple[Client]]:
    return select(Client).where(Client.deleted_at.is_(None))


_PHONE_QUERY = re.compile(r"^[\s+().\-/0-9]+$")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_terms(q: str) -> list[str]:
    """What ``q`` must all find in a client's search key.

    A phone number in any form a person types (``06 12 34 56 78``, ``06.12.34.56.78``,
    ``+33 6 12 34 56 78``, ``0033…``) becomes its digits, matched against the stored
    international and national digits; other text is folded (case, accents) and split
    into words, each of which must appear (``zoé lefèvre`` finds LEFÈVRE Zoé).
    """
    if _PHONE_QUERY.match(q) and sum(ch.isdigit() for ch in q) >= 2:
        digits = re.sub(r"\D", "", q)
        if q.lstrip().startswith("00"):
            digits = digits[2:]
        return [digits]
    return [word for word in fold(q).split(" ") if word]


def list_clients(session: Session, *, q: str | None, sort: str, page: int, per_page: int) -> Page:
    """Live clients matching ``q`` (nom, prénom, e-mail, entreprise, ville, fonction, tag,
    téléphone; case and accents ignored), sorted (``nom``: by name then first name, accents
    sorted as their base letter)."""
    query = _live()
    terms = search_terms(q) if q else []
    if terms:
        query = query.where(
            and_(*(Client.search_key.like(_like(term), escape="\\") for term in terms))
        )
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    columns = [Client.sort_nom, Client.sort_prenom] if name == "nom" else [getattr(Client, name)]
    order = [c.desc() if descending else c.asc() for c in columns] + [Client.id.asc()]
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(
        session.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page))
    )
    return Page(items=items, page=page, per_page=per_page, total=total)


def _trashed() -> Select[tuple[Client]]:
    """Clients deleted in the last ``TRASH_DAYS`` days (the clients' trash)."""
    since = utcnow() - timedelta(days=TRASH_DAYS)
    return select(Client).where(Client.deleted_at.is_not(None), Client.deleted_at >= since)


def list_deleted_clients(session: Session, *, q: str | None, page: int, per_page: int) -> Page:
    """The clients' trash: clients deleted in the last 30 days, newest deletion first."""
    query = _trashed()
    terms = search_terms(q) if q else []
    if terms:
        query = query.where(
            and_(*(Client.search_key.like(_like(term), escape="\\") for term in terms))
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(
        session.scalars(
            query.order_by(Client.deleted_at.desc(), Client.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return Page(items=items, page=page, per_page=per_page, total=total)


def restore_client(session: Session, client_id: int) -> Client:
    """Bring a client of the trash back to life; 404 when it is not in the trash."""
    client = session.scalars(_trashed().where(Client.id == client_id)).first()
    if client is None:
        raise ApiError(
            404,
            "Ce client n'est plus dans la corbeille (déjà restauré ou supprimé pour de bon) : "
            "actualisez la liste.",
        )
    client.deleted_at = None
    _commit(session)
    client_changed.send(client.id)
    return client


def email_shared_with(session: Session, client: Client) -> list[str]:
    """The other live clients holding ``client``'s e-mail (a company's shared address is
    allowed), by name, for the answer's message."""
    if not client.email:
        return []
    query = _live().where(func.lower(Client.email) == client.email.lower(), Client.id != client.id)
    return [_name(c) for c in session.scalars(query.order_by(Client.id).limit(3))]


def shared_note(session: Session, client: Client) -> str:
    """ " (adresse e-mail partagée avec DUPONT Jean)", or nothing."""
    names = email_shared_with(session, client)
    return f" (adresse e-mail partagée avec {', '.join(names)})" if names else ""


def _name(client: Client) -> str:
    """A client as people read it: "DUPONT Jean"."""
    parts = [(client.nom or "").upper(), client.prenom or ""]
    return " ".join(p for p in parts if p) or client.email or "sans nom"


def get_client(session: Session, client_id: int) -> Client:
    """A live client, or a 404."""
    client = session.get(Client, client_id)
    if client is None or client.deleted_at is not None:
        raise ApiError(404, f"Client {client_id} introuvable.")
    return client


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ApiError(409, DUPLICATE_EMAIL, errors={"email": DUPLICATE_EMAIL}) from exc


def create_client(session: Session, values: dict[str, Any]) -> Client:
    """Insert a client from validated ``values``."""
    client = Client(**{k: values.get(k) for k in EDITABLE_FIELDS})
    session.add(client)
    _commit(session)
    client_changed.send(client.id)
    return client


def update_client(session: Session, client: Client, values: dict[str, Any]) -> bool:
    """Apply validated ``values``; ``updated_at`` moves only when a value really changes."""
    changed = False
    for name, value in values.items():
        if getattr(client, name) != value:
            setattr(client, name, value)
            changed = True
    if changed:
        _commit(session)
        client_changed.send(client.id)
    return changed


def delete_client(session: Session, client: Client) -> None:
    """Soft delete: the row stays, marked, so the deletion can be synced."""
    client.deleted_at = utcnow()
    _commit(session)
    client_changed.send(client.id)
