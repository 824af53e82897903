"""The ATARYS side: the ``clients`` table through a SQLAlchemy session.

Writes only flush: the engine commits them together with the links they create, so a
crash never leaves a client without its link. Deletions are soft (``deleted_at``).
Change tracking re-reads clients changed since the watermark minus an overlap window:
re-reading is harmless (unchanged records equal their snapshot), missing one is not,
so clock skew and same-timestamp races cost nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from atarys.models import Client, SyncExclusion, SyncLink, utcnow
from atarys.models.client import fold, search_key_of
from atarys.sync.core.errors import StaleItemError, WriteRejectedError
from atarys.sync.core.records import (
    FIELD_LENGTHS,
    FIELDS,
    Record,
    display_name,
    normalize_value,
)
from atarys.sync.sides.base import Change, Item, Listing, NewItem

OVERLAP = timedelta(minutes=10)
# What an item is read from in bulk (``AtarysDbSide._row_item``), in this order.
_COLUMNS = (
    Client.id,
    *(getattr(Client, n) for n in FIELDS),
    Client.tag,
    Client.updated_at,
    Client.deleted_at,
    Client.field_times,
)


def client_record(client: Client) -> Record:
    """The mapped fields of a client (an empty ``nom`` reads as ``None``)."""
    return Record(**{n: (getattr(client, n) or None) for n in FIELDS})


def client_etag(client: Client) -> str:
    return values_etag(
        {n: getattr(client, n) for n in FIELDS}, client.updated_at, client.deleted_at
    )


def values_etag(
    values: Mapping[str, str | None], updated: datetime | None, deleted: datetime | None
) -> str:
    """The etag of a client row from its column values (``client_etag`` of its object)."""
    return _etag([values.get(n) for n in FIELDS], updated, deleted)


def _etag(values: Sequence[str | None], updated: datetime | None, deleted: datetime | None) -> str:
    """The etag of the mapped column values (in ``FIELDS`` order) and the row's times."""
    text = "|".join(
        [str(v or "") for v in values] + [updated.isoformat() if updated else "", str(deleted)]
    )
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@lru_cache(maxsize=4096)
def _time(raw: str) -> datetime:
    """A field time (clients written together share one: parsed, and held, once)."""
    return datetime.fromisoformat(raw)


def _field_times(raw: Mapping[str, str] | None) -> dict[str, datetime]:
    """``Client.field_time`` of every field, as the ``Item`` carries them."""
    return {n: _time(t) for n in FIELDS if (t := (raw or {}).get(n))}


def _column_value(name: str, value: str | None) -> str | None:
    if value is None:
        return "" if name == "nom" else None  # nom is NOT NULL: empty means "no family name"
    return value[: FIELD_LENGTHS[name]]


def _refused(done: tuple[str, str], records: Sequence[Record]) -> str:
    """The French detail of a write the database refused (an ``IntegrityError``).

    ``done``: the feminine past participle, singular and plural (``créée``, ``créées``).
    Live clients may share an e-mail (migration ``0011_shared_email``) and an empty ``nom``
    is stored as ``""``, so what is left is rare: a primary key taken (PostgreSQL's id
    sequence behind rows imported with their ids: each attempt moves it on) or another row
    of the same flush. Trying again is the first thing to do.
    """
    names = sorted({display_name(r) for r in records})
    if len(names) == 1:
        what = f"la fiche client de {names[0]} n'a pas pu être {done[0]}"
    else:
        shown = ", ".join(names[:3]) + (f" et {len(names) - 3} autres" if len(names) > 3 else "")
        what = f"les fiches clients de {shown} n'ont pas pu être {done[1]}"
    return (
        f"{what} dans la base ATARYS : relancez la synchronisation ; si cela se reproduit, "
        "transmettez le journal de synchronisation à l'assistance"
    )


def _id_chunks(ids: Sequence[str], size: int = 500) -> list[list[int]]:
    """Client ids (the numeric ones) in chunks an ``IN`` list takes."""
    keys = [int(i) for i in ids if i.isdigit()]
    return [keys[i : i + size] for i in range(0, len(keys), size)]


class AtarysDbSide:
    """Clients in the database; ids are client ids as strings."""

    name = "atarys"
    create_batch = 200
    update_batch = 200
    delete_batch = 500

    def __init__(
        self,
        session: Session,
        *,
        region: str = "FR",
        clock: Callable[[], datetime] = utcnow,
        overlap: timedelta = OVERLAP,
    ) -> None:
        self.session = session
        self.region = region
        self.clock = clock
        self.overlap = overlap

    @staticmethod
    def _row_item(row: Row[Any]) -> Item:
        """``_item`` of a row of ``_COLUMNS``, read by position (a run reads thousands)."""
        client_id, *values, tag, updated, deleted, times = row
        return Item(
            id=str(client_id),
            etag=_etag(values, updated, deleted),
            record=Record(*[v or None for v in values]) if deleted is None else Record(),
            updated=updated,
            deleted=deleted is not None,
            tag=tag,
            field_times=_field_times(times),
        )

    def _item(self, client: Client) -> Item:
        return Item(
            id=str(client.id),
            etag=client_etag(client),
            record=client_record(client) if client.deleted_at is None else Record(),
            updated=client.updated_at,
            deleted=client.deleted_at is not None,
            tag=client.tag,
            field_times=_field_times(client.field_times),
        )

    def list_changes(self, cursor: str | None, *, account_id: int | None = None) -> Listing:
        """Clients changed since ``cursor`` (minus the overlap window).

        With ``account_id``, a live client whose link in that account already reflects
        its current version (``sync_links.client_version``) is left out: re-reading it
        would cost without telling anything; so is a client the account keeps out of its
        sync (``sync_exclusions``: outside its filter…) that did not change since.
        """
        now = self.clock()
        query = select(*_COLUMNS).order_by(Client.id)
        if cursor is None:
            query = query.where(Client.deleted_at.is_(None))
        else:
            since = datetime.fromisoformat(cursor) - self.overlap
            query = query.where(or_(Client.updated_at >= since, Client.deleted_at >= since))
            if account_id is not None:
                synced = select(SyncLink.id).where(
                    SyncLink.account_id == account_id,
                    SyncLink.client_id == Client.id,
                    SyncLink.client_version >= Client.updated_at,
                    Client.deleted_at.is_(None),
                )
                # nor a client this account keeps out of its sync (its filter, a contact
                # deleted on the phone) that did not change since it was set aside
                kept_out = select(SyncExclusion.id).where(
                    SyncExclusion.account_id == account_id,
                    SyncExclusion.client_id == Client.id,
                    SyncExclusion.created_at >= Client.updated_at,
                    Client.deleted_at.is_(None),
                )
                query = query.where(~synced.exists(), ~kept_out.exists())
        # streamed: a first sync reads every client (rows, not ORM objects)
        items = [
            self._row_item(r) for r in self.session.execute(query.execution_options(yield_per=1000))
        ]
        return Listing(items, now.isoformat(), full=cursor is None, expected=None)

    def ids(self) -> set[str]:
        rows = self.session.scalars(select(Client.id).where(Client.deleted_at.is_(None)))
        return {str(i) for i in rows}

    def _load(self, ids: Sequence[str]) -> dict[str, Client]:
        found: dict[str, Client] = {}
        for chunk in _id_chunks(ids):
            for c in self.session.scalars(select(Client).where(Client.id.in_(chunk))):
                found[str(c.id)] = c
        return found

    def _rows(self, ids: Sequence[str]) -> dict[str, Row[Any]]:
        """The mapped columns of clients (no ORM object: a run reads them in thousands)."""
        found: dict[str, Row[Any]] = {}
        for chunk in _id_chunks(ids):
            for row in self.session.execute(select(*_COLUMNS).where(Client.id.in_(chunk))):
                found[str(row.id)] = row
        return found

    def get(self, ids: Sequence[str]) -> dict[str, Item]:
        return {i: self._row_item(r) for i, r in self._rows(ids).items() if r.deleted_at is None}

    def get_any(self, ids: Sequence[str]) -> dict[str, Item]:
        """Like ``get`` but soft-deleted clients come back too (marked deleted)."""
        return {i: self._row_item(r) for i, r in self._rows(ids).items()}

    def create(self, items: Sequence[NewItem]) -> list[Item]:
        """Insert new clients in one statement (a first sync creates thousands).

        The row is what the ORM hooks of ``Client`` would make (field times, folded
        search and sort keys), built here once per client without an ORM object.
        """
        if not items:
            return []
        now = self.clock()
        stamp = now.isoformat()
        rows: list[dict[str, object]] = []
        columns: list[dict[str, str | None]] = []
        for new in items:
            values = {n: _column_value(n, new.record.get(n)) for n in FIELDS}
            columns.append(values)
            rows.append(
                {
                    **values,
                    "created_at": now,
                    "updated_at": now,
                    "deleted_at": None,
                    "field_times": {n: stamp for n in FIELDS if values[n]},
                    "search_key": search_key_of(values),
                    "sort_nom": fold(values["nom"])[:100],
                    "sort_prenom": fold(values["prenom"])[:100],
                }
            )
        statement = insert(Client).returning(Client.id, sort_by_parameter_order=True)
        savepoint = self.session.begin_nested()
        try:
            ids = list(self.session.connection().scalars(statement, rows))
        except IntegrityError as exc:
            savepoint.rollback()
            raise WriteRejectedError(
                [str(i) for i in range(len(items))],
                _refused(("créée", "créées"), [n.record for n in items]),
            ) from exc
        savepoint.commit()
        out: list[Item] = []
        for client_id, values in zip(ids, columns, strict=True):
            out.append(
                Item(
                    id=str(client_id),
                    etag=values_etag(values, now, None),
                    record=Record(**{n: (values[n] or None) for n in FIELDS}),
                    updated=now,
                    field_times={n: now for n in FIELDS if values[n]},
                )
            )
        return out

    def update(self, changes: Sequence[Change]) -> list[Item]:
        loaded = self._load([c.id for c in changes])
        stale = [
            c.id
            for c in changes
            if c.id not in loaded
            or loaded[c.id].deleted_at is not None
            or (c.etag is not None and client_etag(loaded[c.id]) != c.etag)
        ]
        if stale:
            raise StaleItemError(stale)
        savepoint = self.session.begin_nested()
        try:
            for change in changes:
                client = loaded[change.id]
                for n in FIELDS:
                    new, old = change.record.get(n), getattr(client, n) or None
                    if normalize_value(n, new, self.region) != normalize_value(n, old, self.region):
                        setattr(client, n, _column_value(n, new))
            self.session.flush()
        except IntegrityError as exc:
            savepoint.rollback()
            self.session.expire_all()
            raise WriteRejectedError(
                [c.id for c in changes],
                _refused(("mise à jour", "mises à jour"), [c.record for c in changes]),
            ) from exc
        savepoint.commit()
        return [self._item(loaded[c.id]) for c in changes]

    def undelete(self, ids: Sequence[str]) -> list[Item]:
        """Bring soft-deleted clients back (undo); ``WriteRejectedError`` if the database
        refuses it."""
        now = self.clock()
        clients = list(self._load(ids).values())
        records = [client_record(c) for c in clients]  # read before a refusal expires them
        savepoint = self.session.begin_nested()
        try:
            for client in clients:
                if client.deleted_at is not None:
                    client.deleted_at = None
                    client.updated_at = now
            self.session.flush()
        except IntegrityError as exc:
            savepoint.rollback()
            self.session.expire_all()
            raise WriteRejectedError(
                [str(c.id) for c in clients],
                _refused(("restaurée", "restaurées"), records),
            ) from exc
        savepoint.commit()
        return [self._item(c) for c in clients]

    def delete(self, ids: Sequence[str]) -> None:
        now = self.clock()
        for client in self._load(ids).values():
            if client.deleted_at is None:
                client.deleted_at = now
                client.updated_at = now
        self.session.flush()
