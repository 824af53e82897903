"""Migration 0007_search: clients created before it are found and sorted like new ones."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from atarys import migrate


def test_existing_clients_get_their_keys_and_downgrade_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = migrate.alembic_config(url)
    command.upgrade(config, "0006_trust")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO clients (nom, prenom, telephone, entreprise, created_at, updated_at)"
                    " VALUES ('Lefèvre', 'Élodie', '+33478000000', 'Électricité Durand',"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT search_key, sort_nom, sort_prenom FROM clients")
            ).one()
        assert row.sort_nom == "lefevre"
        assert row.sort_prenom == "elodie"
        for word in ("lefevre", "elodie", "electricite", "33478000000", "0478000000"):
            assert word in row.search_key
        command.downgrade(config, "0006_trust")
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("clients")}
        assert "search_key" not in columns
    finally:
        engine.dispose()
