"""A person reloads the page while the first sync is being applied (Chromium, ``serve --demo``).

The first sync is a job on the server: the reloaded page follows it with its progress
bar (no second preview, no error), then shows the account synchronised. Screenshots
under ``docs/screenshots/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from e2e.harness import Server
from e2e.test_flow import SYNC_TIMEOUT_MS, emulator_admin, log_in
from e2e.test_live_status import SYNC_BUTTON, screenshot_now

pytestmark = pytest.mark.e2e


def test_a_reload_during_the_first_sync_follows_it_to_its_end(
    page: Any, fresh_server: Server
) -> None:
    emulator = fresh_server.emulator_url()
    assert emulator is not None, fresh_server.output()
    log_in(page, fresh_server)
    page.get_by_role("link", name="Google Contacts").click()
    page.get_by_role("button", name="Connecter Google").click()
    allow = page.get_by_role("button", name="Autoriser")
    allow.or_(page.get_by_text("Google est connecté").first).wait_for()
    if allow.is_visible():
        allow.click()
    page.get_by_test_id("first-sync-preview").wait_for(timeout=SYNC_TIMEOUT_MS)
    emulator_admin(emulator, "PUT", "faults", {"latency_ms": 1500})  # a slow Google
    try:
        page.get_by_role("button", name="Appliquer", exact=True).click()
        page.get_by_test_id("first-sync-progress").wait_for()
        page.reload()
        progress = page.get_by_test_id("first-sync-progress")
        progress.wait_for(timeout=SYNC_TIMEOUT_MS)
        assert "Application de la première synchronisation" in progress.inner_text()
        assert "l'application continue sur le serveur" in progress.inner_text()
        # no longer « Rien n'a encore été écrit »: the person validated, the job writes
        assert page.get_by_text("Application en cours", exact=True).is_visible()
        assert page.get_by_text("Rien n'a encore été écrit").count() == 0
        screenshot_now(page, "19b-premiere-synchronisation-rechargee")
    finally:
        emulator_admin(emulator, "PUT", "faults", {"latency_ms": 0})
    # the job ends on the server; the page moves on to the account's usual sync panel
    page.get_by_role("button", name=SYNC_BUTTON).wait_for(timeout=SYNC_TIMEOUT_MS)
    assert page.get_by_test_id("first-sync-preview").count() == 0
    assert page.get_by_text("Erreur", exact=True).count() == 0
    expect(page.locator("#historique")).to_contain_text("aperçu appliqué", timeout=SYNC_TIMEOUT_MS)
