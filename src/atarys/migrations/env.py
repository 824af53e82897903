"""Alembic environment: runs against the URL (or connection) handed in by ``atarys.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import atarys.models  # noqa: F401  (registers every table on the metadata)
from atarys.models.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run online, on the connection given by the caller or on a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
