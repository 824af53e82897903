"""The People API route table: paths google-api-python-client sends → Google method names.

Each rule's endpoint is the Google method name (``people.connections.list``); ``METHODS``
says which handler serves it and whether it writes (scope and "fail after apply").
OAuth2 (``oauth``) and the admin API (``admin``, ``/_emulator/*``) are mounted beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.routing import BaseConverter, Map, Rule


class PersonIdConverter(BaseConverter):
    """``c<digits>`` (a contact), ``me`` or a profile number."""

    regex = r"c\d+|me|\d+"


class GroupIdConverter(BaseConverter):
    """A contact group id."""

    regex = r"[A-Za-z0-9]+"


URL_MAP = Map(
    [
        Rule("/v1/people/me/connections", endpoint="people.connections.list", methods=["GET"], defaults={"person": "me"}),
        Rule("/v1/people:batchGet", endpoint="people.getBatchGet", methods=["GET"]),
        Rule("/v1/people:searchContacts", endpoint="people.searchContacts", methods=["GET"]),
        Rule("/v1/people:createContact", endpoint="people.createContact", methods=["POST"]),
        Rule("/v1/people:batchCreateContacts", endpoint="people.batchCreateContacts", methods=["POST"]),
        Rule("/v1/people:batchUpdateContacts", endpoint="people.batchUpdateContacts", methods=["POST"]),
        Rule("/v1/people:batchDeleteContacts", endpoint="people.batchDeleteContacts", methods=["POST"]),
        Rule("/v1/people/<person:person>:updateContact", endpoint="people.updateContact", methods=["PATCH"]),
        Rule("/v1/people/<person:person>:deleteContact", endpoint="people.deleteContact", methods=["DELETE"]),
        Rule("/v1/people/<person:person>", endpoint="people.get", methods=["GET"]),
        Rule("/v1/contactGroups", endpoint="contactGroups.list", methods=["GET"]),
        Rule("/v1/contactGroups", endpoint="contactGroups.create", methods=["POST"]),
        Rule("/v1/contactGroups/<group:group>/members:modify", endpoint="contactGroups.members.modify", methods=["POST"]),
        Rule("/v1/contactGroups/<group:group>", endpoint="contactGroups.get", methods=["GET"]),
        Rule("/v1/contactGroups/<group:group>", endpoint="contactGroups.update", methods=["PUT"]),
        Rule("/v1/contactGroups/<group:group>", endpoint="contactGroups.delete", methods=["DELETE"]),
    ],
    converters={"person": PersonIdConverter, "group": GroupIdConverter},
    strict_slashes=False,
    merge_slashes=False,
)  # fmt: skip


@dataclass(frozen=True)
class Method:
    """A People API method: which handler object (``people``/``groups``) and method, whether it writes."""

    handlers: str
    handler: str
    write: bool = False


METHODS: dict[str, Method] = {
    "people.connections.list": Method("people", "connections_list"),
    "people.getBatchGet": Method("people", "get_batch"),
    "people.searchContacts": Method("people", "search"),
    "people.createContact": Method("people", "create", write=True),
    "people.batchCreateContacts": Method("people", "batch_create", write=True),
    "people.batchUpdateContacts": Method("people", "batch_update", write=True),
    "people.batchDeleteContacts": Method("people", "batch_delete", write=True),
    "people.updateContact": Method("people", "update", write=True),
    "people.deleteContact": Method("people", "delete", write=True),
    "people.get": Method("people", "get"),
    "contactGroups.list": Method("groups", "groups_list"),
    "contactGroups.create": Method("groups", "group_create", write=True),
    "contactGroups.members.modify": Method("groups", "members_modify", write=True),
    "contactGroups.get": Method("groups", "group_get"),
    "contactGroups.update": Method("groups", "group_update", write=True),
    "contactGroups.delete": Method("groups", "group_delete", write=True),
}


def match(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """(Google method name, path parameters) serving ``method path``; None when none does.

    The ``group`` parameter is the full ``contactGroups/<id>`` resource name.
    """
    from werkzeug.exceptions import HTTPException

    try:
        name, values = URL_MAP.bind("emulator").match(path, method=method)
    except HTTPException:
        return None
    params: dict[str, Any] = dict(values)
    if "group" in params:
        params["group"] = "contactGroups/" + params["group"]
    return str(name), {k: str(v) for k, v in params.items()}
