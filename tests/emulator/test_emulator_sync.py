"""connections.list paging and sync tokens, driven through the real google-api-python-client."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from atarys.emulator.server import RunningEmulator
from fixtures.emulator import Admin, error_reason, google_error


def connections(service: Any, **params: Any) -> dict[str, Any]:
    params.setdefault("personFields", "names")
    answer: dict[str, Any] = (
        service.people().connections().list(resourceName="people/me", **params).execute()
    )
    return answer


def full_sync(
    service: Any, page_size: int = 100, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every page of a full list; returns (people, nextSyncToken)."""
    people: list[dict[str, Any]] = []
    token = None
    while True:
        answer = connections(
            service, pageSize=page_size, requestSyncToken=True, pageToken=token, **params
        )
        people += answer.get("connections", [])
        token = answer.get("nextPageToken")
        if not token:
            return people, answer["nextSyncToken"]


def incremental(
    service: Any, sync_token: str, page_size: int = 100, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every page of an incremental list; returns (changed people, nextSyncToken)."""
    people: list[dict[str, Any]] = []
    token = None
    while True:
        answer = connections(
            service,
            pageSize=page_size,
            requestSyncToken=True,
            syncToken=sync_token,
            pageToken=token,
            **params,
        )
        people += answer.get("connections", [])
        token = answer.get("nextPageToken")
        if not token:
            return people, answer["nextSyncToken"]


def create(service: Any, given: str) -> dict[str, Any]:
    person: dict[str, Any] = (
        service.people().createContact(body={"names": [{"givenName": given}]}).execute()
    )
    return person


def test_default_page_size_is_100(people_service: Any, emulator: RunningEmulator) -> None:
    """Without pageSize a page holds 100 contacts and a nextPageToken follows."""
    emulator.seed(150)
    answer = connections(people_service)
    assert len(answer["connections"]) == 100
    assert answer["nextPageToken"]
    assert answer["totalItems"] == 150


def test_page_size_max_is_1000(people_service: Any) -> None:
    """pageSize above 1000 answers 400 INVALID_ARGUMENT."""
    with pytest.raises(HttpError) as caught:
        connections(people_service, pageSize=1001)
    assert caught.value.resp.status == 400


def test_person_fields_required(people_service: Any) -> None:
    """connections.list without personFields answers 400."""
    with pytest.raises(HttpError) as caught:
        people_service.people().connections().list(resourceName="people/me").execute()
    assert caught.value.resp.status == 400
    assert google_error(caught.value)["status"] == "INVALID_ARGUMENT"


def test_full_list_walks_every_contact_once(people_service: Any, emulator: RunningEmulator) -> None:
    """Paging through 500 contacts returns each exactly once."""
    emulator.seed(500)
    people, _ = full_sync(people_service, page_size=73)
    names = [p["resourceName"] for p in people]
    assert len(names) == 500
    assert len(set(names)) == 500


def test_next_page_token_absent_on_last_page(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """The last page has no nextPageToken."""
    emulator.seed(5)
    answer = connections(people_service, pageSize=10)
    assert "nextPageToken" not in answer


def test_next_sync_token_only_on_last_page(people_service: Any, emulator: RunningEmulator) -> None:
    """nextSyncToken comes only on the last page."""
    emulator.seed(15)
    first = connections(people_service, pageSize=10, requestSyncToken=True)
    assert "nextSyncToken" not in first
    last = connections(
        people_service, pageSize=10, requestSyncToken=True, pageToken=first["nextPageToken"]
    )
    assert last["nextSyncToken"]


def test_next_sync_token_only_when_requested(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """Without requestSyncToken=true there is no nextSyncToken."""
    emulator.seed(3)
    assert "nextSyncToken" not in connections(people_service)


def test_page_token_with_other_parameters_is_400(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """A page token used with different personFields answers 400."""
    emulator.seed(15)
    first = connections(people_service, pageSize=10)
    with pytest.raises(HttpError) as caught:
        connections(
            people_service,
            pageSize=10,
            personFields="names,emailAddresses",
            pageToken=first["nextPageToken"],
        )
    assert caught.value.resp.status == 400


def test_sync_token_with_other_parameters_is_400(people_service: Any) -> None:
    """A sync token used with different personFields answers 400."""
    _, token = full_sync(people_service)
    with pytest.raises(HttpError) as caught:
        connections(people_service, personFields="emailAddresses", syncToken=token)
    assert caught.value.resp.status == 400


def test_incremental_holds_only_changed_contacts(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """After a full sync, an incremental sync returns only the contacts created or updated since."""
    emulator.seed(30)
    people, token = full_sync(people_service)
    changed = people[4]
    people_service.people().updateContact(
        resourceName=changed["resourceName"],
        updatePersonFields="names",
        body={"etag": changed["etag"], "names": [{"givenName": "Changé"}]},
    ).execute()
    new = create(people_service, "Nouveau")
    delta, _ = incremental(people_service, token)
    assert [p["resourceName"] for p in delta] == [changed["resourceName"], new["resourceName"]]


def test_incremental_reports_deletions_as_tombstones(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """A contact deleted since the sync token comes back with metadata.deleted true."""
    emulator.seed(5)
    people, token = full_sync(people_service)
    people_service.people().deleteContact(resourceName=people[0]["resourceName"]).execute()
    delta, _ = incremental(people_service, token)
    assert len(delta) == 1
    assert delta[0]["resourceName"] == people[0]["resourceName"]
    assert delta[0]["metadata"]["deleted"] is True
    assert "names" not in delta[0]


def test_incremental_after_no_change_is_empty(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """An incremental sync right after a full one holds no contacts but a new token."""
    emulator.seed(5)
    _, token = full_sync(people_service)
    answer = connections(people_service, requestSyncToken=True, syncToken=token)
    assert "connections" not in answer
    assert answer["nextSyncToken"]


def test_incremental_chain_sees_every_change(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """Successive incremental syncs, each with the previous token, see each change once."""
    _, token = full_sync(people_service)
    seen: list[str] = []
    for round_ in range(3):
        created = [create(people_service, f"R{round_}-{i}")["resourceName"] for i in range(4)]
        delta, token = incremental(people_service, token, page_size=3)
        assert [p["resourceName"] for p in delta] == created
        seen += created
    assert len(set(seen)) == 12


def test_incremental_pages(people_service: Any, emulator: RunningEmulator) -> None:
    """An incremental answer larger than pageSize is paged; every change comes once."""
    _, token = full_sync(people_service)
    emulator.seed(25)
    delta, _ = incremental(people_service, token, page_size=10)
    assert len({p["resourceName"] for p in delta}) == 25


def test_contact_changed_during_full_paging_is_not_lost(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """A contact updated between two pages of a full sync is listed once, then in the next delta."""
    emulator.seed(20)
    first = connections(people_service, pageSize=10, requestSyncToken=True)
    listed = list(first["connections"])
    later = emulator.state.user("demo@example.com")
    target = next(
        c
        for c in later.contacts.values()
        if c.resource_name not in {p["resourceName"] for p in listed}
    )
    emulator.touch(target.resource_name)
    second = connections(
        people_service, pageSize=10, requestSyncToken=True, pageToken=first["nextPageToken"]
    )
    listed += second["connections"]
    assert sorted(p["resourceName"] for p in listed) == sorted(later.contacts)
    delta, _ = incremental(people_service, second["nextSyncToken"])
    assert [p["resourceName"] for p in delta] == [target.resource_name]


def test_expired_sync_token_is_400_expired_sync_token(people_service: Any, admin: Admin) -> None:
    """After admin expire-sync-tokens, the old token answers 400 with reason EXPIRED_SYNC_TOKEN."""
    _, token = full_sync(people_service)
    admin.call("POST", "expire-sync-tokens")
    with pytest.raises(HttpError) as caught:
        connections(people_service, requestSyncToken=True, syncToken=token)
    error = google_error(caught.value)
    assert caught.value.resp.status == 400
    assert error["status"] == "FAILED_PRECONDITION"
    assert error_reason(caught.value) == "EXPIRED_SYNC_TOKEN"
    assert (
        error["message"]
        == "Sync token is expired. Clear local cache and retry call without the sync token."
    )


def test_sync_token_expires_after_seven_days(emulator: RunningEmulator) -> None:
    """A sync token older than 7 days answers 400 EXPIRED_SYNC_TOKEN; a newer one works."""
    from google.oauth2.credentials import Credentials

    from atarys.google.client import build_people_service

    token_30_days = emulator.issue_token(ttl_s=30 * 86400)
    people_service = build_people_service(Credentials(token=token_30_days), emulator.url)
    _, token = full_sync(people_service)
    emulator.advance_clock(6 * 86400)
    connections(people_service, requestSyncToken=True, syncToken=token)
    emulator.advance_clock(86400 + 1)
    with pytest.raises(HttpError) as caught:
        connections(people_service, requestSyncToken=True, syncToken=token)
    assert error_reason(caught.value) == "EXPIRED_SYNC_TOKEN"


def test_sync_token_ttl_is_configurable(people_service: Any, emulator: RunningEmulator) -> None:
    """sync_token_ttl_s shortens the lifetime of sync tokens."""
    emulator.set_faults(sync_token_ttl_s=60)
    _, token = full_sync(people_service)
    emulator.advance_clock(61)
    with pytest.raises(HttpError) as caught:
        connections(people_service, requestSyncToken=True, syncToken=token)
    assert error_reason(caught.value) == "EXPIRED_SYNC_TOKEN"


def test_full_sync_after_expiry_gives_working_token(people_service: Any, admin: Admin) -> None:
    """After an expired token, a new full sync gives a token that works."""
    _, token = full_sync(people_service)
    admin.call("POST", "expire-sync-tokens")
    _, fresh = full_sync(people_service)
    assert fresh != token
    assert "connections" not in connections(people_service, requestSyncToken=True, syncToken=fresh)


def test_sync_token_of_another_user_is_rejected(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """A sync token issued to one user is refused for another."""
    from google.oauth2.credentials import Credentials

    from atarys.google.client import build_people_service

    _, token = full_sync(people_service)
    other = build_people_service(
        Credentials(token=emulator.issue_token("paul@example.org")), emulator.url
    )
    with pytest.raises(HttpError) as caught:
        connections(other, requestSyncToken=True, syncToken=token)
    assert caught.value.resp.status == 400


def test_propagation_delay_hides_writes_from_sync(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """With a propagation delay, a write shows in incremental answers only after the delay."""
    _, token = full_sync(people_service)
    emulator.set_faults(propagation_delay_s=120)
    new = create(people_service, "Lent")
    delta, token2 = incremental(people_service, token)
    assert delta == []
    emulator.advance_clock(121)
    delta, _ = incremental(people_service, token2)
    assert [p["resourceName"] for p in delta] == [new["resourceName"]]


def test_touch_shows_in_sync_with_new_etag_and_same_content(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """A touched contact comes back in the delta with a new etag and updateTime, same names."""
    emulator.seed(3)
    people, token = full_sync(people_service, personFields="names,metadata")
    emulator.touch(people[1]["resourceName"])
    delta, _ = incremental(people_service, token, personFields="names,metadata")
    assert len(delta) == 1
    assert delta[0]["etag"] != people[1]["etag"]
    assert delta[0]["names"] == people[1]["names"]
    assert (
        delta[0]["metadata"]["sources"][0]["updateTime"]
        > people[1]["metadata"]["sources"][0]["updateTime"]
    )


def test_sort_order_descending(people_service: Any) -> None:
    """LAST_MODIFIED_DESCENDING lists the newest change first."""
    names = [create(people_service, f"N{i}")["resourceName"] for i in range(4)]
    answer = connections(people_service, sortOrder="LAST_MODIFIED_DESCENDING", pageSize=3)
    more = connections(
        people_service,
        sortOrder="LAST_MODIFIED_DESCENDING",
        pageSize=3,
        pageToken=answer["nextPageToken"],
    )
    assert [p["resourceName"] for p in answer["connections"] + more["connections"]] == names[::-1]


def test_sort_order_last_name(people_service: Any) -> None:
    """LAST_NAME_ASCENDING sorts by family name."""
    for family in ("Martin", "Bernard", "Dubois"):
        people_service.people().createContact(body={"names": [{"familyName": family}]}).execute()
    answer = connections(people_service, sortOrder="LAST_NAME_ASCENDING")
    assert [p["names"][0]["familyName"] for p in answer["connections"]] == [
        "Bernard",
        "Dubois",
        "Martin",
    ]


def test_reset_expires_older_sync_tokens(people_service: Any, emulator: RunningEmulator) -> None:
    """After an admin reset, a sync token from before answers EXPIRED_SYNC_TOKEN."""
    emulator.seed(3)
    _, token = full_sync(people_service)
    emulator.reset()
    with pytest.raises(HttpError) as caught:
        connections(people_service, requestSyncToken=True, syncToken=token)
    assert error_reason(caught.value) == "EXPIRED_SYNC_TOKEN"
