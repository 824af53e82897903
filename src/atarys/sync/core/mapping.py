"""Google Person JSON ↔ ``Record``: reading the mapped entries, writing only those.

Import reads the primary (or else first) entry of each list. An update touches only
the entries that carry a changed mapped value, so everything Google-only survives:
other e-mails, phones, addresses and organizations, birthdays, notes, photos,
memberships, other apps' ``clientData``. Each Person field named in the update mask is
replaced whole by Google, which is why the untouched entries are sent back as they were.
"""

from __future__ import annotations

import copy
from typing import Any

from atarys.sync.core.records import FIELDS, Record, normalize_value

CLIENT_DATA_KEY = "atarys_client_id"
# Every Person field the sync reads or must send back whole.
PERSON_FIELDS = (
    "names,emailAddresses,phoneNumbers,addresses,organizations,clientData,memberships,metadata"
)
# Which Person field carries each mapped field.
PERSON_FIELD_OF: dict[str, str] = {
    "nom": "names",
    "prenom": "names",
    "email": "emailAddresses",
    "telephone": "phoneNumbers",
    "adresse": "addresses",
    "ville": "addresses",
    "code_postal": "addresses",
    "entreprise": "organizations",
    "fonction": "organizations",
}
_OUTPUT_ONLY_NAME_KEYS = ("displayName", "displayNameLastFirst", "unstructuredName")

Person = dict[str, Any]


def _primary_index(entries: list[dict[str, Any]]) -> int | None:
    """Index of the primary entry, or of the first one; ``None`` for an empty list."""
    if not entries:
        return None
    for i, entry in enumerate(entries):
        if entry.get("metadata", {}).get("primary"):
            return i
    return 0


def _primary(person: Person, key: str) -> dict[str, Any]:
    entries = person.get(key) or []
    i = _primary_index(entries)
    return {} if i is None else dict(entries[i])


def _text(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def person_to_record(person: Person) -> Record:
    """The mapped fields of a Person (raw, not normalized)."""
    name = _primary(person, "names")
    email = _primary(person, "emailAddresses")
    phone = _primary(person, "phoneNumbers")
    address = _primary(person, "addresses")
    org = _primary(person, "organizations")
    street = _text(address, "streetAddress")
    has_parts = any(address.get(k) for k in ("city", "postalCode", "region", "country"))
    adresse = street if street or has_parts else _text(address, "formattedValue")
    return Record(
        nom=_text(name, "familyName"),
        prenom=_text(name, "givenName"),
        email=_text(email, "value"),
        telephone=_text(phone, "canonicalForm") or _text(phone, "value"),
        adresse=adresse,
        ville=_text(address, "city"),
        code_postal=_text(address, "postalCode"),
        entreprise=_text(org, "name"),
        fonction=_text(org, "title"),
    )


def client_id_of(person: Person) -> str | None:
    """The ATARYS client id we wrote in the contact's ``clientData``, if any."""
    for entry in person.get("clientData") or []:
        if entry.get("key") == CLIENT_DATA_KEY and isinstance(entry.get("value"), str):
            return str(entry["value"])
    return None


def update_time(person: Person) -> str | None:
    """``updateTime`` of the CONTACT source (RFC 3339), where Google keeps it."""
    for source in (person.get("metadata") or {}).get("sources") or []:
        if source.get("type") == "CONTACT" and isinstance(source.get("updateTime"), str):
            return str(source["updateTime"])
    return None


def is_deleted(person: Person) -> bool:
    """A sync-token listing marks deleted contacts with ``metadata.deleted``."""
    return bool((person.get("metadata") or {}).get("deleted"))


def previous_resource_names(person: Person) -> list[str]:
    return [str(n) for n in (person.get("metadata") or {}).get("previousResourceNames") or []]


def group_names(person: Person) -> set[str]:
    """Resource names of the contact groups the person belongs to."""
    names: set[str] = set()
    for m in person.get("memberships") or []:
        group = (m.get("contactGroupMembership") or {}).get("contactGroupResourceName")
        if isinstance(group, str):
            names.add(group)
    return names


def _set_client_data(person: Person, client_id: str) -> bool:
    """Put ``atarys_client_id`` in ``clientData``, keeping other keys; True when it changed."""
    entries = [dict(e) for e in person.get("clientData") or []]
    for entry in entries:
        if entry.get("key") == CLIENT_DATA_KEY:
            if entry.get("value") == client_id:
                return False
            entry["value"] = client_id
            person["clientData"] = entries
            return True
    entries.append({"key": CLIENT_DATA_KEY, "value": client_id})
    person["clientData"] = entries
    return True


def _edit_primary(
    person: Person, key: str, values: dict[str, str | None], *, drop: tuple[str, ...] = ()
) -> None:
    """Set ``values`` on the primary entry of ``person[key]`` (created if missing).

    An entry left with no mapped value and nothing else of its own is removed.
    """
    entries = [dict(e) for e in person.get(key) or []]
    i = _primary_index(entries)
    if i is None:
        if all(v is None for v in values.values()):
            return
        entries.append({})
        i = len(entries) - 1
    entry = entries[i]
    for k in drop:
        entry.pop(k, None)
    for k, v in values.items():
        if v is None:
            entry.pop(k, None)
        else:
            entry[k] = v
    own = {k for k in entry if k not in ("metadata", "type", "formattedType")}
    if not own:
        del entries[i]
    person[key] = entries


def _changed(current: Record, target: Record, region: str) -> set[str]:
    return {
        n
        for n in FIELDS
        if normalize_value(n, current.get(n), region) != normalize_value(n, target.get(n), region)
    }


def apply_record(
    person: Person, target: Record, client_id: str | None, region: str = "FR"
) -> tuple[Person, list[str]]:
    """``person`` with ``target`` written into its mapped entries, and the update mask.

    Only entries whose normalized value differs are touched; the mask lists the Person
    fields to send (empty: nothing to write). ``client_id`` (when given) is written into
    ``clientData``. The result keeps ``etag`` and ``resourceName`` for a conditional update.
    """
    body: Person = copy.deepcopy(person)
    current = person_to_record(person)
    changed = _changed(current, target, region)
    mask: set[str] = {PERSON_FIELD_OF[n] for n in changed}

    def pick(name: str) -> str | None:
        return target.get(name) if name in changed else current.get(name)

    if "names" in mask:
        names = {"familyName": pick("nom"), "givenName": pick("prenom")}
        _edit_primary(body, "names", names, drop=_OUTPUT_ONLY_NAME_KEYS)
    if "emailAddresses" in mask:
        _edit_primary(body, "emailAddresses", {"value": target.email})
    if "phoneNumbers" in mask:
        _edit_primary(body, "phoneNumbers", {"value": target.telephone}, drop=("canonicalForm",))
    if "addresses" in mask:
        # formattedValue is rebuilt by Google from the parts; the street keeps adresse.
        parts = {
            "streetAddress": pick("adresse"),
            "city": pick("ville"),
            "postalCode": pick("code_postal"),
        }
        _edit_primary(body, "addresses", parts, drop=("formattedValue",))
    if "organizations" in mask:
        org = {"name": pick("entreprise"), "title": pick("fonction")}
        _edit_primary(body, "organizations", org)
    if client_id is not None and _set_client_data(body, client_id):
        mask.add("clientData")
    ordered = [f for f in PERSON_FIELDS.split(",") if f in mask]
    return body, ordered


def record_to_person(record: Record, client_id: str | None, group: str | None = None) -> Person:
    """A new contact's body from a record (for ``createContact``)."""
    body, _ = apply_record({}, record, client_id)
    if group:
        body["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": group}}]
    return body
