"""Deterministic benchmark data: N clients, N contacts, and how they overlap by e-mail."""

from __future__ import annotations

from typing import Any

from atarys.demo import CITIES, COMPANIES, FIRST_NAMES, LAST_NAMES, STREETS


def client_values(i: int) -> dict[str, str | None]:
    """The i-th benchmark client (unique e-mail ``client{i}@bench.fr``)."""
    ville, code_postal = CITIES[i % len(CITIES)]
    company = COMPANIES[i % len(COMPANIES)]
    return {
        "nom": LAST_NAMES[i % len(LAST_NAMES)],
        "prenom": FIRST_NAMES[(i // len(LAST_NAMES)) % len(FIRST_NAMES)],
        "email": f"client{i}@bench.fr",
        "telephone": f"+336{i:08d}",
        "adresse": f"{i % 120 + 1} {STREETS[i % len(STREETS)]}",
        "ville": ville,
        "code_postal": code_postal,
        "entreprise": company,
        "fonction": "Gérant" if company else None,
    }


def contact_person(i: int, *, shared: bool) -> dict[str, Any]:
    """The i-th Google contact; ``shared`` ones carry client i's e-mail, others their own."""
    values = client_values(i)
    email = values["email"] if shared else f"contact{i}@gmail.bench"
    return {
        "names": [{"givenName": values["prenom"], "familyName": values["nom"]}],
        "emailAddresses": [{"value": email, "type": "home"}],
        "phoneNumbers": [
            {
                "value": f"06 {i // 10**6 % 100:02d} {i // 10**4 % 100:02d} "
                f"{i // 100 % 100:02d} {i % 100:02d}",
                "type": "mobile",
            }
        ],
        "addresses": [
            {"city": values["ville"], "postalCode": values["code_postal"], "type": "work"}
        ],
        "birthdays": [{"date": {"year": 1980, "month": 1 + i % 12, "day": 1 + i % 28}}],
    }
