"""Realistic French contacts for the emulator's ``--seed N`` and ``POST /_emulator/seed``.

Deterministic for a given random seed. The mix: most contacts have a name, an
e-mail and a mobile; some have several e-mails or phones, an address, an
organization or a note; about one in eight has no e-mail; about one in twenty
is an earlier contact entered a second time (same name and e-mail: a duplicate).
"""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from atarys.emulator.models import EmulatorState
from atarys.emulator.wire import parse_person

GIVEN_NAMES = (
    "Jean", "Marie", "Pierre", "Sophie", "Luc", "Camille", "Nicolas", "Julie", "François",
    "Isabelle", "Antoine", "Céline", "Thomas", "Nathalie", "Hélène", "Mathieu", "Élodie",
    "Philippe", "Chloé", "Guillaume", "Aurélie", "Benoît", "Léa", "Sébastien", "Amélie",
    "Jérôme", "Manon", "Olivier", "Margaux", "Stéphane", "Anaïs", "Rémi", "Clémence", "Noël",
)  # fmt: skip
FAMILY_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément",
)  # fmt: skip
STREETS = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta",
    "place de la Mairie", "rue des Écoles", "chemin des Vignes", "rue Pasteur",
    "allée des Tilleuls", "rue du Moulin",
)  # fmt: skip
CITIES = (
    ("75011", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"), ("31000", "Toulouse"),
    ("33000", "Bordeaux"), ("44000", "Nantes"), ("67000", "Strasbourg"), ("59000", "Lille"),
    ("35000", "Rennes"), ("34000", "Montpellier"), ("06000", "Nice"), ("21000", "Dijon"),
)  # fmt: skip
COMPANIES = (
    "Menuiserie Durand", "Boulangerie du Centre", "Cabinet Moreau & Associés", "SARL Bâtiplus",
    "Atelier Lefèvre", "Crédit Régional", "Mairie de Villeneuve", "Garage des Alpes",
)  # fmt: skip
TITLES = ("Gérant", "Comptable", "Architecte", "Artisan", "Directrice", "Secrétaire")
DOMAINS = ("gmail.com", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr", "yahoo.fr")
NOTES = (
    "Client depuis 2015.",
    "Préfère être appelé le matin.",
    "Devis envoyé, relancer en septembre.",
    "Rencontré au salon de l'habitat.",
)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower().replace(" ", "").replace("'", "")


def _phone(rng: random.Random, mobile: bool) -> str:
    first = rng.choice("67") if mobile else rng.choice("12345")
    digits = [f"0{first}"] + [f"{rng.randrange(100):02d}" for _ in range(4)]
    style = rng.randrange(3)
    if style == 0:
        return " ".join(digits)
    if style == 1:
        return ".".join(digits)
    return "+33 " + digits[0][1] + " " + " ".join(digits[1:])


def fake_person(
    rng: random.Random, index: int, previous: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """One realistic French contact as a People API Person body (``previous``: the
    e-mail, given and family names of the contacts made before)."""
    given = rng.choice(GIVEN_NAMES)
    family = rng.choice(FAMILY_NAMES)
    roll = rng.random()
    emails: list[dict[str, str]] = []
    if roll < 0.05 and previous:
        # the same person entered twice (a colleague sharing an address would have
        # another name: that is not a duplicate)
        email, given, family = rng.choice(previous)
        emails.append({"value": email, "type": "home"})
    elif roll >= 0.125:
        base = f"{_ascii(given)}.{_ascii(family)}"
        suffix = str(index) if rng.random() < 0.5 else ""
        emails.append({"value": f"{base}{suffix}@{rng.choice(DOMAINS)}", "type": "home"})
        if rng.random() < 0.2:
            emails.append({"value": f"{base[0]}.{_ascii(family)}@entreprise.fr", "type": "work"})
    person: dict[str, Any] = {"names": [{"givenName": given, "familyName": family}]}
    if emails:
        person["emailAddresses"] = emails
        previous.append((emails[0]["value"], given, family))
    phones = [{"value": _phone(rng, mobile=True), "type": "mobile"}]
    if rng.random() < 0.25:
        phones.append({"value": _phone(rng, mobile=False), "type": "home"})
    if rng.random() < 0.9:
        person["phoneNumbers"] = phones
    if rng.random() < 0.4:
        postal, city = rng.choice(CITIES)
        person["addresses"] = [
            {
                "streetAddress": f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
                "postalCode": postal,
                "city": city,
                "country": "France",
                "countryCode": "FR",
                "type": "home",
            }
        ]
    if rng.random() < 0.3:
        person["organizations"] = [{"name": rng.choice(COMPANIES), "title": rng.choice(TITLES)}]
    if rng.random() < 0.15:
        person["biographies"] = [{"value": rng.choice(NOTES), "contentType": "TEXT_PLAIN"}]
    return person


def seed_contacts(
    state: EmulatorState, email: str, count: int, *, random_seed: int | None = None
) -> int:
    """Create ``count`` French contacts for ``email`` (caller holds the lock); returns count."""
    rng = random.Random(f"atarys-seed:{random_seed if random_seed is not None else count}")
    previous: list[tuple[str, str, str]] = [
        (
            str(e["value"]),
            str(n.get("givenName") or ""),
            str(n.get("familyName") or ""),
        )
        for c in state.user(email).live_contacts()
        for e in c.fields.get("emailAddresses", [])[:1]
        for n in (c.fields.get("names") or [{}])[:1]
    ]
    created = 0
    while created < count:
        chunk = []
        for index in range(created, min(count, created + 500)):
            fields, groups, _ = parse_person(fake_person(rng, index, previous))
            if rng.random() < 0.05:
                groups = ["myContacts", "starred"]
            chunk.append((fields, groups))
        state.create_contacts(email, chunk)
        created += len(chunk)
    return created
