"""One contract suite, run against every side: memory, the ATARYS database, Google (emulator)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from atarys.models import Client
from atarys.sync.core.errors import StaleItemError
from atarys.sync.core.records import Record, normalize_record
from atarys.sync.sides.atarys_db import AtarysDbSide, client_etag, client_record
from atarys.sync.sides.base import Change, NewItem, Side
from atarys.sync.sides.google import GoogleSide
from atarys.sync.sides.memory import MemorySide

JEAN = Record(nom="Martin", prenom="Jean", email="jean@example.com", telephone="+33612345678",
              adresse="1 rue de la Paix", ville="Paris", code_postal="75002", entreprise="ACME", fonction="Gérant")  # fmt: skip
MARIE = Record(nom="Durand", prenom="Marie", email="marie@example.com")


def norm(record: Record) -> Record:
    return normalize_record(record)


class ContractSuite:
    """The side contract; subclasses provide a ``side`` fixture."""

    def test_create_then_get(self, side: Side) -> None:
        """Created items come back in order, with ids and etags, and read back the same."""
        a, b = side.create([NewItem(JEAN, hint="1"), NewItem(MARIE, hint="2")])
        assert a.id != b.id
        assert a.etag
        assert b.etag
        got = side.get([a.id, b.id, "missing-id"])
        assert set(got) == {a.id, b.id}
        assert norm(got[a.id].record) == norm(JEAN)
        assert norm(got[b.id].record) == norm(MARIE)
        if side.name != "atarys":
            assert got[a.id].hint == "1"

    def test_update_writes_and_moves_etag(self, side: Side) -> None:
        """An update with the current etag writes the fields and gives a new etag."""
        [a] = side.create([NewItem(JEAN)])
        [written] = side.update(
            [Change(a.id, a.etag, JEAN.with_values({"ville": "Lyon", "telephone": None}))]
        )
        assert written.etag != a.etag
        got = side.get([a.id])[a.id]
        assert norm(got.record) == norm(JEAN.with_values({"ville": "Lyon", "telephone": None}))

    def test_update_stale_etag_refused(self, side: Side) -> None:
        """An update based on an old etag raises StaleItemError and writes nothing."""
        [a] = side.create([NewItem(JEAN)])
        side.update([Change(a.id, a.etag, JEAN.with_values({"ville": "Lyon"}))])
        with pytest.raises(StaleItemError) as info:
            side.update([Change(a.id, a.etag, JEAN.with_values({"ville": "Nice"}))])
        assert a.id in info.value.ids
        assert side.get([a.id])[a.id].record.ville == "Lyon"

    def test_update_of_deleted_item_is_stale(self, side: Side) -> None:
        [a] = side.create([NewItem(JEAN)])
        side.delete([a.id])
        with pytest.raises(StaleItemError):
            side.update([Change(a.id, None, MARIE)])

    def test_update_without_change_keeps_etag(self, side: Side) -> None:
        """Writing the same values (reformatted) is not a write."""
        [a] = side.create([NewItem(JEAN)])
        [same] = side.update(
            [
                Change(
                    a.id,
                    a.etag,
                    JEAN.with_values({"telephone": "06 12 34 56 78", "email": "JEAN@example.com"}),
                )
            ]
        )
        assert same.etag == a.etag

    def test_delete_and_ids(self, side: Side) -> None:
        """Deleted items leave ``get`` and ``ids``; deleting twice is harmless."""
        a, b = side.create([NewItem(JEAN), NewItem(MARIE)])
        assert {a.id, b.id} <= side.ids()
        side.delete([a.id])
        side.delete([a.id])
        assert a.id not in side.ids()
        assert side.get([a.id]) == {}
        assert b.id in side.ids()

    def test_listing_full_then_incremental(self, side: Side) -> None:
        """A full listing has every live item; the next one has only changes and deletions."""
        a, b = side.create([NewItem(JEAN), NewItem(MARIE)])
        full = side.list_changes(None)
        assert full.full
        assert {i.id for i in full.items if not i.deleted} >= {a.id, b.id}
        side.update([Change(a.id, a.etag, JEAN.with_values({"ville": "Lyon"}))])
        side.delete([b.id])
        later = side.list_changes(full.cursor)
        assert not later.full
        seen = {i.id: i for i in later.items}
        assert seen[a.id].record.ville == "Lyon"
        assert seen[b.id].deleted


class TestMemorySide(ContractSuite):
    @pytest.fixture
    def side(self) -> Side:
        return MemorySide()


class TestAtarysDbSide(ContractSuite):
    @pytest.fixture
    def side(self, session: Session) -> Side:
        return AtarysDbSide(session)

    def test_items_read_as_rows_match_the_client_objects(self, session: Session) -> None:
        """Items read in bulk (rows) carry the etag and record the client object gives:
        else every write would see its client as changed since the plan."""
        side = AtarysDbSide(session)
        [a, b] = side.create([NewItem(JEAN), NewItem(Record(nom="Lefèvre", prenom="Zoé"))])
        side.delete([b.id])
        session.flush()
        for item in side.get_any([a.id, b.id]).values():
            client = session.get(Client, int(item.id))
            assert client is not None
            assert item.etag == client_etag(client)
            assert item.deleted == (client.deleted_at is not None)
            if not item.deleted:
                assert item.record == client_record(client)
                assert item.record.email == JEAN.email


class TestGoogleSide(ContractSuite):
    @pytest.fixture
    def side(self, people_service: Any) -> Side:
        return GoogleSide(people_service, backoff_initial=0.01)
