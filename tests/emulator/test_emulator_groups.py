"""contactGroups methods, driven through the real google-api-python-client."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from fixtures.emulator import google_error


def make_group(service: Any, name: str) -> dict[str, Any]:
    group: dict[str, Any] = (
        service.contactGroups().create(body={"contactGroup": {"name": name}}).execute()
    )
    return group


def test_list_includes_system_groups(people_service: Any) -> None:
    """contactGroups.list holds myContacts and starred as system groups."""
    groups = people_service.contactGroups().list().execute()["contactGroups"]
    by_name = {g["resourceName"]: g for g in groups}
    assert by_name["contactGroups/myContacts"]["groupType"] == "SYSTEM_CONTACT_GROUP"
    assert "contactGroups/starred" in by_name


def test_create_and_get_group(people_service: Any) -> None:
    """A created group can be read back by resource name."""
    group = make_group(people_service, "Clients ATARYS")
    got = people_service.contactGroups().get(resourceName=group["resourceName"]).execute()
    assert got["name"] == "Clients ATARYS"
    assert got["groupType"] == "USER_CONTACT_GROUP"


def test_duplicate_group_name_is_409(people_service: Any) -> None:
    """Creating a group with a name already used answers 409 ALREADY_EXISTS."""
    make_group(people_service, "Fournisseurs")
    with pytest.raises(HttpError) as caught:
        make_group(people_service, "Fournisseurs")
    assert caught.value.resp.status == 409
    assert google_error(caught.value)["status"] == "ALREADY_EXISTS"


def test_update_renames_group(people_service: Any) -> None:
    """contactGroups.update renames a group."""
    group = make_group(people_service, "Ancien")
    body = {"contactGroup": {"name": "Nouveau", "etag": group["etag"]}}
    updated = (
        people_service.contactGroups()
        .update(resourceName=group["resourceName"], body=body)
        .execute()
    )
    assert updated["name"] == "Nouveau"


def test_delete_group(people_service: Any) -> None:
    """A deleted group is gone (404)."""
    group = make_group(people_service, "Temporaire")
    people_service.contactGroups().delete(resourceName=group["resourceName"]).execute()
    with pytest.raises(HttpError) as caught:
        people_service.contactGroups().get(resourceName=group["resourceName"]).execute()
    assert caught.value.resp.status == 404


def test_members_modify_adds_membership(people_service: Any) -> None:
    """members.modify adds a contact; its memberships then list the group."""
    group = make_group(people_service, "VIP")
    person = people_service.people().createContact(body={"names": [{"givenName": "A"}]}).execute()
    answer = (
        people_service.contactGroups()
        .members()
        .modify(
            resourceName=group["resourceName"],
            body={"resourceNamesToAdd": [person["resourceName"], "people/c1"]},
        )
        .execute()
    )
    assert answer == {"notFoundResourceNames": ["people/c1"]}
    got = (
        people_service.people()
        .get(resourceName=person["resourceName"], personFields="memberships")
        .execute()
    )
    groups = {m["contactGroupMembership"]["contactGroupResourceName"] for m in got["memberships"]}
    assert groups == {"contactGroups/myContacts", group["resourceName"]}
    read = (
        people_service.contactGroups()
        .get(resourceName=group["resourceName"], maxMembers=10)
        .execute()
    )
    assert read["memberCount"] == 1
    assert read["memberResourceNames"] == [person["resourceName"]]


def test_create_contact_in_starred(people_service: Any) -> None:
    """A contact created with a starred membership is in myContacts and starred."""
    body = {
        "memberships": [
            {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/starred"}}
        ]
    }
    person = people_service.people().createContact(body=body, personFields="memberships").execute()
    groups = [
        m["contactGroupMembership"]["contactGroupResourceName"] for m in person["memberships"]
    ]
    assert groups == ["contactGroups/myContacts", "contactGroups/starred"]
