"""Google-shaped JSON of stored records: persons (with output-only keys), profile, groups.

Output-only additions Google makes (``metadata``, ``formattedType``, ``canonicalForm``,
``displayName``, ``formattedValue``, ``primary``) are computed here from what
``wire.parse_person`` stored.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from atarys.emulator.models.records import SYSTEM_GROUPS, Contact, Group, UserState, now_rfc3339
from atarys.emulator.wire import dumps

_PHONE_JUNK = re.compile(r"[\s.\-()/]")
_FR_NATIONAL = re.compile(r"^0[1-9]\d{8}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


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


#: Read sources per method when ``sources`` is not set (Google's reference): searchContacts
#: reads contacts only; every other method contacts and profiles.
CONTACT_AND_PROFILE = frozenset({"READ_SOURCE_TYPE_CONTACT", "READ_SOURCE_TYPE_PROFILE"})
CONTACT_ONLY = frozenset({"READ_SOURCE_TYPE_CONTACT"})
#: Profile values Google shows as verified.
_VERIFIED_FIELDS = frozenset({"emailAddresses", "phoneNumbers"})


def _render_entry(name: str, entry: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    item = dict(entry)
    item["metadata"] = metadata
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
    return item


def _render_fields(
    contact: Contact,
    fields: frozenset[str],
    *,
    sources: frozenset[str] = CONTACT_AND_PROFILE,
    sync_listing: bool = False,
) -> dict[str, Any]:
    """The stored ``fields`` of ``contact`` with Google's output-only additions.

    PROFILE values (when a profile is attached and ``sources`` asks for them) follow the
    contact's own, each entry's ``metadata.source`` saying where it comes from.
    ``previousResourceNames`` only appears in sync-token listings (``sync_listing``).
    """
    source = {"type": "CONTACT", "id": contact.source_id}
    with_contact = "READ_SOURCE_TYPE_CONTACT" in sources or not sources
    profile = contact.profile if "READ_SOURCE_TYPE_PROFILE" in sources else None
    profile_source = {"type": "PROFILE", "id": str(contact.profile_number)}
    out: dict[str, Any] = {}
    names = set(contact.fields if with_contact else ()) | set(profile or ())
    for name in sorted(names & fields):
        own = contact.fields.get(name, ()) if with_contact else ()
        rendered = []
        for index, entry in enumerate(own):
            metadata: dict[str, Any] = {"source": source}
            if index == 0:
                metadata = {"primary": True, "sourcePrimary": True, "source": source}
            rendered.append(_render_entry(name, entry, metadata))
        for index, entry in enumerate((profile or {}).get(name, ())):
            metadata = {"source": profile_source}
            if index == 0:
                metadata["sourcePrimary"] = True
                if not own:
                    metadata["primary"] = True
            if name in _VERIFIED_FIELDS:
                metadata["verified"] = True
            rendered.append(_render_entry(name, entry, metadata))
        out[name] = rendered
    if contact.groups and "memberships" in fields and with_contact:
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
    person_sources: list[dict[str, Any]] = []
    if with_contact:
        person_sources.append(
            {
                "type": "CONTACT",
                "id": contact.source_id,
                "etag": contact.source_etag,
                "updateTime": now_rfc3339(contact.update_time),
            }
        )
    if profile:
        person_sources.append(
            {
                "type": "PROFILE",
                "id": str(contact.profile_number),
                "etag": "#" + base64.b64encode(f"p{contact.profile_number}".encode()).decode()[:16],
                "profileMetadata": {"objectType": "PERSON", "userTypes": ["GOOGLE_USER"]},
            }
        )
    metadata_out: dict[str, Any] = {"sources": person_sources, "objectType": "PERSON"}
    if contact.previous_resource_names and sync_listing:
        metadata_out["previousResourceNames"] = list(contact.previous_resource_names)
    if contact.deleted:
        metadata_out["deleted"] = True
    out["metadata"] = metadata_out
    return out


def render_person(
    contact: Contact,
    fields: frozenset[str],
    *,
    in_list: bool = False,
    sources: frozenset[str] = CONTACT_AND_PROFILE,
    sync_listing: bool = False,
) -> dict[str, Any]:
    """A Person holding only the fields in ``fields`` (tombstones: metadata only).

    ``in_list``: as connections.list shows it, at most 100 e-mails and 100 phones;
    ``sources``: the read sources asked; ``sync_listing``: a connections.list answer
    made with a sync token (the only one that shows ``previousResourceNames``).
    """
    person: dict[str, Any] = {"resourceName": contact.resource_name, "etag": contact.etag}
    if contact.deleted:
        rendered = _render_fields(contact, _METADATA_ONLY, sync_listing=sync_listing)
        person["metadata"] = rendered["metadata"]
        return person
    rendered = _render_fields(contact, fields, sources=sources, sync_listing=sync_listing)
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


def person_json(
    contact: Contact,
    fields: frozenset[str],
    *,
    in_list: bool = False,
    sources: frozenset[str] = CONTACT_AND_PROFILE,
    sync_listing: bool = False,
) -> bytes:
    """``render_person`` as JSON bytes, cached per contact version, mask and options."""
    encoded = contact.encoded
    if encoded is None:
        encoded = contact.encoded = {}
    capped = in_list and any(
        len(contact.fields.get(f, ())) > LIST_FIELD_CAP for f in LIST_CAPPED_FIELDS
    )
    key = (
        ("L:" if capped else "")
        + ("S:" if sync_listing else "")
        + ("" if sources == CONTACT_AND_PROFILE else ",".join(sorted(sources)) + ":")
        + ",".join(sorted(fields))
    )
    raw = encoded.get(key)
    if raw is None:
        raw = encoded[key] = dumps(
            render_person(
                contact, fields, in_list=capped, sources=sources, sync_listing=sync_listing
            )
        )
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
