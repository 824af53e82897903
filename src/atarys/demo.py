"""Demo data: a few dozen realistic French clients, written once into an empty database."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atarys.models import Client
from atarys.normalize import normalize_phone

FIRST_NAMES = [
    "Jean", "Marie", "Pierre", "Sophie", "Luc", "Camille", "Nicolas", "Julie", "Antoine",
    "Claire", "François", "Isabelle", "Thomas", "Élodie", "Mathieu", "Céline", "Olivier",
    "Nathalie", "Sébastien", "Hélène", "Laurent", "Amélie", "Guillaume", "Chloé",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
]  # fmt: skip
CITIES = [
    ("Paris", "75011"), ("Lyon", "69003"), ("Marseille", "13008"), ("Toulouse", "31000"),
    ("Nantes", "44000"), ("Bordeaux", "33000"), ("Lille", "59000"), ("Rennes", "35000"),
    ("Strasbourg", "67000"), ("Montpellier", "34000"), ("Grenoble", "38000"), ("Dijon", "21000"),
]  # fmt: skip
STREETS = [
    "rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "rue Pasteur",
    "place de la Mairie", "chemin des Vignes", "rue du Moulin", "allée des Tilleuls",
]  # fmt: skip
COMPANIES = [
    "Bâtiments Durand SARL", "Menuiserie Leroy", "SCI Les Acacias", "Cabinet Moreau Architectes",
    "Électricité Générale du Sud", "Plomberie Fournier", None, None, "Mairie de Saint-Ouen",
    "Promotion Immobilière Girard", None, "Charpentes Mercier",
]  # fmt: skip
TITLES = ["Gérant", "Architecte", "Conducteur de travaux", "Propriétaire", "Directrice", None]


def demo_clients(count: int, seed: int = 42) -> list[dict[str, str | None]]:
    """``count`` distinct, plausible clients (deterministic for a given ``seed``)."""
    rng = random.Random(seed)
    clients: list[dict[str, str | None]] = []
    used: set[str] = set()
    while len(clients) < count:
        prenom, nom = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        ville, code_postal = rng.choice(CITIES)
        base = f"{prenom}.{nom}".lower()
        for a, b in (("é", "e"), ("è", "e"), ("ç", "c"), ("è", "e"), ("ë", "e")):
            base = base.replace(a, b)
        email = f"{base}{len(clients)}@exemple.fr" if base in used else f"{base}@exemple.fr"
        used.add(base)
        phone = f"0{rng.choice('67')}{rng.randrange(10**8):08d}"
        company = rng.choice(COMPANIES)
        clients.append(
            {
                "nom": nom,
                "prenom": prenom,
                "email": email if rng.random() > 0.1 else None,
                "telephone": normalize_phone(phone),
                "adresse": f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
                "ville": ville,
                "code_postal": code_postal,
                "entreprise": company,
                "fonction": rng.choice(TITLES) if company else None,
            }
        )
    return clients


def seed_demo_clients(session: Session, count: int = 40) -> int:
    """Insert demo clients when the clients table is empty; returns how many were added."""
    if session.scalar(select(func.count()).select_from(Client)):
        return 0
    for values in demo_clients(count):
        session.add(Client(**values))
    session.commit()
    return count
