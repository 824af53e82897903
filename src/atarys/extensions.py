"""Flask extensions, made at module level and bound in ``create_app`` with ``init_app``."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from atarys.models.base import Base

db: SQLAlchemy = SQLAlchemy(model_class=Base)


def session() -> Session:
    """The current request's (or app context's) SQLAlchemy session, typed as a plain ``Session``."""
    return db.session()


# SQLite: a write waits this long for another writer before "database is locked".
SQLITE_BUSY_TIMEOUT_S = 5.0


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite in WAL mode (readers never block the writer) with a busy timeout."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def engine_options(
    database_url: str, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S
) -> dict[str, Any]:
    """The SQLAlchemy engine options: a busy timeout for SQLite (seconds)."""
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        # JSON columns (journal, snapshots, field times) through orjson: a first sync
        # writes tens of thousands of them
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if database_url.startswith("sqlite"):
        options["connect_args"] = {"timeout": busy_timeout_s}
    return options
