"""A sync the office can trust, in Chromium against a fresh ``atarys serve --demo``.

Connect Google: the first sync is shown by name and written only on « Appliquer »; a
preview is applied as shown (an item edited since is named, not applied; a second
« Appliquer » is refused with a way out); a run is undone from the history; the two trashes
bring back what was deleted; a client whose contact was deleted on a phone is shown
« dissocié » and its sync turned back on. Screenshots (1280 px and 375 px) under
``docs/screenshots/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from e2e.harness import Server, screenshot
from e2e.test_flow import SYNC_TIMEOUT_MS, client_row, emulator_admin, log_in, sync_and_wait

pytestmark = pytest.mark.e2e

ADELE = "adele.zephyrin@exemple.fr"
BRUNO = "bruno.vidal@exemple.fr"


def new_client(page: Any, nom: str, prenom: str, email: str) -> None:
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("button", name="Nouveau client").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Nom", exact=True).fill(nom)
    dialog.get_by_label("Prénom", exact=True).fill(prenom)
    dialog.get_by_label("E-mail", exact=True).fill(email)
    dialog.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Client créé").wait_for()


def row_action(page: Any, search: str, action: str) -> None:
    row = client_row(page, search)
    row.get_by_role("button", name=re.compile("^Actions pour")).click()
    page.get_by_role("menuitem", name=action).click()


def contact_number(emulator: str, email: str) -> str:
    contacts = emulator_admin(emulator, "GET", "contacts")["contacts"]
    found = next(
        c
        for c in contacts
        if not c["deleted"]
        and any(e.get("value") == email for e in c["person"].get("emailAddresses") or [])
    )
    return str(found["resourceName"].split("/c")[-1])


def test_trust_flow(page: Any, fresh_server: Server) -> None:
    server = fresh_server
    log_in(page, server)
    new_client(page, "Zéphyrin", "Adèle", ADELE)
    new_client(page, "Vidal", "Bruno", BRUNO)

    # 1. Connect: the first sync is a review, nothing written before « Appliquer ».
    page.get_by_role("link", name="Google Contacts").click()
    page.get_by_role("button", name="Connecter Google").click()
    allow = page.get_by_role("button", name="Autoriser")
    connected = page.get_by_text("Google est connecté").first
    allow.or_(connected).wait_for()
    if allow.is_visible():
        allow.click()
    first = page.get_by_test_id("first-sync-preview")
    first.wait_for(timeout=SYNC_TIMEOUT_MS)
    page.get_by_role("heading", name="Première synchronisation", exact=True).wait_for()
    assert page.get_by_role("button", name="Synchroniser avec Google Contacts").count() == 0
    created = first.locator("[data-plan-group=google_create]")
    assert "ZÉPHYRIN Adèle" in created.inner_text()
    assert "Doublons trouvés" in first.inner_text()
    every = page.locator("[data-scope-count=all]")
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('[data-scope-count=all]').textContent)"
    )
    assert re.search(r"\d+ contacts Google importés", every.inner_text())
    screenshot(page, "18-premiere-synchronisation")
    emulator = server.emulator_url()
    assert emulator is not None
    assert emulator_admin(emulator, "GET", "contacts")["contacts"]  # the phone's contacts
    before = len(emulator_admin(emulator, "GET", "contacts")["contacts"])

    # Importing every contact shows them coming into ATARYS; back to the label, then apply.
    choices = page.get_by_role("form", name="Choix de la première synchronisation")
    choices.get_by_role("radio", name=re.compile("Tous les contacts Google")).check()
    choices.get_by_role("button", name="Enregistrer ces choix et refaire l'aperçu").click()
    page.locator("[data-plan-group=atarys_create]").wait_for(timeout=SYNC_TIMEOUT_MS)
    choices.get_by_role("radio", name=re.compile("libellé « ATARYS »")).check()
    choices.get_by_role("button", name="Enregistrer ces choix et refaire l'aperçu").click()
    first.wait_for(timeout=SYNC_TIMEOUT_MS)
    page.locator("[data-plan-group=google_create]").wait_for()
    assert page.locator("[data-plan-group=atarys_create]").count() == 0
    assert len(emulator_admin(emulator, "GET", "contacts")["contacts"]) == before  # nothing written
    page.get_by_role("button", name="Appliquer", exact=True).click()
    applied = page.get_by_test_id("plan-applied")
    applied.get_by_text("Première synchronisation appliquée").wait_for(timeout=SYNC_TIMEOUT_MS)
    assert "ZÉPHYRIN Adèle" in applied.inner_text()
    screenshot(page, "19-premiere-synchronisation-appliquee")
    page.get_by_role("button", name="Synchroniser avec Google Contacts").wait_for()

    # 2. Aperçu → edit one of its clients → « Appliquer ce plan »: that one is named, not applied.
    for email, city in ((ADELE, "Lyon"), (BRUNO, "Brest")):
        row_action(page, email, "Modifier")
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Ville", exact=True).fill(city)
        dialog.get_by_role("button", name="Enregistrer").click()
        page.get_by_text("Client mis à jour").wait_for()
    page.get_by_role("link", name="Google Contacts").click()
    page.get_by_role("button", name="Aperçu", exact=True).click()
    preview = page.get_by_test_id("sync-preview")
    preview.wait_for(timeout=SYNC_TIMEOUT_MS)
    assert "VIDAL Bruno" in preview.inner_text()
    # A colleague edits Bruno in another tab while this preview is on screen.
    other = page.context.new_page()
    other.goto(server.url + "/clients")
    row_action(other, BRUNO, "Modifier")
    dialog = other.get_by_role("dialog")
    dialog.get_by_label("Ville", exact=True).fill("Quimper")
    dialog.get_by_role("button", name="Enregistrer").click()
    other.get_by_text("Client mis à jour").wait_for()
    other.close()
    page.get_by_role("button", name="Appliquer ce plan").click()
    done = page.get_by_test_id("plan-applied")
    done.wait_for(timeout=SYNC_TIMEOUT_MS)
    assert "ZÉPHYRIN Adèle" in done.inner_text()
    changed = done.get_by_test_id("changed-since-preview")
    assert "VIDAL Bruno" in changed.inner_text()
    assert "modifié depuis l'aperçu, non appliqué" in changed.inner_text()
    screenshot(page, "20-apercu-applique")

    # 3. Undo the newest run from the history: preview by name, then apply.
    history = page.locator("#historique")
    undo = history.get_by_role("button", name="Annuler cette synchronisation").first
    undo.wait_for()
    undo.click()
    dialog = page.get_by_test_id("undo-dialog")
    dialog.get_by_test_id("plan-view").or_(dialog.get_by_text("rien à remettre")).wait_for(
        timeout=SYNC_TIMEOUT_MS
    )
    screenshot(page, "21-annuler-synchronisation")
    page.get_by_role("button", name="Appliquer l'annulation").click()
    page.get_by_text("Synchronisation annulée").wait_for(timeout=SYNC_TIMEOUT_MS)
    page.keyboard.press("Escape")

    # 4. Trashes: a client deleted in ATARYS deletes its contact; both come back.
    row_action(page, ADELE, "Supprimer")
    page.get_by_role("dialog").get_by_role("button", name="Supprimer").click()
    page.get_by_text("Client supprimé").wait_for()
    page.get_by_role("link", name="Google Contacts").click()
    sync_and_wait(page)
    trash = page.get_by_test_id("google-trash")
    trash.get_by_text("ZÉPHYRIN Adèle").wait_for()
    trash.scroll_into_view_if_needed()
    screenshot(page, "22-corbeille-google")

    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("button", name="Corbeille").click()
    clients_trash = page.get_by_test_id("clients-trash")
    clients_trash.get_by_text("ZÉPHYRIN Adèle").wait_for()
    screenshot(page, "23-corbeille-clients")
    clients_trash.get_by_role("button", name="Restaurer ZÉPHYRIN Adèle").click()
    page.get_by_text("ZÉPHYRIN Adèle est de retour dans la liste des clients.").wait_for()
    page.keyboard.press("Escape")
    client_row(page, ADELE)

    page.get_by_role("link", name="Google Contacts").click()
    page.get_by_test_id("google-trash").get_by_role(
        "button", name="Restaurer ZÉPHYRIN Adèle"
    ).click()
    page.get_by_text("est de retour dans Google Contacts").wait_for(timeout=SYNC_TIMEOUT_MS)

    # 5. A contact deleted on a phone: its client stays, « dissocié », until turned back on.
    emulator_admin(emulator, "DELETE", f"contacts/{contact_number(emulator, BRUNO)}")
    sync_and_wait(page)
    row = client_row(page, BRUNO)
    row.get_by_text("dissocié").wait_for()
    screenshot(page, "24-client-dissocie")
    row_action(page, BRUNO, "Réactiver la synchronisation")
    page.get_by_text("synchronisation réactivée").wait_for()
    page.get_by_role("link", name="Google Contacts").click()
    sync_and_wait(page)
    assert "VIDAL Bruno" in page.get_by_test_id("run-summary").inner_text()
