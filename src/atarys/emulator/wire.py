"""Google's wire format: parse People API request bodies and masks, render Google-shaped JSON.

The field catalogue (which keys a Person field entry may hold, which are output only)
comes from the discovery document google-api-python-client ships, so the emulator
accepts and returns exactly the keys Google's schema knows.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

from atarys.emulator.errors import InvalidArgumentError
from atarys.emulator.state import Contact, Group, UserState, now_rfc3339

DISCOVERY_PATH = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "people.v1.json"
)

#: Fields ``updatePersonFields`` accepts (and createContact stores).
UPDATABLE_FIELDS = frozenset(
    {
        "addresses",
        "biographies",
        "birthdays",
        "calendarUrls",
        "clientData",
        "emailAddresses",
        "events",
        "externalIds",
        "genders",
        "imClients",
        "interests",
        "locales",
        "locations",
        "memberships",
        "miscKeywords",
        "names",
        "nicknames",
        "occupations",
        "organizations",
        "phoneNumbers",
        "relations",
        "sipAddresses",
        "urls",
        "userDefined",
    }
)
#: Fields ``personFields``/``readMask`` accept.
PERSON_FIELDS = UPDATABLE_FIELDS | {"ageRanges", "coverPhotos", "metadata", "photos", "skills"}
SINGLETON_FIELDS = frozenset({"names", "biographies", "birthdays", "genders"})
GROUP_FIELDS = frozenset({"clientData", "groupType", "memberCount", "metadata", "name"})
DEFAULT_GROUP_FIELDS = frozenset({"groupType", "memberCount", "metadata", "name"})
SORT_ORDERS = (
    "LAST_MODIFIED_ASCENDING",
    "LAST_MODIFIED_DESCENDING",
    "FIRST_NAME_ASCENDING",
    "LAST_NAME_ASCENDING",
)
READ_SOURCES = frozenset(
    {
        "READ_SOURCE_TYPE_UNSPECIFIED",
        "READ_SOURCE_TYPE_PROFILE",
        "READ_SOURCE_TYPE_CONTACT",
        "READ_SOURCE_TYPE_DOMAIN_CONTACT",
        "READ_SOURCE_TYPE_OTHER_CONTACT",
    }
)
MAX_FIELD_CHARS = 1024
_RESOURCE_NAME = re.compile(r"^people/c\d{1,20}$")
_PHONE_JUNK = re.compile(r"[\s.\-()/]")
_FR_NATIONAL = re.compile(r"^0[1-9]\d{8}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@cache
def discovery() -> dict[str, Any]:
    """The shipped People API v1 discovery document."""
    with DISCOVERY_PATH.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@cache
def entry_keys(field_name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(all keys, writable keys) of one entry of the Person field ``field_name``."""
    schemas = discovery()["schemas"]
    ref = schemas["Person"]["properties"][field_name]["items"]["$ref"]
    props: dict[str, Any] = schemas[ref]["properties"]
    writable = {k for k, v in props.items() if not v.get("readOnly") and k != "metadata"}
    if field_name == "memberships":
        writable = {"contactGroupMembership"}
    return frozenset(props), frozenset(writable)


# --------------------------------------------------------------------------- parsing


def parse_mask(value: str | None, *, param: str, allowed: frozenset[str]) -> frozenset[str]:
    """A comma-separated field mask; 400 when missing, empty or naming an unknown field."""
    if not value:
        raise InvalidArgumentError(
            f"{param} mask is required. Please specify one or more valid paths."
        )
    paths = frozenset(p.strip().removeprefix("person.") for p in value.split(",") if p.strip())
    if not paths:
        raise InvalidArgumentError(
            f"{param} mask is required. Please specify one or more valid paths."
        )
    for path in sorted(paths):
        if path not in allowed:
            raise InvalidArgumentError(
                f'Invalid {param} mask path: "{path}". Valid paths are documented at '
                "https://developers.google.com/people/api/rest/v1/people/get."
            )
    return paths


def check_resource_name(name: str) -> str:
    """``people/c<digits>``; 400 INVALID_ARGUMENT otherwise."""
    if not _RESOURCE_NAME.match(name):
        raise InvalidArgumentError(f"Resource name is not a valid contact person resource: {name}")
    return name


def _clean_value(value: Any, path: str) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_FIELD_CHARS and not path.startswith("biographies"):
            raise InvalidArgumentError(f"Field {path} is longer than {MAX_FIELD_CHARS} characters.")
        return value
    if isinstance(value, dict):
        return {k: _clean_value(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_value(v, path) for v in value]
    return value


def parse_person(body: Any) -> tuple[dict[str, list[dict[str, Any]]], list[str] | None, str | None]:
    """A Person body → (stored fields, group ids or None, etag sent).

    Output-only keys (``metadata``, ``formattedType``, ``canonicalForm``, ``displayName``...)
    are dropped; unknown keys answer 400 like Google's JSON parser; singleton fields
    refuse a second value; empty entries are dropped.
    """
    if not isinstance(body, dict):
        raise InvalidArgumentError("Invalid JSON payload received. Expected an object for person.")
    person_props = discovery()["schemas"]["Person"]["properties"]
    fields: dict[str, list[dict[str, Any]]] = {}
    groups: list[str] | None = None
    etag = body.get("etag")
    if not etag:
        for source in (body.get("metadata") or {}).get("sources") or []:
            if isinstance(source, dict) and source.get("type", "CONTACT") == "CONTACT":
                etag = source.get("etag") or etag
    for name, raw in body.items():
        if name not in person_props:
            raise InvalidArgumentError(
                f"Invalid JSON payload received. Unknown name \"{name}\" at 'person': "
                "Cannot find field."
            )
        if name not in UPDATABLE_FIELDS or raw is None:
            continue
        if not isinstance(raw, list):
            raise InvalidArgumentError(
                f"Invalid value at 'person.{name}': expected a list of {name} entries."
            )
        all_keys, writable = entry_keys(name)
        entries: list[dict[str, Any]] = []
        for item in raw:
            if not isinstance(item, dict):
                raise InvalidArgumentError(f"Invalid value at 'person.{name}'.")
            if not all_keys.issuperset(item):
                unknown = sorted(set(item) - all_keys)[0]
                raise InvalidArgumentError(
                    f'Invalid JSON payload received. Unknown name "{unknown}" '
                    f"at 'person.{name}[0]': Cannot find field."
                )
            entry: dict[str, Any] = {}
            for key, value in item.items():
                if key not in writable or value is None:
                    continue
                if type(value) is str:
                    if not value:
                        continue
                    if len(value) > MAX_FIELD_CHARS and name != "biographies":
                        raise InvalidArgumentError(
                            f"Field {name}.{key} is longer than {MAX_FIELD_CHARS} characters."
                        )
                    entry[key] = value
                elif isinstance(value, dict | list):
                    if value:
                        entry[key] = _clean_value(value, f"{name}.{key}")
                else:
                    entry[key] = value
            if entry:
                entries.append(entry)
        if name == "memberships":
            groups = []
            for entry in entries:
                membership = entry.get("contactGroupMembership") or {}
                target = membership.get("contactGroupResourceName")
                if not target:
                    raise InvalidArgumentError(
                        "Membership must set contactGroupMembership.contactGroupResourceName."
                    )
                groups.append(str(target).removeprefix("contactGroups/"))
            continue
        if name in SINGLETON_FIELDS and len(entries) > 1:
            raise InvalidArgumentError(
                f"Invalid person: field {name} is a singleton for contact sources "
                "and may hold at most one value."
            )
        if entries:
            fields[name] = entries
    return fields, groups, etag if isinstance(etag, str) else None


# --------------------------------------------------------------------------- values


@cache
def canonical_phone(value: str) -> str | None:
    """E.164 form of a phone value (region FR), or None when it is not a number."""
    compact = _PHONE_JUNK.sub("", value)
    if _FR_NATIONAL.match(compact):
        return "+33" + compact[1:]
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if _E164.match(compact) and compact.startswith("+33") and len(compact) == 12:
        return compact
    import phonenumbers

    try:
        parsed = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


@cache
def formatted_type(kind: str) -> str:
    """Google's ``formattedType`` of a ``type``: ``homeFax`` → ``Home Fax``; custom kept."""
    if not kind.isascii() or not kind[:1].islower():
        return kind
    words = re.sub(r"([A-Z])", r" \1", kind).split()
    return " ".join(w[:1].upper() + w[1:] for w in words)


def display_name(name: dict[str, Any]) -> tuple[str, str]:
    """(displayName, displayNameLastFirst) of a Name entry."""
    first = " ".join(
        p for p in (name.get("honorificPrefix"), name.get("givenName"), name.get("middleName")) if p
    )
    family = name.get("familyName") or ""
    suffix = name.get("honorificSuffix") or ""
    full = " ".join(p for p in (first, family, suffix) if p)
    if not full:
        full = name.get("unstructuredName") or ""
    last_first = ", ".join(p for p in (family, " ".join(p for p in (first, suffix) if p)) if p)
    return full, last_first or full


def formatted_address(address: dict[str, Any]) -> str:
    """An address's ``formattedValue`` built from its parts (French layout)."""
    town = " ".join(p for p in (address.get("postalCode"), address.get("city")) if p)
    parts = (
        address.get("streetAddress"),
        address.get("extendedAddress"),
        address.get("poBox"),
        town,
        address.get("region"),
        address.get("country") or address.get("countryCode"),
    )
    return "\n".join(p for p in parts if p)


# --------------------------------------------------------------------------- rendering


def _render_fields(contact: Contact, fields: frozenset[str]) -> dict[str, Any]:
    """The stored ``fields`` of ``contact`` with Google's output-only additions."""
    source = {"type": "CONTACT", "id": contact.source_id}
    primary = {"primary": True, "sourcePrimary": True, "source": source}
    secondary = {"source": source}
    out: dict[str, Any] = {}
    for name, entries in contact.fields.items():
        if name not in fields:
            continue
        rendered = []
        for index, entry in enumerate(entries):
            item = dict(entry)
            item["metadata"] = primary if index == 0 else secondary
            if "type" in item and name not in ("clientData", "userDefined", "biographies"):
                item["formattedType"] = formatted_type(item["type"])
            if name == "names":
                full, last_first = display_name(item)
                if full:
                    item["displayName"] = full
                    item["displayNameLastFirst"] = last_first
                    item.setdefault("unstructuredName", full)
            elif name == "phoneNumbers" and "value" in item:
                canonical = canonical_phone(item["value"])
                if canonical:
                    item["canonicalForm"] = canonical
            elif name == "addresses" and "formattedValue" not in item:
                text = formatted_address(item)
                if text:
                    item["formattedValue"] = text
            elif name == "biographies":
                item.setdefault("contentType", "TEXT_PLAIN")
            rendered.append(item)
        out[name] = rendered
    if contact.groups and "memberships" in fields:
        out["memberships"] = [
            {
                "metadata": {"source": source},
                "contactGroupMembership": {
                    "contactGroupId": gid,
                    "contactGroupResourceName": f"contactGroups/{gid}",
                },
            }
            for gid in contact.groups
        ]
    metadata: dict[str, Any] = {
        "sources": [
            {
                "type": "CONTACT",
                "id": contact.source_id,
                "etag": contact.source_etag,
                "updateTime": now_rfc3339(contact.update_time),
            }
        ],
        "objectType": "PERSON",
    }
    if contact.previous_resource_names:
        metadata["previousResourceNames"] = list(contact.previous_resource_names)
    if contact.deleted:
        metadata["deleted"] = True
    out["metadata"] = metadata
    return out


def render_person(
    contact: Contact, fields: frozenset[str], *, in_list: bool = False
) -> dict[str, Any]:
    """A Person holding only the fields in ``fields`` (tombstones: metadata only).

    ``in_list``: as connections.list shows it, at most 100 e-mails and 100 phones.
    """
    person: dict[str, Any] = {"resourceName": contact.resource_name, "etag": contact.etag}
    if contact.deleted:
        person["metadata"] = _render_fields(contact, _METADATA_ONLY)["metadata"]
        return person
    rendered = _render_fields(contact, fields)
    for name in sorted(fields):
        value = rendered.get(name)
        if value is not None:
            if in_list and name in LIST_CAPPED_FIELDS:
                value = value[:LIST_FIELD_CAP]
            person[name] = value
    return person


_METADATA_ONLY = frozenset({"metadata"})
#: connections.list answers hold at most 100 of each of these per person.
LIST_CAPPED_FIELDS = frozenset({"emailAddresses", "phoneNumbers"})
LIST_FIELD_CAP = 100


def person_json(contact: Contact, fields: frozenset[str], *, in_list: bool = False) -> bytes:
    """``render_person`` as JSON bytes, cached per contact version and field mask."""
    encoded = contact.encoded
    if encoded is None:
        encoded = contact.encoded = {}
    capped = in_list and any(
        len(contact.fields.get(f, ())) > LIST_FIELD_CAP for f in LIST_CAPPED_FIELDS
    )
    key = ("L:" if capped else "") + ",".join(sorted(fields))
    raw = encoded.get(key)
    if raw is None:
        raw = encoded[key] = dumps(render_person(contact, fields, in_list=capped))
    return raw


def with_items(key: str, items: list[bytes], rest: dict[str, Any]) -> bytes:
    """The JSON object ``{key: [items...], **rest}`` from already encoded ``items``."""
    head = b'{"' + key.encode() + b'":[' + b",".join(items) + b"]"
    if not rest:
        return head + b"}"
    return head + b"," + dumps(rest)[1:]


def render_profile(user: UserState, fields: frozenset[str]) -> dict[str, Any]:
    """``people/me``: the account owner's own profile."""
    profile_id = str(user.profile_number)
    profile_source = {"type": "PROFILE", "id": profile_id}
    account_source = {"type": "ACCOUNT", "id": profile_id}
    given, _, family = user.display_name.partition(" ")
    full: dict[str, Any] = {
        "metadata": {
            "sources": [
                {
                    "type": "PROFILE",
                    "id": profile_id,
                    "etag": "#" + base64.b64encode(profile_id.encode()).decode()[:16],
                    "profileMetadata": {"objectType": "PERSON", "userTypes": ["GOOGLE_USER"]},
                }
            ],
            "objectType": "PERSON",
        },
        "names": [
            {
                "metadata": {"primary": True, "sourcePrimary": True, "source": profile_source},
                "displayName": user.display_name,
                "familyName": family or given,
                "givenName": given,
                "displayNameLastFirst": f"{family}, {given}" if family else given,
                "unstructuredName": user.display_name,
            }
        ],
        "emailAddresses": [
            {
                "metadata": {
                    "primary": True,
                    "verified": True,
                    "sourcePrimary": True,
                    "source": account_source,
                },
                "value": user.email,
            }
        ],
    }
    person: dict[str, Any] = {
        "resourceName": f"people/{profile_id}",
        "etag": "%" + base64.b64encode(f"me:{user.email}".encode()).decode()[:24],
    }
    person.update({k: v for k, v in full.items() if k in fields})
    return person


def render_group(
    group: Group, fields: Iterable[str], *, max_members: int = 0, user: UserState | None = None
) -> dict[str, Any]:
    """A ContactGroup with the asked ``groupFields`` (and up to ``max_members`` members)."""
    fields = set(fields)
    out: dict[str, Any] = {"resourceName": group.resource_name, "etag": group.etag}
    if "metadata" in fields:
        out["metadata"] = {"updateTime": now_rfc3339(group.update_time)}
    if "groupType" in fields:
        out["groupType"] = "SYSTEM_CONTACT_GROUP" if group.system else "USER_CONTACT_GROUP"
    if "name" in fields:
        out["name"] = group.name
        from atarys.emulator.state import SYSTEM_GROUPS

        out["formattedName"] = (
            SYSTEM_GROUPS.get(group.gid, group.name) if group.system else group.name
        )
    if "clientData" in fields and group.client_data:
        out["clientData"] = list(group.client_data)
    count = len(group.members)
    if "memberCount" in fields and count:
        out["memberCount"] = count
    if max_members and count:
        out["memberResourceNames"] = list(group.members)[:max_members]
    return out


# --------------------------------------------------------------------------- tokens


def encode_token(prefix: str, payload: list[Any]) -> str:
    """An opaque page or sync token."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(prefix: str, token: str, *, what: str) -> list[Any]:
    """Inverse of ``encode_token``; 400 INVALID_ARGUMENT for a token it did not make."""
    try:
        if not token.startswith(prefix):
            raise ValueError(token)
        body = token[len(prefix) :]
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if not isinstance(payload, list):
            raise ValueError(token)
    except ValueError as exc:
        raise InvalidArgumentError(f"Invalid {what}: {token[:40]}") from exc
    return payload


def dumps(body: Any) -> bytes:
    """The JSON of an answer body."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
