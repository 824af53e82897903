"""« Téléphones de l'équipe » in Chromium against ``serve --demo``: the linked Google
accounts listed by e-mail, one's client filter edited and saved, kept after a reload.
Screenshots (1280 px and 375 px) under ``docs/screenshots/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from e2e.harness import Server, screenshot
from e2e.test_flow import log_in
from e2e.test_live_status import connect_and_apply_first_sync

pytestmark = pytest.mark.e2e


def test_phones_page_lists_accounts_and_saves_a_filter(page: Any, fresh_server: Server) -> None:
    log_in(page, fresh_server)
    connect_and_apply_first_sync(page)

    page.get_by_role("link", name="Téléphones de l'équipe").click()
    page.get_by_role("heading", name="Téléphones de l'équipe", level=1).wait_for()
    card = page.get_by_test_id("account").filter(has_text="demo@example.com")
    card.wait_for()
    assert card.get_by_text("Connecté", exact=True).is_visible()
    assert "Tous les clients" in card.get_by_test_id("account-filter").inner_text()
    assert re.search(r"Dernière synchronisation\s+\d\d/\d\d/\d{4}", card.inner_text())
    screenshot(page, "31-telephones-de-l-equipe")

    card.get_by_role("button", name="Modifier les réglages").click()
    form = card.get_by_role("form", name="Réglages de demo@example.com")
    form.get_by_label("Ville", exact=True).fill("Lyon")
    form.get_by_label("Étiquette", exact=True).fill("chantier-nord")
    form.get_by_label("En cas de conflit").select_option("manual")
    screenshot(page, "32-telephone-reglages")
    form.get_by_role("button", name="Enregistrer les réglages").click()
    # the narrower filter takes contacts off this phone: named, and nothing saved unconfirmed
    confirm = page.get_by_role(
        "dialog", name=re.compile(r"^Retirer \d+ contacts? de ce téléphone \?$")
    )
    confirm.wait_for()
    assert "Les clients restent dans ATARYS" in confirm.inner_text()
    assert "Rien n'est enregistré" in confirm.inner_text()
    screenshot(page, "32b-filtre-a-confirmer")
    confirm.get_by_role("button", name="Appliquer le filtre").click()
    card.get_by_text("Réglages du téléphone demo@example.com enregistrés.").wait_for()
    filter_text = card.get_by_test_id("account-filter")
    filter_text.get_by_text("Ville : Lyon · Étiquette : chantier-nord").wait_for()

    page.reload()
    card = page.get_by_test_id("account").filter(has_text="demo@example.com")
    card.get_by_test_id("account-filter").get_by_text(
        "Ville : Lyon · Étiquette : chantier-nord"
    ).wait_for()
    assert "Me demander (réglage manuel)" in card.inner_text()

    # Connecting another phone asks for an optional e-mail first; disconnecting names the e-mail.
    page.get_by_role("button", name="Connecter un autre téléphone").click()
    dialog = page.get_by_role("dialog", name="Connecter un autre téléphone")
    dialog.get_by_label("Adresse e-mail du compte Google (facultatif)").fill("chantier@example.com")
    screenshot(page, "33-connecter-un-autre-telephone")
    dialog.get_by_role("button", name="Annuler").click()
    card.get_by_role("button", name="Déconnecter").click()
    page.get_by_role("dialog", name="Déconnecter demo@example.com ?").get_by_role(
        "button", name="Annuler"
    ).click()
    assert page.get_by_test_id("account").count() >= 1
