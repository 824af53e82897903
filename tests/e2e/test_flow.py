"""The whole office flow in a real Chromium against ``atarys serve --demo``.

Log in, connect Google through the emulator's consent page, review and apply the first
sync, preview, sync (progress bar, then results), edit a contact in the emulator as a phone would, sync again and
see the change in the clients table, then create a conflict and resolve it.
Each page is saved as a screenshot (1280 px and 375 px) under ``docs/screenshots/``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from e2e.harness import Server, screenshot

pytestmark = pytest.mark.e2e

SYNC_TIMEOUT_MS = 60_000


def log_in(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    page.get_by_label("Identifiant").fill(server.username)
    page.get_by_label("Mot de passe").fill(server.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Clients", level=1).wait_for()


def emulator_admin(base: str, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, base + "_emulator/" + path, json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()


def sync_and_wait(page: Any, *, shot: str | None = None) -> None:
    """Click "Synchroniser", see the progress bar, then the result."""
    page.get_by_role("button", name="Synchroniser avec Google Contacts").click()
    progress = page.get_by_test_id("sync-progress")
    progress.wait_for(timeout=10_000)
    if shot:
        counted = progress.locator("[role=progressbar][aria-valuenow]")
        counted.or_(page.get_by_test_id("sync-result")).wait_for(timeout=SYNC_TIMEOUT_MS)
        screenshot(page, shot)
    page.get_by_test_id("sync-result").wait_for(timeout=SYNC_TIMEOUT_MS)


def client_row(page: Any, search: str) -> Any:
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_label("Rechercher").fill(search)
    row = page.locator("tbody tr", has_text=search).first
    row.wait_for()
    return row


def test_login_refused_with_a_wrong_password(page: Any, server: Server) -> None:
    """A wrong password says so in French and stays on the login page."""
    page.goto(server.url + "/google-contacts")
    page.get_by_label("Identifiant").fill(server.username)
    page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_text("Connexion refusée").wait_for()
    screenshot(page, "01-connexion-refusee")


def test_office_flow(page: Any, server: Server) -> None:
    """Login → connect → preview → sync → phone edit → sync → conflict → resolved."""
    # 1. Login page, then the clients page.
    page.goto(server.url + "/")
    page.get_by_role("button", name="Se connecter").wait_for()
    screenshot(page, "02-connexion")
    log_in(page, server)
    page.locator("tbody tr").first.wait_for()
    screenshot(page, "03-clients")

    # 2. Inline validation errors from the API, then a valid client.
    page.get_by_role("button", name="Nouveau client").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("E-mail", exact=True).fill("pas-une-adresse")
    dialog.get_by_label("Téléphone", exact=True).fill("abc")
    dialog.get_by_role("button", name="Enregistrer").click()
    dialog.get_by_text("Le formulaire contient des erreurs").wait_for()
    assert dialog.get_by_label("Nom", exact=True).get_attribute("aria-invalid") == "true"
    assert dialog.get_by_label("E-mail", exact=True).get_attribute("aria-invalid") == "true"
    screenshot(page, "04-client-erreurs")
    dialog.get_by_label("Nom", exact=True).fill("Zéphyrin")
    dialog.get_by_label("Prénom", exact=True).fill("Adèle")
    dialog.get_by_label("E-mail", exact=True).fill("adele.zephyrin@exemple.fr")
    dialog.get_by_label("Téléphone", exact=True).fill("06 12 34 56 78")
    dialog.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Client créé").wait_for()

    # 3. Google Contacts page: not connected yet, then the emulator's consent page.
    page.get_by_role("link", name="Google Contacts").click()
    status = page.get_by_test_id("connection-status")
    status.get_by_text("Non connecté").wait_for()
    screenshot(page, "05-google-non-connecte")
    with page.expect_request(lambda request: "/o/oauth2/" in request.url) as consent:
        page.get_by_role("button", name="Connecter Google").click()
    allow = page.get_by_role("button", name="Autoriser")
    connected = page.get_by_text("Google est connecté").first
    allow.or_(connected).wait_for()
    if allow.is_visible():  # the consent page (the demo may approve it by itself)
        screenshot(page, "06-consentement-google")
        allow.click()
    connected.wait_for()
    status.get_by_text("Connecté", exact=True).wait_for()

    # 4. The first sync: previewed by name before anything is written, then applied.
    first = page.get_by_test_id("first-sync-preview")
    first.wait_for(timeout=SYNC_TIMEOUT_MS)
    assert "ZÉPHYRIN Adèle" in first.inner_text()
    # This office brings every phone contact in, and a contact deleted in Google deletes
    # its client: saved, then previewed again before anything is written.
    choices = page.get_by_role("form", name="Choix de la première synchronisation")
    choices.get_by_role("radio", name=re.compile("Tous les contacts Google")).check()
    choices.get_by_label("Contact supprimé sur un téléphone").select_option("propagate")
    choices.get_by_role("button", name="Enregistrer ces choix et refaire l'aperçu").click()
    page.locator("[data-plan-group=atarys_create]").wait_for(timeout=SYNC_TIMEOUT_MS)
    page.get_by_role("button", name="Appliquer", exact=True).click()
    page.get_by_text("Première synchronisation appliquée").wait_for(timeout=SYNC_TIMEOUT_MS)
    emulator = server.emulator_url() or "{0.scheme}://{0.netloc}/".format(
        urlsplit(consent.value.url)
    )

    # 5. A phone edits a synced contact in Google; the preview shows it, per field.
    contacts = emulator_admin(emulator, "GET", "contacts")["contacts"]
    ours = next(
        c
        for c in contacts
        if any(
            e.get("value") == "adele.zephyrin@exemple.fr"
            for e in c["person"].get("emailAddresses") or []
        )
    )
    number = ours["resourceName"].split("/c")[-1]
    emulator_admin(
        emulator,
        "PATCH",
        f"contacts/{number}",
        {"phoneNumbers": [{"value": "+33 6 98 76 54 32"}]},
    )
    page.get_by_role("button", name="Aperçu", exact=True).click()
    preview = page.get_by_test_id("sync-preview")
    preview.wait_for(timeout=SYNC_TIMEOUT_MS)
    assert preview.get_by_test_id("change-item").count() > 0
    screenshot(page, "07-apercu")
    page.get_by_role("button", name="Fermer l'aperçu").click()

    # 6. Sync: the progress bar (the emulator is slowed down so it can be seen), then results
    # naming the people, per direction; the clients table shows the phone's edit.
    emulator_admin(emulator, "PUT", "faults", {"latency_ms": 600})
    try:
        sync_and_wait(page, shot="08-synchronisation-en-cours")
    finally:
        emulator_admin(emulator, "PUT", "faults", {"latency_ms": 0})
    result = page.get_by_test_id("sync-result")
    assert "Depuis Google :" in result.get_by_test_id("run-summary").inner_text()
    screenshot(page, "09-synchronisation-terminee")
    row = client_row(page, "adele.zephyrin@exemple.fr")
    page.locator("tbody tr", has_text="06 98 76 54 32").wait_for()
    screenshot(page, "10-clients-apres-synchro")
    assert "06 98 76 54 32" in row.inner_text()  # national format, as people write it

    # 7. A conflict: manual policy, the same field changed on both sides.
    page.get_by_role("link", name="Google Contacts").click()
    settings = page.get_by_role("form", name="Réglages de la synchronisation")
    settings.get_by_label("En cas de conflit").select_option("manual")
    settings.get_by_role("button", name="Enregistrer les réglages").click()
    page.get_by_text("Réglages enregistrés.").wait_for()
    assert settings.get_by_label("En cas de conflit").input_value() == "manual"
    screenshot(page, "11-reglages")

    emulator_admin(
        emulator,
        "PATCH",
        f"contacts/{number}",
        {"organizations": [{"name": "Côté Google SARL", "title": "Gérante"}]},
    )
    row = client_row(page, "adele.zephyrin@exemple.fr")
    row.get_by_role("button", name=re.compile("^Actions pour")).click()
    page.get_by_role("menuitem", name="Modifier").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Entreprise", exact=True).fill("Côté ATARYS SAS")
    dialog.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Client mis à jour").wait_for()

    page.get_by_role("link", name="Google Contacts").click()
    sync_and_wait(page)
    conflict = page.get_by_test_id("conflict").filter(has_text="Entreprise").first
    conflict.wait_for()
    conflict.get_by_text("Côté ATARYS SAS").wait_for()
    conflict.get_by_text("Côté Google SARL").wait_for()
    conflict.scroll_into_view_if_needed()
    screenshot(page, "12-conflit")

    # Keep neither: type another value.
    conflict.get_by_label("Autre valeur pour Entreprise").fill("Zéphyrin & Associés")
    conflict.get_by_role("button", name="Régler ce conflit").click()
    page.get_by_text("conflit réglé").wait_for()
    screenshot(page, "13-conflit-regle")
    sync_and_wait(page)
    row = client_row(page, "adele.zephyrin@exemple.fr")
    page.locator("tbody tr", has_text="Zéphyrin & Associés").wait_for()

    # 8. Runs history with its chart, and one run's detail.
    page.get_by_role("link", name="Google Contacts").click()
    history = page.locator("#historique")
    history.get_by_role("img").wait_for()
    assert history.locator("tbody tr").count() >= 3
    history.get_by_role("button", name=re.compile("Voir le détail")).first.click()
    page.get_by_test_id("run-detail").wait_for()
    screenshot(page, "14-detail-synchronisation")
    page.keyboard.press("Escape")

    # 9. Mass deletion in Google: the breaker stops the sync; forcing asks first.
    contacts = emulator_admin(emulator, "GET", "contacts")["contacts"]
    live = [c for c in contacts if not c["deleted"] and c["resourceName"] != ours["resourceName"]]
    for contact in live[: len(live) // 3]:
        emulator_admin(emulator, "DELETE", "contacts/" + contact["resourceName"].split("/c")[-1])
    page.get_by_role("button", name="Synchroniser avec Google Contacts").click()
    force = page.get_by_role("button", name="Forcer la synchronisation")
    force.wait_for(timeout=SYNC_TIMEOUT_MS)
    page.get_by_text("Synchronisation arrêtée par sécurité", exact=True).wait_for()
    screenshot(page, "15-suppressions-bloquees")
    force.click()
    confirm = page.get_by_role("dialog", name="Forcer la synchronisation ?")
    confirm.get_by_role("button", name="Annuler").click()
    confirm.wait_for(state="detached")
    force.click()
    page.get_by_role("button", name="Oui, forcer la synchronisation").click()
    result = page.get_by_test_id("sync-result")
    result.wait_for(timeout=SYNC_TIMEOUT_MS)
    assert "Depuis Google :" in result.get_by_test_id("run-summary").inner_text()
    assert "supprimé" in result.get_by_test_id("run-summary").inner_text()

    # 10. Disconnect; a sync then says Google is not connected and what to do.
    page.get_by_role("button", name="Déconnecter Google").click()
    page.get_by_role("dialog").get_by_role("button", name="Déconnecter Google").click()
    status.get_by_text("Non connecté").wait_for()
    row = client_row(page, "adele.zephyrin@exemple.fr")
    row.get_by_role("button", name=re.compile("^Actions pour")).click()
    page.get_by_role("menuitem", name="Synchroniser avec Google").click()
    page.get_by_role("alert").get_by_text("Google n'est pas connecté").wait_for()
    screenshot(page, "16-erreur-google-non-connecte")


def test_keyboard_only(page: Any, server: Server) -> None:
    """Log in, open a client, close it with Escape and sync one client, keyboard only."""
    page.goto(server.url + "/")
    page.get_by_label("Identifiant").focus()
    page.keyboard.type(server.username)
    page.keyboard.press("Tab")
    page.keyboard.type(server.password)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Clients", level=1).wait_for()
    page.locator("tbody tr").first.wait_for()

    menu = page.get_by_role("button", name=re.compile("^Actions pour")).first
    menu.focus()
    page.keyboard.press("Enter")
    page.get_by_role("menuitem", name="Modifier").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.name") == "nom"
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")

    menu.focus()
    page.keyboard.press("Enter")
    page.get_by_role("menuitem", name="Synchroniser avec Google").focus()
    page.keyboard.press("Enter")
    notice = page.get_by_role("status").filter(has_text=re.compile("Google|connect", re.I)).first
    notice.or_(page.get_by_role("alert").first).wait_for()
    screenshot(page, "17-clients-synchroniser-au-clavier")
