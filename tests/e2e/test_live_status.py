"""The live sync status, duplicates and the address bar, in Chromium against ``serve --demo``.

A run followed across a reload (progress bar, disabled button, then its result, the
connection card current); a second « Synchroniser » while a run holds the account gets that
run's result, never a red error; a duplicate pair merged by name; the clients page's
search, sort and page kept by a reload, and a deep link kept through the login page.
Screenshots (1280 px and 375 px) under ``docs/screenshots/``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from e2e.harness import DESKTOP, PHONE, SCREENSHOTS, Server, screenshot
from e2e.test_flow import SYNC_TIMEOUT_MS, emulator_admin, log_in

pytestmark = pytest.mark.e2e

SYNC_BUTTON = "Synchroniser avec Google Contacts"
BUSY_BUTTON = "Synchronisation en cours…"
SLOW_MS = 2500  # per emulator request: a run then lasts several seconds


def connect_and_apply_first_sync(page: Any) -> None:
    """Connect Google through the emulator's consent page and apply the reviewed first sync."""
    page.get_by_role("link", name="Google Contacts").click()
    page.get_by_role("button", name="Connecter Google").click()
    allow = page.get_by_role("button", name="Autoriser")
    connected = page.get_by_text("Google est connecté").first
    allow.or_(connected).wait_for()
    if allow.is_visible():
        allow.click()
    page.get_by_test_id("first-sync-preview").wait_for(timeout=SYNC_TIMEOUT_MS)
    page.get_by_role("button", name="Appliquer", exact=True).click()
    page.get_by_test_id("plan-applied").wait_for(timeout=SYNC_TIMEOUT_MS)
    page.get_by_role("button", name=SYNC_BUTTON).wait_for()


@pytest.fixture(scope="module")
def emulator(fresh_server: Server) -> str:
    url = fresh_server.emulator_url()
    assert url is not None, fresh_server.output()
    return url


@pytest.fixture
def slow(emulator: str) -> Iterator[None]:
    """Every emulator request waits ``SLOW_MS``: a run can be reloaded and clicked mid-way."""
    emulator_admin(emulator, "PUT", "faults", {"latency_ms": SLOW_MS})
    try:
        yield
    finally:
        emulator_admin(emulator, "PUT", "faults", {"latency_ms": 0})


CLICK_SYNC_JS = """(times) => {
  const button = [...document.querySelectorAll("button")].find(
    (b) => b.textContent.trim() === "Synchroniser avec Google Contacts");
  for (let i = 0; i < times; i += 1) button.click();
}"""


def screenshot_now(page: Any, name: str) -> None:
    """Like ``screenshot`` but at once (a run in progress keeps the network busy)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def runs(page: Any) -> list[dict[str, Any]]:
    """The account's real runs (previews left out), newest first, as the API lists them."""
    answer = page.request.get(page.url.split("/google-contacts")[0] + "/api/google-contacts/runs")
    assert answer.ok, answer.text()
    return [r for r in answer.json()["data"] if not r.get("dry_run")]


def touch_phone_contacts(emulator: str, count: int) -> None:
    """A phone edits ``count`` synced contacts, so a run has something to write."""
    stamp = time.strftime("%H%M%S")
    contacts = emulator_admin(emulator, "GET", "contacts")["contacts"]
    live = [c for c in contacts if not c["deleted"] and c["person"].get("clientData")][:count]
    assert len(live) == count, "the first sync linked too few contacts"
    for n, contact in enumerate(live):
        number = contact["resourceName"].split("/c")[-1]
        emulator_admin(
            emulator,
            "PATCH",
            f"contacts/{number}",
            {
                "organizations": [
                    {"name": f"Chantier {n}-{stamp}", "title": "Conducteur de travaux"}
                ]
            },
        )


def assert_card_current(page: Any) -> None:
    """The connection card tells the run that just ended, not one in progress."""
    card = page.locator("#connexion")
    card.get_by_text(re.compile(r"^Dernière synchronisation : ")).wait_for()
    text = card.inner_text()
    assert "en cours" not in text, text


def test_setup(page: Any, fresh_server: Server) -> None:
    """Log in, connect Google and apply the first sync (the other tests build on it)."""
    log_in(page, fresh_server)
    connect_and_apply_first_sync(page)
    # The callback's "Google est connecté…" was news before the first sync, not after it.
    page.get_by_text("Vous pouvez maintenant synchroniser").wait_for(state="detached")


def test_reload_during_a_sync_keeps_following_it(
    page: Any, fresh_server: Server, emulator: str, slow: None
) -> None:
    log_in(page, fresh_server)
    page.goto(fresh_server.url + "/google-contacts")
    touch_phone_contacts(emulator, 3)
    before = len(runs(page))
    page.get_by_role("button", name=SYNC_BUTTON).click()
    page.get_by_test_id("sync-progress").wait_for(timeout=10_000)

    page.reload()
    progress = page.get_by_test_id("sync-progress")
    progress.wait_for(timeout=10_000)
    assert page.get_by_role("button", name=BUSY_BUTTON).is_disabled()
    assert page.get_by_role("button", name=SYNC_BUTTON).count() == 0
    # The card says a run is going on, and where to follow it.
    page.locator("#connexion").get_by_text("en cours").wait_for()
    screenshot_now(page, "25-synchronisation-suivie-apres-rechargement")

    result = page.get_by_test_id("sync-result")
    result.wait_for(timeout=SYNC_TIMEOUT_MS)
    expect(result.get_by_test_id("run-summary")).to_contain_text("Depuis Google :")
    assert page.get_by_role("button", name=SYNC_BUTTON).is_enabled()
    assert_card_current(page)
    assert page.get_by_role("alert").count() == 0
    screenshot(page, "26-synchronisation-terminee-apres-rechargement")
    assert len(runs(page)) == before + 1  # the reload started nothing


def test_second_click_while_busy_gets_that_runs_result(
    page: Any, fresh_server: Server, emulator: str, slow: None
) -> None:
    log_in(page, fresh_server)
    page.goto(fresh_server.url + "/google-contacts")
    other = page.context.new_page()
    other.goto(fresh_server.url + "/google-contacts")
    expect(other.get_by_role("button", name=SYNC_BUTTON)).to_be_enabled(timeout=30_000)
    touch_phone_contacts(emulator, 2)
    before = len(runs(page))
    expect(page.get_by_role("button", name=SYNC_BUTTON)).to_be_enabled(timeout=30_000)

    # Two clicks in this tab (the button is disabled by the first one), and at once one in
    # the second tab, which has not yet seen that a run started.
    page.evaluate(CLICK_SYNC_JS, 2)
    other.evaluate(CLICK_SYNC_JS, 1)
    page.get_by_test_id("sync-progress").wait_for(timeout=10_000)
    other.get_by_test_id("sync-progress").wait_for(timeout=10_000)
    screenshot_now(other, "27-deuxieme-clic-pendant-une-synchronisation")

    for tab in (page, other):
        result = tab.get_by_test_id("sync-result")
        result.wait_for(timeout=SYNC_TIMEOUT_MS)
        expect(result.get_by_test_id("run-summary")).to_contain_text("Depuis Google :")
        text = tab.locator("#synchronisation").inner_text()
        assert "collègue" not in text, text
        assert "déjà en cours" not in text, text
        assert tab.get_by_role("alert").count() == 0
        assert tab.get_by_test_id("background-summary").count() == 0  # superseded by this result
        assert_card_current(tab)
    other.close()
    assert len(runs(page)) == before + 1  # three clicks, one run


def test_duplicate_pair_merged_by_name(page: Any, fresh_server: Server) -> None:
    """The demo's first duplicate pair, merged keeping a value from each record."""
    log_in(page, fresh_server)
    page.goto(fresh_server.url + "/google-contacts#doublons")
    panel = page.locator("#doublons")
    pair = panel.get_by_test_id("duplicate").first
    pair.wait_for()
    text = pair.inner_text()
    assert not re.search(r"n° ?\d|people/c|none", text), text
    email = pair.locator("p").first.inner_text().split(" : ", 1)[1].strip()
    heads = [h.inner_text() for h in pair.locator("thead th").all()][1:]
    assert all(re.match(r"^[A-ZÀ-Ý' -]+ [A-ZÀ-Ý]", h) for h in heads), heads  # NOM Prénom
    # Two fields shown in the clients list: one only the first record has, one the second.
    wanted = {"Ville", "Entreprise", "Téléphone"}
    from_first = from_second = None
    for row in pair.locator("tbody tr").all():
        field = row.locator("th").inner_text().replace("(différent)", "").strip()
        cells = [c.inner_text().strip() for c in row.locator("td").all()]
        if field not in wanted or len(cells) != 2:
            continue
        if cells[0] != "(vide)" and cells[1] == "(vide)" and from_first is None:
            from_first = (field, cells[0])
        elif cells[1] not in ("(vide)", cells[0]) and from_second is None:
            from_second = (field, cells[1])
    assert from_first, text
    assert from_second, text
    pair.scroll_into_view_if_needed()
    screenshot(page, "28-doublon-a-fusionner")

    pair.get_by_role("button", name="Fusionner…").click()
    dialog = page.get_by_role("dialog", name="Fusionner ces fiches")
    dialog.get_by_role("group", name=from_second[0]).get_by_role(
        "radio", name=from_second[1]
    ).check()
    screenshot(page, "29-fusion-choix-des-valeurs")
    dialog.get_by_role("button", name="Fusionner", exact=True).click()
    dialog.wait_for(state="detached", timeout=SYNC_TIMEOUT_MS)
    page.wait_for_timeout(1000)
    assert panel.get_by_test_id("duplicate").filter(has_text=email).count() == 0
    screenshot(page, "30-doublon-fusionne")

    # One client left with that e-mail, holding a value from each record.
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_label("Rechercher").fill(email)
    rows = page.locator("tbody tr", has_text=email)
    rows.first.wait_for()
    page.wait_for_timeout(800)
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert from_first[1] in row, (from_first, row)
    assert from_second[1] in row, (from_second, row)


def test_clients_address_survives_reload_and_login(page: Any, fresh_server: Server) -> None:
    log_in(page, fresh_server)
    page.get_by_label("Rechercher").fill("a")
    page.get_by_label("Trier par").select_option("ville")
    page.wait_for_url(re.compile(r"q=a"))
    next_page = page.get_by_role("button", name="Suivante")
    if next_page.is_enabled():
        next_page.click()
        page.wait_for_url(re.compile(r"page=2"))
    page.wait_for_url(re.compile(r"tri=ville"))
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    address = page.url
    first_row = page.locator("tbody tr").first.inner_text()

    page.reload()
    page.locator("tbody tr").first.wait_for()
    page.wait_for_load_state("networkidle")
    assert page.url == address
    assert page.get_by_label("Rechercher").input_value() == "a"
    assert page.get_by_label("Trier par").input_value() == "ville"
    assert page.locator("tbody tr").first.inner_text() == first_row

    # A deep link opened while logged out comes back after the login page.
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("button", name="Se connecter").wait_for()
    page.goto(address)
    page.get_by_label("Identifiant").fill(fresh_server.username)
    page.get_by_label("Mot de passe").fill(fresh_server.password)
    page.get_by_role("button", name="Se connecter").click()
    page.locator("tbody tr").first.wait_for()
    assert page.url == address
    assert page.get_by_label("Trier par").input_value() == "ville"

    page.goto(fresh_server.url + "/google-contacts#doublons")
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("button", name="Se connecter").wait_for()
    page.goto(fresh_server.url + "/google-contacts#historique")
    page.get_by_label("Identifiant").fill(fresh_server.username)
    page.get_by_label("Mot de passe").fill(fresh_server.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Google Contacts", level=1).wait_for()
    assert page.url.endswith("/google-contacts#historique")
