"""Migration 0002_sync creates exactly the sync tables the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

import warnings
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from atarys.models import Base

SYNC_TABLES = {
    "google_accounts",
    "sync_links",
    "sync_runs",
    "sync_run_items",
    "sync_conflicts",
    "sync_duplicates",
}


def _table_of(diff: Any) -> str | None:
    """The table a diff from ``compare_metadata`` is about (``None`` when unknown)."""
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        if isinstance(part, str) and part in SYNC_TABLES:
            return part
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        name = getattr(part, "name", None)
        if name in SYNC_TABLES:
            return str(name)
    return None


def test_models_match_the_migration(database_url: str) -> None:
    """No difference between the models and the migrated schema, for the sync tables."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            with warnings.catch_warnings():
                # SQLite cannot reflect the clients table's expression index (not ours)
                warnings.simplefilter("ignore")
                found = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert [d for d in found if _table_of(d) in SYNC_TABLES] == []
