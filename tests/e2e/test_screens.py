"""Every office screen in Chromium at 1280 px and 375 px, against ``serve --demo``.

A client given an « Étiquette » in the form keeps it after a reload (and is found by it);
then each page and panel (login, clients, client form, Google Contacts: connection, first
sync, sync, preview, conflicts, duplicates, history, undo, trash, settings; Téléphones;
the clients' trash) is shown at both widths, never wider than a phone's screen.
Screenshots ``docs/screenshots/40-*`` onward.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from e2e.harness import DESKTOP, PHONE, SCREENSHOTS, Server, assert_no_horizontal_scroll
from e2e.test_flow import SYNC_TIMEOUT_MS, client_row, emulator_admin, log_in, sync_and_wait

pytestmark = pytest.mark.e2e

TAGGED = "ines.marchal@exemple.fr"
# the second test's own clients (each test runs alone too)
LEA = "lea.vidal@exemple.fr"
PAUL = "paul.royer@exemple.fr"


def shots(
    page: Any, name: str, part: Any = None, *, dialog: bool = False, show: Any = None
) -> list[Path]:
    """``name``-desktop.png and ``name``-phone.png: the whole page, one panel (``part``), or
    what is on screen (``dialog``: a modal covers the screen, its buttons stay in sight).
    ``show``: scrolled into sight first. At phone width nothing may stick out past the
    screen's edge."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    saved = []
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(200)
        if show is not None:
            show.scroll_into_view_if_needed()
        path = SCREENSHOTS / f"{name}-{label}.png"
        if part is not None:
            part.scroll_into_view_if_needed()
            part.screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=not dialog)
        if label == "phone":
            assert_no_horizontal_scroll(page, name)
        saved.append(path)
    page.set_viewport_size(DESKTOP)
    return saved


def open_client(page: Any, email: str) -> Any:
    row = client_row(page, email)
    row.get_by_role("button", name=re.compile("^Actions pour")).click()
    page.get_by_role("menuitem", name="Modifier").click()
    return page.get_by_role("dialog")


def new_client(page: Any, nom: str, prenom: str, email: str, tag: str = "") -> Any:
    page.get_by_role("button", name="Nouveau client").click()
    dialog = page.get_by_role("dialog", name="Nouveau client")
    dialog.get_by_label("Nom", exact=True).fill(nom)
    dialog.get_by_label("Prénom", exact=True).fill(prenom)
    dialog.get_by_label("E-mail", exact=True).fill(email)
    dialog.get_by_label("Ville", exact=True).fill("Lyon")
    if tag:
        dialog.get_by_label("Étiquette", exact=True).fill(tag)
    return dialog


def test_a_tag_typed_in_the_client_form_is_kept(page: Any, fresh_server: Server) -> None:
    log_in(page, fresh_server)
    dialog = new_client(page, "Marchal", "Inès", TAGGED, "chantier-nord")
    # The field says what it is for.
    tag = dialog.get_by_label("Étiquette", exact=True)
    described = tag.get_attribute("aria-describedby") or ""
    hint = " ".join(page.locator(f"[id='{i}']").inner_text() for i in described.split())
    assert "téléphones de l'équipe reçoivent ce client" in hint
    shots(page, "40-client-etiquette", dialog=True, show=tag)
    dialog.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Client créé").wait_for()

    page.reload()
    row = client_row(page, TAGGED)
    assert row.get_by_test_id("client-tag").inner_text().split() == [
        "Étiquette",
        ":",
        "chantier-nord",
    ]
    dialog = open_client(page, TAGGED)
    assert dialog.get_by_label("Étiquette", exact=True).input_value() == "chantier-nord"
    dialog.get_by_role("button", name="Annuler").click()

    # The tag finds the client; emptying the field takes it off.
    page.get_by_label("Rechercher").fill("chantier-nord")
    page.locator("tbody tr", has_text=TAGGED).wait_for()
    page.wait_for_function("() => document.querySelectorAll('tbody tr').length === 1")
    shots(page, "41-clients-etiquette")
    dialog = open_client(page, TAGGED)
    dialog.get_by_label("Étiquette", exact=True).fill("")
    dialog.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Client mis à jour").wait_for()
    page.reload()
    assert client_row(page, TAGGED).get_by_test_id("client-tag").count() == 0


def test_every_screen_fits_a_phone_and_a_desktop(page: Any, fresh_server: Server) -> None:
    server = fresh_server
    page.goto(server.url + "/")
    page.get_by_role("button", name="Se connecter").wait_for()
    shots(page, "42-connexion")
    log_in(page, server)
    for nom, prenom, email in (("Vidal", "Léa", LEA), ("Royer", "Paul", PAUL)):
        new_client(page, nom, prenom, email).get_by_role("button", name="Enregistrer").click()
        page.get_by_text("Client créé").wait_for()
    page.reload()
    page.locator("tbody tr").first.wait_for()
    shots(page, "43-clients")

    # Google Contacts before connecting, then the first sync's review.
    page.get_by_role("link", name="Google Contacts").click()
    page.get_by_test_id("connection-status").get_by_text("Non connecté").wait_for()
    shots(page, "44-google-non-connecte")
    page.get_by_role("button", name="Connecter Google").click()
    allow = page.get_by_role("button", name="Autoriser")
    allow.or_(page.get_by_text("Google est connecté").first).wait_for()
    if allow.is_visible():
        allow.click()
    first = page.get_by_test_id("first-sync-preview")
    first.wait_for(timeout=SYNC_TIMEOUT_MS)
    shots(page, "45-premiere-synchronisation", page.locator("section", has=first).first)
    page.get_by_role("button", name="Appliquer", exact=True).click()
    page.get_by_test_id("plan-applied").wait_for(timeout=SYNC_TIMEOUT_MS)
    shots(page, "46-google-connecte")

    # A phone edits a contact: the preview names it.
    emulator = server.emulator_url()
    assert emulator is not None
    contacts = emulator_admin(emulator, "GET", "contacts")["contacts"]

    def number(email: str) -> str:
        found = next(
            c
            for c in contacts
            if any(e.get("value") == email for e in c["person"].get("emailAddresses") or [])
        )
        return str(found["resourceName"].split("/c")[-1])

    emulator_admin(
        emulator, "PATCH", f"contacts/{number(PAUL)}", {"phoneNumbers": [{"value": "0698765432"}]}
    )
    page.get_by_role("button", name="Aperçu", exact=True).click()
    preview = page.get_by_test_id("sync-preview")
    preview.wait_for(timeout=SYNC_TIMEOUT_MS)
    assert "ROYER Paul" in preview.inner_text()
    shots(page, "47-apercu", preview)
    page.get_by_role("button", name="Fermer l'aperçu").click()

    # A conflict: the same field changed on both sides, the office decides.
    settings = page.get_by_role("form", name="Réglages de la synchronisation")
    settings.get_by_label("En cas de conflit").select_option("manual")
    settings.get_by_role("button", name="Enregistrer les réglages").click()
    page.get_by_text("Réglages enregistrés.").wait_for()
    shots(page, "48-reglages", page.locator("#reglages"))
    emulator_admin(
        emulator,
        "PATCH",
        f"contacts/{number(LEA)}",
        {"organizations": [{"name": "Côté Google SARL"}]},
    )
    dialog = open_client(page, LEA)
    dialog.get_by_label("Entreprise", exact=True).fill("Côté ATARYS SAS")
    dialog.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Client mis à jour").wait_for()
    page.get_by_role("link", name="Google Contacts").click()
    sync_and_wait(page)
    conflict = page.get_by_test_id("conflict").filter(has_text="VIDAL Léa")
    conflict.get_by_text("Côté Google SARL").wait_for()
    shots(page, "49-synchronisation-et-conflit", page.locator("#synchronisation"))
    shots(page, "50-conflit", page.locator("#conflits"))
    shots(page, "51-doublons", page.locator("#doublons"))

    # History: one run's detail, and the undo preview.
    history = page.locator("#historique")
    history.get_by_role("button", name=re.compile("Voir le détail")).first.click()
    page.get_by_test_id("run-detail").wait_for()
    shots(page, "52-detail-synchronisation", dialog=True)
    page.keyboard.press("Escape")
    shots(page, "53-historique", history)
    history.get_by_role("button", name=re.compile("Annuler")).first.click()
    undo = page.get_by_test_id("undo-dialog")
    undo.get_by_test_id("plan-view").or_(undo.get_by_text("rien à remettre")).wait_for(
        timeout=SYNC_TIMEOUT_MS
    )
    shots(page, "54-annuler-synchronisation", dialog=True)
    page.get_by_role("button", name="Ne rien changer").click()

    # A client deleted in ATARYS: its contact goes to the Google trash, the client to the
    # clients' trash.
    row = client_row(page, PAUL)
    row.get_by_role("button", name=re.compile("^Actions pour")).click()
    page.get_by_role("menuitem", name="Supprimer").click()
    page.get_by_role("dialog").get_by_role("button", name="Supprimer").click()
    page.get_by_text("Client supprimé").wait_for()
    page.get_by_role("button", name="Corbeille").click()
    page.get_by_test_id("clients-trash").get_by_text("ROYER Paul").wait_for()
    shots(page, "55-corbeille-clients", dialog=True)
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Google Contacts").click()
    sync_and_wait(page)
    page.get_by_test_id("google-trash").get_by_text("ROYER Paul").wait_for()
    shots(page, "56-corbeille-google", page.locator("#corbeille"))

    # Téléphones de l'équipe: the account, its filter form, connecting another phone.
    page.get_by_role("link", name="Téléphones de l'équipe").click()
    card = page.get_by_test_id("account").first
    card.wait_for()
    shots(page, "57-telephones")
    card.get_by_role("button", name="Modifier les réglages").click()
    card.get_by_label("Étiquette", exact=True).fill("chantier-nord")
    shots(page, "58-telephone-filtre-etiquette", card)
    card.get_by_role("button", name="Enregistrer les réglages").click()
    # nobody carries that tag yet: every contact would leave the phone, named, once confirmed
    confirm = page.get_by_role("dialog", name=re.compile(r"^Retirer \d+ contacts? de ce"))
    confirm.wait_for()
    shots(page, "58b-filtre-a-confirmer", dialog=True)
    confirm.get_by_role("button", name="Appliquer le filtre").click()
    card.get_by_test_id("account-filter").get_by_text("Étiquette : chantier-nord").wait_for()
    page.get_by_role("button", name="Connecter un autre téléphone").click()
    page.get_by_role("dialog", name="Connecter un autre téléphone").wait_for()
    shots(page, "59-connecter-un-autre-telephone", dialog=True)
    page.keyboard.press("Escape")
