"""Conformance: every key of every answer exists in the shipped discovery document's schema.

A scenario calls every implemented method through the real client (full and
incremental lists with tombstones, batch methods, groups, ``people/me``); each answer
is walked against the schema of that method's response type.
"""

from __future__ import annotations

from typing import Any

import pytest

from atarys.emulator.server import RunningEmulator
from atarys.emulator.wire import discovery

ALL_FIELDS = "addresses,biographies,birthdays,calendarUrls,clientData,emailAddresses,events,externalIds,genders,imClients,interests,locales,locations,memberships,metadata,miscKeywords,names,nicknames,occupations,organizations,phoneNumbers,relations,sipAddresses,urls,userDefined"
RICH_PERSON: dict[str, Any] = {
    "names": [{"givenName": "Hélène", "familyName": "Lefèvre", "honorificPrefix": "Mme"}],
    "emailAddresses": [
        {"value": "helene@orange.fr", "type": "home"},
        {"value": "h.lefevre@travail.fr", "type": "work"},
    ],
    "phoneNumbers": [
        {"value": "06 12 34 56 78", "type": "mobile"},
        {"value": "+33 1 23 45 67 89", "type": "homeFax"},
    ],
    "addresses": [
        {
            "streetAddress": "3 rue Pasteur",
            "city": "Lyon",
            "postalCode": "69003",
            "countryCode": "FR",
            "type": "home",
        }
    ],
    "organizations": [{"name": "Atelier Lefèvre", "title": "Gérante", "department": "Direction"}],
    "biographies": [{"value": "Cliente fidèle.", "contentType": "TEXT_PLAIN"}],
    "birthdays": [{"date": {"year": 1980, "month": 5, "day": 17}}],
    "clientData": [{"key": "atarys_id", "value": "17"}],
    "userDefined": [{"key": "Parrain", "value": "Luc"}],
    "externalIds": [{"value": "CLI-17", "type": "account"}],
    "urls": [{"value": "https://atelier.example.fr", "type": "work"}],
    "events": [{"date": {"month": 6, "day": 1}, "type": "anniversary"}],
    "nicknames": [{"value": "Léna"}],
    "memberships": [
        {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/starred"}}
    ],
}


def _method(method_id: str) -> dict[str, Any]:
    node: dict[str, Any] = discovery()
    parts = method_id.split(".")
    for part in parts[:-1]:
        node = node["resources"][part]
    method: dict[str, Any] = node["methods"][parts[-1]]
    return method


def _check(schema: dict[str, Any], value: Any, path: str, problems: list[str]) -> None:
    schemas = discovery()["schemas"]
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "any":
        return
    if "properties" in schema:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object")
            return
        for key, item in value.items():
            if key not in schema["properties"]:
                problems.append(f"{path}.{key}: not in schema {schema.get('id')}")
            else:
                _check(schema["properties"][key], item, f"{path}.{key}", problems)
    elif kind == "array":
        if not isinstance(value, list):
            problems.append(f"{path}: expected an array")
            return
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{index}]", problems)
    elif kind == "object" and "additionalProperties" in schema:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map")
            return
        for key, item in value.items():
            _check(schema["additionalProperties"], item, f"{path}[{key}]", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string")
        elif "enum" in schema and value not in schema["enum"]:
            problems.append(f"{path}: {value!r} not in enum")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean")
    elif kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        problems.append(f"{path}: expected an integer")


def conformance_problems(method_id: str, body: Any) -> list[str]:
    """Every key of ``body`` missing from the response schema of ``method_id``."""
    problems: list[str] = []
    _check(_method(method_id)["response"], body, method_id, problems)
    return problems


@pytest.fixture
def answers(people_service: Any, emulator: RunningEmulator) -> list[tuple[str, Any]]:
    """(method id, answer) of a scenario calling every implemented method."""
    people = people_service.people()
    groups = people_service.contactGroups()
    recorded: list[tuple[str, Any]] = []

    def run(method_id: str, request: Any) -> Any:
        body = request.execute()
        recorded.append((method_id, body))
        return body

    emulator.seed(30)
    first = run(
        "people.createContact", people.createContact(body=RICH_PERSON, personFields=ALL_FIELDS)
    )
    second = run(
        "people.createContact", people.createContact(body={"names": [{"givenName": "Paul"}]})
    )
    listing = run(
        "people.connections.list",
        people.connections().list(
            resourceName="people/me", personFields=ALL_FIELDS, pageSize=1000, requestSyncToken=True
        ),
    )
    run("people.get", people.get(resourceName=first["resourceName"], personFields=ALL_FIELDS))
    run(
        "people.get",
        people.get(resourceName="people/me", personFields="names,emailAddresses,metadata"),
    )
    run(
        "people.getBatchGet",
        people.getBatchGet(
            resourceNames=[first["resourceName"], "people/c1"], personFields=ALL_FIELDS
        ),
    )
    updated = run(
        "people.updateContact",
        people.updateContact(
            resourceName=first["resourceName"],
            updatePersonFields="names,phoneNumbers",
            personFields=ALL_FIELDS,
            body={**RICH_PERSON, "etag": first["etag"]},
        ),
    )
    created = run(
        "people.batchCreateContacts",
        people.batchCreateContacts(
            body={"contacts": [{"contactPerson": RICH_PERSON}] * 2, "readMask": ALL_FIELDS}
        ),
    )
    target = created["createdPeople"][0]["person"]
    run(
        "people.batchUpdateContacts",
        people.batchUpdateContacts(
            body={
                "contacts": {target["resourceName"]: {**RICH_PERSON, "etag": target["etag"]}},
                "updateMask": "names,emailAddresses",
                "readMask": ALL_FIELDS,
            }
        ),
    )
    run("people.searchContacts", people.searchContacts(query="hél", readMask=ALL_FIELDS))
    run("people.deleteContact", people.deleteContact(resourceName=second["resourceName"]))
    run(
        "people.batchDeleteContacts",
        people.batchDeleteContacts(
            body={"resourceNames": [created["createdPeople"][1]["person"]["resourceName"]]}
        ),
    )
    emulator.touch(updated["resourceName"])
    run(
        "people.connections.list",
        people.connections().list(
            resourceName="people/me",
            personFields=ALL_FIELDS,
            pageSize=1000,
            requestSyncToken=True,
            syncToken=listing["nextSyncToken"],
        ),
    )
    group = run(
        "contactGroups.create",
        groups.create(
            body={"contactGroup": {"name": "Clients", "clientData": [{"key": "k", "value": "v"}]}}
        ),
    )
    run(
        "contactGroups.list",
        groups.list(groupFields="clientData,groupType,memberCount,metadata,name"),
    )
    run(
        "contactGroups.members.modify",
        groups.members().modify(
            resourceName=group["resourceName"],
            body={"resourceNamesToAdd": [first["resourceName"], "people/c1"]},
        ),
    )
    run("contactGroups.get", groups.get(resourceName=group["resourceName"], maxMembers=5))
    renamed = run(
        "contactGroups.update",
        groups.update(
            resourceName=group["resourceName"],
            body={"contactGroup": {"name": "Clients 2", "etag": group["etag"]}},
        ),
    )
    run("contactGroups.delete", groups.delete(resourceName=renamed["resourceName"]))
    return recorded


def test_scenario_covers_every_implemented_method(answers: list[tuple[str, Any]]) -> None:
    """The scenario calls each implemented method at least once."""
    called = {method for method, _ in answers}
    assert called == {
        "people.createContact", "people.connections.list", "people.get", "people.getBatchGet",
        "people.updateContact", "people.batchCreateContacts", "people.batchUpdateContacts",
        "people.searchContacts", "people.deleteContact", "people.batchDeleteContacts",
        "contactGroups.create", "contactGroups.list", "contactGroups.members.modify",
        "contactGroups.get", "contactGroups.update", "contactGroups.delete",
    }  # fmt: skip


def test_every_answer_key_is_in_the_discovery_schema(answers: list[tuple[str, Any]]) -> None:
    """No answer holds a key the discovery document does not define for its response type."""
    problems = [p for method, body in answers for p in conformance_problems(method, body)]
    assert problems == []


def test_incremental_answer_holds_a_tombstone(answers: list[tuple[str, Any]]) -> None:
    """The scenario's incremental list includes deleted contacts (so tombstones were checked)."""
    incremental = [body for method, body in answers if method == "people.connections.list"][-1]
    assert any(p.get("metadata", {}).get("deleted") for p in incremental["connections"])


def test_walker_catches_an_invented_key() -> None:
    """The schema walker reports a key the schema does not define."""
    problems = conformance_problems("people.get", {"names": [{"givenName": "A", "nickName": "B"}]})
    assert problems == ["people.get.names[0].nickName: not in schema Name"]
