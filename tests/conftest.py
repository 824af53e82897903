"""Shared fixtures: ``database_url`` (SQLite, and PostgreSQL when configured), ``app``, ``client``.

Every test that uses the database runs once per backend. PostgreSQL is enabled by
``ATARYS_TEST_POSTGRES_URL``; when it is set and the server cannot be reached the
tests fail, they are never skipped. ``ATARYS_REQUIRE_POSTGRES=1`` (CI) makes a
missing URL an error too.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator

import pytest
from _pytest.terminal import TerminalReporter

from atarys.sync.store import stop_all_liveness

pytest_plugins = ["fixtures.database", "fixtures.emulator", "fixtures.sync"]
_BACKEND = re.compile(r"[\[-](sqlite|postgresql)[\]-]")


@pytest.fixture(autouse=True)
def _run_locks_released() -> Iterator[None]:
    """A test that leaves a run lock held (as a crashed process would) frees its
    liveness connection or thread at teardown, before its database goes away."""
    yield
    stop_all_liveness()


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("ATARYS_REQUIRE_POSTGRES") and not os.environ.get("ATARYS_TEST_POSTGRES_URL"):
        raise pytest.UsageError(
            "ATARYS_REQUIRE_POSTGRES is set but ATARYS_TEST_POSTGRES_URL is not"
        )


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """Print how many tests passed on each database backend."""
    passed: Counter[str] = Counter()
    for report in terminalreporter.stats.get("passed", []):
        match = _BACKEND.search(report.nodeid)
        if match:
            passed[match.group(1)] += 1
    if passed:
        terminalreporter.write_line(
            "database tests passed: "
            + ", ".join(f"{name}={count}" for name, count in sorted(passed.items()))
        )
