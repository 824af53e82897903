"""Google Person JSON ↔ ``Record``: reading the mapped entries, writing only those.

Import reads the primary (or else first) entry of each list. An update touches only
the entries that carry a changed mapped value, so everything Google-only survives:
other e-mails, phones, addresses and organizations, birthdays, notes, photos,
memberships, other apps' ``clientData``. Each Person field named in the update mask is
replaced whole by Google, which is why the untouched entries are sent back as they were.

**Bound entries.** When a contact has several e-mails (phones, addresses,
organizations), a client field maps to *one* of them: the entry the sync wrote. Each
write that leaves other entries beside it records, in ``clientData`` (key
``atarys_entries``), a short fingerprint of that entry and of the others (hashes of
normalized values, never the values). Reading then takes the bound entry, else an entry
that is new or edited since (not one of the recorded others), else nothing: clearing
the e-mail in ATARYS removes its entry and never pulls in the personal e-mail beside
it. Contacts without the record read the primary entry, as before.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from atarys.normalize import (
    clean_text,
    split_french_address,
    strip_controls,
    valid_email,
    valid_phone,
)
from atarys.sync.core.records import FIELD_LENGTHS, FIELDS, Record, normalize_value

CLIENT_DATA_KEY = "atarys_client_id"
ENTRIES_KEY = "atarys_entries"
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
# Person fields holding lists of sourced entries.
_ENTRY_FIELDS = ("names", "emailAddresses", "phoneNumbers", "addresses", "organizations")
_OUTPUT_ONLY_NAME_KEYS = ("displayName", "displayNameLastFirst", "unstructuredName")

Person = dict[str, Any]


def is_contact_entry(entry: dict[str, Any]) -> bool:
    """An entry of the contact itself (``metadata.source.type`` CONTACT, or no source).

    Google merges PROFILE data (a verified e-mail, a profile name...) into its answers;
    those entries are not the contact's, are ignored on write, and are never mapped.
    """
    source = (entry.get("metadata") or {}).get("source") or {}
    return source.get("type") in (None, "CONTACT")


def _own(person: Person, key: str) -> list[dict[str, Any]]:
    """The contact's own entries of ``person[key]`` (profile entries left out)."""
    return [dict(e) for e in person.get(key) or [] if isinstance(e, dict) and is_contact_entry(e)]


def _primary_index(entries: list[dict[str, Any]]) -> int | None:
    """Index of the primary entry (else the source's primary, else the first); ``None``
    for an empty list."""
    if not entries:
        return None
    for flag in ("primary", "sourcePrimary"):
        for i, entry in enumerate(entries):
            if (entry.get("metadata") or {}).get(flag):
                return i
    return 0


# Person fields whose entries a client field is bound to (names: always the primary).
_BOUND_FIELDS = ("emailAddresses", "phoneNumbers", "addresses", "organizations")
Binding = dict[str, tuple[str | None, frozenset[str]]]
"""Person field → (fingerprint of the sync's entry or ``None``, fingerprints of the others)."""


def _fingerprint(key: str, entry: dict[str, Any], region: str) -> str:
    """A short hash of an entry's normalized mapped value(s): the same for a reformatted
    phone or an e-mail in capitals, never the value itself."""
    if key == "emailAddresses":
        parts = [normalize_value("email", _text(entry, "value"), region)]
    elif key == "phoneNumbers":
        raw = _text(entry, "canonicalForm") or _text(entry, "value")
        parts = [normalize_value("telephone", raw, region)]
    elif key == "addresses":
        parts = [
            normalize_value("adresse", _text(entry, "streetAddress"), region),
            normalize_value("ville", _text(entry, "city"), region),
            normalize_value("code_postal", _text(entry, "postalCode"), region),
            clean_text(_text(entry, "formattedValue")),
        ]
    else:
        parts = [
            normalize_value("entreprise", _text(entry, "name"), region),
            normalize_value("fonction", _text(entry, "title"), region),
        ]
    text = "\x1f".join(p or "" for p in parts).casefold()
    return hashlib.blake2b(text.encode(), digest_size=5).hexdigest()


def _binding(person: Person) -> Binding:
    """The bound entries recorded in ``clientData`` (an unreadable record is ignored)."""
    for entry in person.get("clientData") or []:
        if entry.get("key") != ENTRIES_KEY or not isinstance(entry.get("value"), str):
            continue
        try:
            data = json.loads(entry["value"])
        except ValueError:
            return {}
        out: Binding = {}
        if isinstance(data, dict):
            for key, value in data.items():
                if key in _BOUND_FIELDS and isinstance(value, list) and len(value) == 2:
                    ours, others = value
                    if (ours is None or isinstance(ours, str)) and isinstance(others, list):
                        out[key] = (ours, frozenset(str(o) for o in others))
        return out
    return {}


def _bound_index(
    entries: list[dict[str, Any]], key: str, binding: Binding, region: str
) -> int | None:
    """The entry a client field maps to: the sync's own entry, else a new or edited one
    (not among the recorded others), else none; the primary when nothing is recorded."""
    if key not in binding:
        return _primary_index(entries)
    ours, others = binding[key]
    prints = [_fingerprint(key, e, region) for e in entries]
    if ours is not None and ours in prints:
        return prints.index(ours)
    fresh = [e for e, fp in zip(entries, prints, strict=True) if fp not in others]
    i = _primary_index(fresh)
    return None if i is None else entries.index(fresh[i])


def _primary(
    person: Person, key: str, region: str = "FR", binding: Binding | None = None
) -> dict[str, Any]:
    """The own entry a client field maps to (bound, else primary), as a copy."""
    entries = [e for e in person.get(key) or [] if isinstance(e, dict) and is_contact_entry(e)]
    if key in _BOUND_FIELDS:
        found = binding if binding is not None else _binding(person)
        i = _bound_index(entries, key, found, region)
    else:
        i = _primary_index(entries)
    return {} if i is None else dict(entries[i])


def _text(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return strip_controls(value) if isinstance(value, str) else None


FIELD_LABELS = {
    "nom": "nom",
    "prenom": "prénom",
    "email": "e-mail",
    "telephone": "téléphone",
    "adresse": "adresse",
    "ville": "ville",
    "code_postal": "code postal",
    "entreprise": "entreprise",
    "fonction": "fonction",
}


def _primaries(person: Person, region: str = "FR") -> dict[str, dict[str, Any]]:
    """The own entry each mapped Person field maps to (read once per person)."""
    binding = _binding(person)
    return {key: _primary(person, key, region, binding) for key in _ENTRY_FIELDS}


def _raw_record(
    person: Person, primaries: dict[str, dict[str, Any]] | None = None, region: str = "FR"
) -> tuple[dict[str, str | None], list[str]]:
    """The mapped values of a Person's own (bound) entries (raw) and the best name's origin."""
    first = primaries if primaries is not None else _primaries(person, region)
    name = first["names"]
    email = first["emailAddresses"]
    phone = first["phoneNumbers"]
    address = first["addresses"]
    org = first["organizations"]
    street = _text(address, "streetAddress")
    city = _text(address, "city")
    postal = _text(address, "postalCode")
    has_parts = any(address.get(k) for k in ("city", "postalCode", "region", "country"))
    if not street and not has_parts and _text(address, "formattedValue"):
        # only the formatted text (an import, a phone): read it as a French address
        street, postal, city = split_french_address(_text(address, "formattedValue"))
    values: dict[str, str | None] = {
        "nom": _text(name, "familyName"),
        "prenom": _text(name, "givenName"),
        "email": _text(email, "value"),
        "telephone": _text(phone, "canonicalForm") or _text(phone, "value"),
        "adresse": street,
        "ville": city,
        "code_postal": postal,
        "entreprise": _text(org, "name"),
        "fonction": _text(org, "title"),
    }
    notes: list[str] = []
    if not clean_text(values["nom"]):
        # nom is required in ATARYS: the best name the contact has
        display = clean_text(_text(name, "displayName")) or clean_text(
            _text(name, "unstructuredName")
        )
        given = clean_text(values["prenom"])
        if clean_text(values["entreprise"]) and not given:
            values["nom"], origin = values["entreprise"], "l'entreprise"
        elif given:
            values["nom"], values["prenom"], origin = given, None, "le prénom"
        elif display:
            values["nom"], origin = display, "le nom affiché"
        else:
            fallback = clean_text(values["email"]) or clean_text(values["telephone"])
            values["nom"], origin = fallback or "(sans nom)", "le contact"
        notes.append(f"pas de nom de famille dans Google : nom repris de {origin}")
    return values, notes


def person_record(person: Person, region: str = "FR") -> tuple[Record, tuple[str, ...]]:
    """The mapped fields of a Person as ATARYS can store them, and what had to change.

    Only the contact's own (CONTACT source) entries are read. Values the client form
    would refuse are adapted, each with a French note for the run's journal: control
    characters removed, over-long values cut, an invalid e-mail or an unreadable phone
    left out, a missing family name replaced by the best name available.
    """
    primaries = _primaries(person, region)
    values, notes = _raw_record(person, primaries)
    for n in FIELDS:
        value = values[n]
        if value is None:
            continue
        raw = primaries[PERSON_FIELD_OF[n]].get(_RAW_KEY.get(n, ""))
        if isinstance(raw, str) and strip_controls(raw) != raw:
            notes.append(f"{FIELD_LABELS[n]} : caractères de contrôle retirés")
        text = clean_text(value)
        if text is not None and len(text) > FIELD_LENGTHS[n]:
            values[n] = text[: FIELD_LENGTHS[n]].rstrip()
            notes.append(f"{FIELD_LABELS[n]} trop long : coupé à {FIELD_LENGTHS[n]} caractères")
    if values["email"] is not None and not valid_email(values["email"]):
        notes.append(f"e-mail « {values['email']} » invalide : non repris")
        values["email"] = None
    if values["telephone"] is not None and not valid_phone(values["telephone"], region):
        notes.append(f"téléphone « {values['telephone']} » illisible : non repris")
        values["telephone"] = None
    return Record(**values), tuple(dict.fromkeys(notes))


# The Person key each mapped field is read from (for the control-character note).
_RAW_KEY = {
    "nom": "familyName",
    "prenom": "givenName",
    "email": "value",
    "telephone": "value",
    "adresse": "streetAddress",
    "ville": "city",
    "code_postal": "postalCode",
    "entreprise": "name",
    "fonction": "title",
}


def person_to_record(person: Person, region: str = "FR") -> Record:
    """The mapped fields of a Person (raw, not normalized; see ``person_record``)."""
    return person_record(person, region)[0]


def person_emails(person: Person) -> tuple[str, ...]:
    """Every e-mail of the contact's own entries (lower case, valid ones), primary first."""
    entries = _own(person, "emailAddresses")
    i = _primary_index(entries)
    if i is not None:
        entries.insert(0, entries.pop(i))
    out: list[str] = []
    for entry in entries:
        value = clean_text(_text(entry, "value"))
        if value and valid_email(value):
            out.append(value.lower())
    return tuple(dict.fromkeys(out))


def client_ids_of(person: Person) -> tuple[str, ...]:
    """Every ATARYS client id in the contact's ``clientData`` (a merge of two of our
    contacts in Google carries both), in order."""
    found = [
        str(entry["value"])
        for entry in person.get("clientData") or []
        if entry.get("key") == CLIENT_DATA_KEY and isinstance(entry.get("value"), str)
    ]
    return tuple(dict.fromkeys(found))


def client_id_of(person: Person) -> str | None:
    """The ATARYS client id we wrote in the contact's ``clientData``, if any."""
    ids = client_ids_of(person)
    return ids[0] if ids else None


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
    if client_id in client_ids_of(person):
        return False
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
    person: Person,
    key: str,
    values: dict[str, str | None],
    *,
    drop: tuple[str, ...] = (),
    binding: Binding | None = None,
    region: str = "FR",
) -> int | None:
    """Set ``values`` on the entry of ``person[key]`` a client field maps to (the bound
    entry, else the primary; created if missing); its index afterwards, or ``None``.

    An entry left with no mapped value and nothing else of its own is removed.
    """
    entries = [dict(e) for e in person.get(key) or []]
    if binding is not None and key in _BOUND_FIELDS:
        i = _bound_index(entries, key, binding, region)
    else:
        i = _primary_index(entries)
    if i is None:
        if all(v is None for v in values.values()):
            return None
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
    person[key] = entries
    if not own:
        del entries[i]
        return None
    return i


def _rebind(body: Person, key: str, ours: int | None, binding: Binding, region: str) -> None:
    """Record which entry of ``body[key]`` is the sync's, when others stand beside it."""
    entries = body.get(key) or []
    prints = [_fingerprint(key, e, region) for e in entries]
    others = frozenset(fp for j, fp in enumerate(prints) if j != ours)
    if not others:
        binding.pop(key, None)
    else:
        binding[key] = (None if ours is None else prints[ours], others)


def _set_binding(person: Person, binding: Binding) -> bool:
    """Write ``binding`` into ``clientData`` (removed when empty); True when it changed."""
    if binding == _binding(person):
        return False
    entries = [dict(e) for e in person.get("clientData") or [] if e.get("key") != ENTRIES_KEY]
    if binding:
        data = {k: [ours, sorted(others)] for k, (ours, others) in sorted(binding.items())}
        value = json.dumps(data, separators=(",", ":"))
        entries.append({"key": ENTRIES_KEY, "value": value})
    person["clientData"] = entries
    return True


def _changed(current: Record, target: Record, region: str) -> set[str]:
    return {
        n
        for n in FIELDS
        if normalize_value(n, current.get(n), region) != normalize_value(n, target.get(n), region)
    }


def _family_name(person: Person, region: str) -> str | None:
    """``person_to_record(person).nom``, read from the family name when there is one."""
    family = _text(_primary(person, "names"), "familyName")
    if clean_text(family) is not None:
        return family
    return person_to_record(person, region).nom


def apply_record(
    person: Person,
    target: Record,
    client_id: str | None,
    region: str = "FR",
    *,
    current: Record | None = None,
) -> tuple[Person, list[str]]:
    """``person`` with ``target`` written into its mapped entries, and the update mask.

    Only entries whose normalized value differs are touched; the mask lists the Person
    fields to send (empty: nothing to write). ``client_id`` (when given) is written into
    ``clientData``. The result keeps ``etag`` and ``resourceName`` for a conditional update.
    """
    # a shallow copy is enough: every edit below replaces a top-level field with new
    # lists of copied entries, never changing the given person's entries in place
    body: Person = dict(person)
    for key in _ENTRY_FIELDS:
        if key in body:
            # profile entries are not the contact's: Google ignores them on write
            body[key] = _own(body, key)
    if current is None:  # else: the caller read it already (``person_to_record(person)``)
        current = person_to_record(person, region)
    changed = _changed(current, target, region)
    mask: set[str] = {PERSON_FIELD_OF[n] for n in changed}

    def pick(name: str) -> str | None:
        return target.get(name) if name in changed else current.get(name)

    binding = _binding(person)
    new_binding = dict(binding)

    edited: set[str] = set()

    def edit(key: str, values: dict[str, str | None], drop: tuple[str, ...] = ()) -> None:
        i = _edit_primary(body, key, values, drop=drop, binding=binding, region=region)
        _rebind(body, key, i, new_binding, region)
        edited.add(key)

    if "names" in mask:
        names = {"familyName": pick("nom"), "givenName": pick("prenom")}
        _edit_primary(body, "names", names, drop=_OUTPUT_ONLY_NAME_KEYS)
    if "emailAddresses" in mask:
        edit("emailAddresses", {"value": target.email})
    if "phoneNumbers" in mask:
        edit("phoneNumbers", {"value": target.telephone}, drop=("canonicalForm",))
    if "addresses" in mask:
        # formattedValue is rebuilt by Google from the parts; the street keeps adresse.
        parts = {
            "streetAddress": pick("adresse"),
            "city": pick("ville"),
            "postalCode": pick("code_postal"),
        }
        edit("addresses", parts, drop=("formattedValue",))
    if "organizations" in mask:
        edit("organizations", {"name": pick("entreprise"), "title": pick("fonction")})
    if target.nom is not None and normalize_value(
        "nom", _family_name(body, region), region
    ) != normalize_value("nom", target.nom, region):
        # the contact had no family name (its nom was read from another name): write it
        _edit_primary(body, "names", {"familyName": target.nom}, drop=_OUTPUT_ONLY_NAME_KEYS)
        mask.add("names")
    if client_id is not None and _set_client_data(body, client_id):
        mask.add("clientData")
    if mask:
        # Any write also records which entries are the sync's where others stand beside
        # them (a contact linked by e-mail with a personal e-mail beside, say).
        for key in _BOUND_FIELDS:
            if key not in edited and (key in binding or len(body.get(key) or []) > 1):
                i = _bound_index(body.get(key) or [], key, binding, region)
                _rebind(body, key, i, new_binding, region)
        if _set_binding(body, new_binding):
            mask.add("clientData")
    ordered = [f for f in PERSON_FIELDS.split(",") if f in mask]
    return body, ordered


def record_to_person(record: Record, client_id: str | None, group: str | None = None) -> Person:
    """A new contact's body from a record (for ``createContact``).

    Built directly (the same body ``apply_record({}, record, client_id)`` gives, which a
    test checks): a first sync builds thousands of them.
    """
    body: Person = {}

    def entry(**values: str | None) -> list[dict[str, str]]:
        kept = {k: v for k, v in values.items() if v is not None and clean_text(v) is not None}
        return [kept] if kept else []

    for key, values in (
        ("names", entry(familyName=record.nom, givenName=record.prenom)),
        ("emailAddresses", entry(value=record.email)),
        ("phoneNumbers", entry(value=record.telephone)),
        (
            "addresses",
            entry(streetAddress=record.adresse, city=record.ville, postalCode=record.code_postal),
        ),
        ("organizations", entry(name=record.entreprise, title=record.fonction)),
    ):
        if values:
            body[key] = values
    if client_id is not None:
        body["clientData"] = [{"key": CLIENT_DATA_KEY, "value": client_id}]
    if group:
        body["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": group}}]
    return body
