"""Google's wire format, inbound: field catalogue, request bodies and masks, opaque tokens.

The field catalogue (which keys a Person field entry may hold, which are output only)
comes from the discovery document google-api-python-client ships, so the emulator
accepts and returns exactly the keys Google's schema knows. Rendering answers is
``render``'s job.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

from atarys.emulator.errors import InvalidArgumentError

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
    and entries whose ``metadata.source`` is not a CONTACT (profile data) are dropped; unknown keys answer 400 like Google's JSON parser; singleton fields
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
            source = (item.get("metadata") or {}).get("source") or {}
            if isinstance(source, dict) and source.get("type", "CONTACT") != "CONTACT":
                continue  # profile (or other non-contact) data: updates ignore it
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
