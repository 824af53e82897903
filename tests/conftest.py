"""Shared fixtures: ``database_url`` (SQLite, and PostgreSQL when configured), ``app``, ``client``.

Every test that uses the database runs once per backend. PostgreSQL is enabled by
``ATARYS_TEST_POSTGRES_URL``; when it is set and the server cannot be reached the
tests fail, they are never skipped.
"""

from __future__ import annotations

pytest_plugins = ["fixtures.database", "fixtures.emulator"]
