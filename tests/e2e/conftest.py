"""End-to-end fixtures: ``atarys serve --demo`` in a subprocess and Debian's Chromium.

The browser is the system's ``/usr/bin/chromium`` driven by Playwright (no browser
download). Without it the tests are skipped with a visible reason, unless ``CI`` is
set: then they fail, CI must run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    START_TIMEOUT_S,
    Server,
    create_user,
    credentials_from,
    free_port,
    require_chromium,
)


@contextmanager
def demo_server(base: Path) -> Iterator[Server]:
    """``atarys serve --demo`` on a free port with its own data and log folders under ``base``."""
    data_dir, log_dir = base / "data", base / "logs"
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "ATARYS_DATA_DIR": str(data_dir),
            "ATARYS_LOG_DIR": str(log_dir),
            "ATARYS_LOGIN_RATE_LIMIT": "1000 per minute",
            # No automatic run may collide with the ones the test starts.
            "ATARYS_SCHEDULER": "0",
            "ATARYS_PUSH_DELAY_SECONDS": "3600",
            "ATARYS_PUSH": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("ATARYS_DATABASE_URL", None)
    atarys = shutil.which("atarys", path=str(Path(sys.executable).parent)) or "atarys"
    log_path = base / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [atarys, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=base,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail("atarys serve --demo stopped:\n" + log_path.read_text(), pytrace=False)
            try:
                if requests.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("atarys serve --demo did not answer:\n" + log_path.read_text())
            time.sleep(0.2)
        found = credentials_from(log_path.read_text(encoding="utf-8", errors="replace"))
        if found is None:
            found = ("e2e", "mot-de-passe-e2e")
            create_user(env, *found)
        yield Server(url, process, log_path, data_dir, found[0], found[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo server the office flow tests share."""
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("e2e")) as running:
        yield running


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server of its own (Google never connected yet), for one test module."""
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("e2e-fresh")) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh desktop-sized page (own cookies), French locale."""
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
