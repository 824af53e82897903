"""Google's stricter behaviours (issue 12): renames, batch errors, profiles, lag, groups, quota, merges.

Each test drives the emulator through the real google-api-python-client; optional
behaviours are switched on through the ``/_emulator/faults`` admin API.
"""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from atarys.emulator.server import RunningEmulator
from fixtures.emulator import Admin, error_reason, google_error

FIELDS = "names,emailAddresses,phoneNumbers,clientData,memberships,metadata"


def create(service: Any, given: str = "Jean", **extra: Any) -> dict[str, Any]:
    body = {"names": [{"givenName": given}], **extra}
    person: dict[str, Any] = service.people().createContact(body=body).execute()
    return person


def get(service: Any, name: str, **params: Any) -> dict[str, Any]:
    person: dict[str, Any] = (
        service.people().get(resourceName=name, personFields=FIELDS, **params).execute()
    )
    return person


def listing(service: Any, **params: Any) -> dict[str, Any]:
    """Every page of connections.list, connections joined; the last page's other keys."""
    people: list[dict[str, Any]] = []
    token = None
    while True:
        page: dict[str, Any] = (
            service.people()
            .connections()
            .list(resourceName="people/me", personFields=FIELDS, pageToken=token, **params)
            .execute()
        )
        people += page.get("connections", [])
        token = page.get("nextPageToken")
        if not token:
            page["connections"] = people
            return page


def by_name(people: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["resourceName"]: p for p in people}


def admin_contact(admin: Admin, name: str, action: str, body: Any = None) -> Any:
    return admin.call("POST", "contacts/" + name.removeprefix("people/") + "/" + action, body)


# ----------------------------------------------------------------------------- 1. renames


def test_previous_resource_names_only_in_sync_token_listings(
    people_service: Any, admin: Admin
) -> None:
    """After a rename the old name shows only in a sync-token listing, never in get or a full list."""
    old = create(people_service)["resourceName"]
    token = listing(people_service, requestSyncToken=True)["nextSyncToken"]
    new = admin_contact(admin, old, "rename")["resourceName"]

    changes = by_name(listing(people_service, syncToken=token)["connections"])
    full = by_name(listing(people_service)["connections"])
    got = get(people_service, new)
    batch = people_service.people().getBatchGet(resourceNames=[new], personFields=FIELDS).execute()

    assert changes[new]["metadata"]["previousResourceNames"] == [old]
    assert "previousResourceNames" not in full[new]["metadata"]
    assert "previousResourceNames" not in got["metadata"]
    assert "previousResourceNames" not in batch["responses"][0]["person"]["metadata"]


def test_renamed_contact_old_name_is_404(people_service: Any, admin: Admin) -> None:
    """The old resource name of a renamed contact answers 404 NOT_FOUND."""
    old = create(people_service)["resourceName"]
    admin_contact(admin, old, "rename")
    with pytest.raises(HttpError) as caught:
        get(people_service, old)
    assert caught.value.resp.status == 404


def test_rename_on_update_fault(people_service: Any, admin: Admin) -> None:
    """With ``rename_on_update`` a batch update answers the person under a new name."""
    person = create(people_service)
    admin.call("PUT", "faults", {"rename_on_update": 1})
    answer = (
        people_service.people()
        .batchUpdateContacts(
            body={
                "contacts": {
                    person["resourceName"]: {
                        "etag": person["etag"],
                        "names": [{"givenName": "Paul"}],
                    }
                },
                "updateMask": "names",
                "readMask": "names,metadata",
            }
        )
        .execute()
    )
    result = answer["updateResult"][person["resourceName"]]
    assert result["requestedResourceName"] == person["resourceName"]
    assert result["person"]["resourceName"] != person["resourceName"]
    assert get(people_service, result["person"]["resourceName"])["names"][0]["givenName"] == "Paul"


# ----------------------------------------------------------------------------- 2. batch errors


def test_batch_create_fails_per_contact(people_service: Any, admin: Admin) -> None:
    """A rejected contact fails the batch: 400 with BatchCreateContactsErrorDetails by index."""
    admin.call("PUT", "faults", {"reject_marker": "REJECT"})
    body = {
        "contacts": [
            {"contactPerson": {"names": [{"givenName": "Ok"}]}},
            {"contactPerson": {"names": [{"givenName": "REJECT me"}]}},
        ],
        "readMask": "names",
    }
    with pytest.raises(HttpError) as caught:
        people_service.people().batchCreateContacts(body=body).execute()
    error = google_error(caught.value)
    assert caught.value.resp.status == 400
    [detail] = error["details"]
    assert detail["@type"] == "type.googleapis.com/google.people.v1.BatchCreateContactsErrorDetails"
    assert set(detail["contactErrors"]) == {"1"}
    assert detail["contactErrors"]["1"]["code"] == 3
    assert listing(people_service)["connections"] == []  # all or none


def test_batch_update_fails_per_contact(people_service: Any) -> None:
    """A stale etag fails a batch update with BatchUpdateContactsErrorDetails by resource name."""
    good, stale = create(people_service, "A"), create(people_service, "B")
    body = {
        "contacts": {
            good["resourceName"]: {"etag": good["etag"], "names": [{"givenName": "A2"}]},
            stale["resourceName"]: {"etag": "%stale", "names": [{"givenName": "B2"}]},
        },
        "updateMask": "names",
        "readMask": "names",
    }
    with pytest.raises(HttpError) as caught:
        people_service.people().batchUpdateContacts(body=body).execute()
    error = google_error(caught.value)
    [detail] = error["details"]
    assert detail["@type"] == "type.googleapis.com/google.people.v1.BatchUpdateContactsErrorDetails"
    assert set(detail["contactErrors"]) == {stale["resourceName"]}
    assert detail["contactErrors"][stale["resourceName"]]["code"] == 9
    assert error["status"] == "FAILED_PRECONDITION"
    assert get(people_service, good["resourceName"])["names"][0]["givenName"] == "A"


# ----------------------------------------------------------------------------- 3. profiles


def test_profile_values_merged_with_sources(people_service: Any, admin: Admin) -> None:
    """A linked profile's verified e-mail shows with source PROFILE unless sources asks contacts only."""
    name = create(people_service, emailAddresses=[{"value": "jean@home.fr"}])["resourceName"]
    admin_contact(
        admin, name, "profile", {"profile": {"emailAddresses": [{"value": "jean@gmail.com"}]}}
    )

    merged = get(people_service, name)
    only_contact = get(people_service, name, sources="READ_SOURCE_TYPE_CONTACT")

    emails = {e["value"]: e["metadata"] for e in merged["emailAddresses"]}
    assert emails["jean@home.fr"]["source"]["type"] == "CONTACT"
    assert emails["jean@gmail.com"]["source"]["type"] == "PROFILE"
    assert emails["jean@gmail.com"]["verified"] is True
    assert {s["type"] for s in merged["metadata"]["sources"]} == {"CONTACT", "PROFILE"}
    assert [e["value"] for e in only_contact["emailAddresses"]] == ["jean@home.fr"]


def test_search_reads_contacts_only_by_default(people_service: Any, admin: Admin) -> None:
    """searchContacts defaults to READ_SOURCE_TYPE_CONTACT: no profile values."""
    name = create(people_service, "Zoé")["resourceName"]
    admin_contact(
        admin, name, "profile", {"profile": {"emailAddresses": [{"value": "zoe@gmail.com"}]}}
    )
    found = people_service.people().searchContacts(query="Zoé", readMask="emailAddresses").execute()
    assert "emailAddresses" not in found["results"][0]["person"]


def test_update_ignores_profile_data(people_service: Any, admin: Admin) -> None:
    """Sending back a read person with its profile entries stores only the contact's own."""
    name = create(people_service, emailAddresses=[{"value": "jean@home.fr"}])["resourceName"]
    admin_contact(
        admin, name, "profile", {"profile": {"emailAddresses": [{"value": "jean@gmail.com"}]}}
    )
    person = get(people_service, name)
    people_service.people().updateContact(
        resourceName=name, updatePersonFields="emailAddresses", body=person
    ).execute()
    own = get(people_service, name, sources="READ_SOURCE_TYPE_CONTACT")
    assert [e["value"] for e in own["emailAddresses"]] == ["jean@home.fr"]


# ----------------------------------------------------------------------------- 4. consistency


def test_stale_read_after_write(people_service: Any, emulator: RunningEmulator) -> None:
    """With ``stale_read_s``, get returns the previous etag until the delay has passed."""
    person = create(people_service)
    emulator.set_faults(stale_read_s=30)
    updated = (
        people_service.people()
        .updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="names",
            body={"etag": person["etag"], "names": [{"givenName": "Paul"}]},
        )
        .execute()
    )
    assert get(people_service, person["resourceName"])["etag"] == person["etag"]
    emulator.advance_clock(31)
    assert get(people_service, person["resourceName"])["etag"] == updated["etag"]


def test_full_listing_omits_a_contact_get_returns(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """``full_list_omit``: a full listing leaves the contact out; people.get still finds it."""
    kept, hidden = create(people_service, "A"), create(people_service, "B")
    emulator.set_faults(full_list_omit=[hidden["resourceName"]])
    assert list(by_name(listing(people_service)["connections"])) == [kept["resourceName"]]
    assert get(people_service, hidden["resourceName"])["names"][0]["givenName"] == "B"


# ----------------------------------------------------------------------------- 5. groups


def group(service: Any, name: str) -> str:
    created = service.contactGroups().create(body={"contactGroup": {"name": name}}).execute()
    return str(created["resourceName"])


def test_update_cannot_remove_every_membership(people_service: Any) -> None:
    """An update leaving a contact in no group answers 400: at least one membership stays."""
    person = create(people_service)
    with pytest.raises(HttpError) as caught:
        people_service.people().updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="memberships",
            body={"etag": person["etag"], "memberships": []},
        ).execute()
    assert caught.value.resp.status == 400


def test_user_group_only_contact_joins_my_contacts_by_default(people_service: Any) -> None:
    """Default (legacy): a contact created in a user group only also joins myContacts."""
    gid = group(people_service, "ATARYS")
    person = create(
        people_service, memberships=[{"contactGroupMembership": {"contactGroupResourceName": gid}}]
    )
    groups = {
        m["contactGroupMembership"]["contactGroupResourceName"] for m in person["memberships"]
    }
    assert groups == {gid, "contactGroups/myContacts"}


def test_strict_my_contacts_makes_other_contacts(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """``strict_my_contacts``: created in a user group only → not in myContacts, not listed."""
    emulator.set_faults(strict_my_contacts=True)
    gid = group(people_service, "ATARYS")
    other = create(
        people_service, memberships=[{"contactGroupMembership": {"contactGroupResourceName": gid}}]
    )
    mine = create(people_service, "Mine")
    groups = [m["contactGroupMembership"]["contactGroupResourceName"] for m in other["memberships"]]
    assert groups == [gid]
    assert list(by_name(listing(people_service)["connections"])) == [mine["resourceName"]]
    assert get(people_service, other["resourceName"])["resourceName"] == other["resourceName"]


# ----------------------------------------------------------------------------- 6. quota


def test_quota_429_error_info_names_metric_and_limit(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """A 429 carries an ErrorInfo with Google's quota metric and limit names."""
    emulator.set_faults(quota={"critical_read": 0})
    with pytest.raises(HttpError) as caught:
        listing(people_service)
    assert caught.value.resp.status == 429
    assert error_reason(caught.value) == "RATE_LIMIT_EXCEEDED"
    [detail] = google_error(caught.value)["details"]
    assert detail["metadata"]["quota_metric"] == "people.googleapis.com/critical_read_requests"
    assert detail["metadata"]["quota_limit"] == "CriticalReadsPerMinutePerProjectPerUser"


def test_quota_429_quota_failure_detail(people_service: Any, emulator: RunningEmulator) -> None:
    """With ``quota_detail=QuotaFailure`` the 429 carries a QuotaFailure instead."""
    emulator.set_faults(quota={"critical_write": 0}, quota_detail="QuotaFailure")
    with pytest.raises(HttpError) as caught:
        create(people_service)
    error = google_error(caught.value)
    assert error["status"] == "RESOURCE_EXHAUSTED"
    [detail] = error["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.QuotaFailure"
    assert "Critical write requests" in detail["violations"][0]["description"]


# ----------------------------------------------------------------------------- 7. merges


def test_merge_keeps_both_client_data_and_tombstones_the_other(
    people_service: Any, admin: Admin
) -> None:
    """A phone merge: the survivor holds both clientData entries; the other is a tombstone."""
    first = create(people_service, "A", clientData=[{"key": "atarys_client_id", "value": "1"}])
    second = create(people_service, "B", clientData=[{"key": "atarys_client_id", "value": "2"}])
    token = listing(people_service, requestSyncToken=True)["nextSyncToken"]

    admin_contact(admin, first["resourceName"], "merge", {"other": second["resourceName"]})

    changes = by_name(listing(people_service, syncToken=token)["connections"])
    survivor = changes[first["resourceName"]]
    assert [c["value"] for c in survivor["clientData"]] == ["1", "2"]
    assert survivor["names"][0]["givenName"] == "A"
    assert survivor["metadata"]["previousResourceNames"] == [second["resourceName"]]
    assert changes[second["resourceName"]]["metadata"]["deleted"] is True
    with pytest.raises(HttpError) as caught:
        get(people_service, second["resourceName"])
    assert caught.value.resp.status == 404
