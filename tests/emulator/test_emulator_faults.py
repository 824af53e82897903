"""Quota buckets, injected faults, stats and the admin API."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from atarys.emulator.server import RunningEmulator
from fixtures.emulator import Admin, error_reason, google_error


def list_me(service: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (
        service.people()
        .connections()
        .list(resourceName="people/me", personFields="names")
        .execute()
    )
    return answer


def create(service: Any, given: str = "Jean", **extra: Any) -> dict[str, Any]:
    body = {"names": [{"givenName": given}], **extra}
    person: dict[str, Any] = service.people().createContact(body=body).execute()
    return person


def test_quota_bucket_answers_429_resource_exhausted(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """Past the per-minute critical read limit, a read answers 429 RATE_LIMIT_EXCEEDED."""
    emulator.set_faults(quota={"critical_read": 2})
    list_me(people_service)
    list_me(people_service)
    with pytest.raises(HttpError) as caught:
        list_me(people_service)
    error = google_error(caught.value)
    assert caught.value.resp.status == 429
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error_reason(caught.value) == "RATE_LIMIT_EXCEEDED"
    assert "Critical read requests" in error["message"]


def test_quota_window_resets_after_a_minute(people_service: Any, emulator: RunningEmulator) -> None:
    """The per-minute bucket refills after 60 seconds."""
    emulator.set_faults(quota={"critical_read": 1})
    list_me(people_service)
    emulator.advance_clock(61)
    list_me(people_service)


def test_quota_is_per_user(people_service: Any, emulator: RunningEmulator) -> None:
    """One user's full bucket does not limit another user."""
    from google.oauth2.credentials import Credentials

    from atarys.google.client import build_people_service

    emulator.set_faults(quota={"critical_read": 1})
    list_me(people_service)
    other = build_people_service(
        Credentials(token=emulator.issue_token("paul@example.org")), emulator.url
    )
    list_me(other)


def test_batch_create_costs_daily_contact_writes(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """A batch create of 3 counts 6 critical reads, 6 critical writes and 3 daily contact writes."""
    body = {
        "contacts": [{"contactPerson": {"names": [{"givenName": "x"}]}}] * 3,
        "readMask": "names",
    }
    people_service.people().batchCreateContacts(body=body).execute()
    stats = emulator.stats()
    assert stats["methods"] == {"people.batchCreateContacts": 1}
    assert stats["buckets"] == {"critical_read": 6, "critical_write": 6, "daily_contact_writes": 3}


def test_stats_count_methods_and_reset(people_service: Any, admin: Admin) -> None:
    """GET /_emulator/stats counts calls per method; DELETE zeroes them."""
    list_me(people_service)
    list_me(people_service)
    create(people_service)
    stats = admin.call("GET", "stats", user="demo@example.com")
    assert stats["methods"] == {"people.connections.list": 2, "people.createContact": 1}
    assert stats["buckets"]["critical_read"] == 2
    admin.call("DELETE", "stats")
    assert admin.call("GET", "stats", user="demo@example.com")["requests"] == 0


def test_fail_next_injects_503_before_applying(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """fail_next=1: the next write answers 503 and nothing is created."""
    emulator.set_faults(fail_next=1)
    with pytest.raises(HttpError) as caught:
        create(people_service)
    assert caught.value.resp.status == 503
    assert emulator.state.user("demo@example.com").live_count == 0
    create(people_service)


def test_fail_after_apply_applies_then_answers_503(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """fail_after_apply=1: the create happens but the answer is a 503 (a lost response)."""
    emulator.set_faults(fail_after_apply=1)
    with pytest.raises(HttpError) as caught:
        create(people_service)
    assert caught.value.resp.status == 503
    assert emulator.state.user("demo@example.com").live_count == 1


def test_error_rate_is_deterministic_with_a_seed(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """The same error_seed gives the same sequence of failures."""

    def outcomes() -> list[int]:
        emulator.set_faults(error_rate=0.5, error_seed=7)
        result = []
        for _ in range(12):
            try:
                list_me(people_service)
                result.append(200)
            except HttpError as exc:
                result.append(exc.resp.status)
        return result

    first = outcomes()
    assert set(first) > {200}
    assert set(first) <= {200, 500, 503}
    assert outcomes() == first


def test_latency_is_added(people_service: Any, emulator: RunningEmulator) -> None:
    """latency_ms delays each answer."""
    import time

    emulator.set_faults(latency_ms=150)
    started = time.perf_counter()
    list_me(people_service)
    assert time.perf_counter() - started >= 0.15


def test_phone_reformatted_by_server_keeps_canonical_form(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """With phone_format, the stored value differs from what was sent; canonicalForm stays E.164."""
    emulator.set_faults(phone_format="INTERNATIONAL")
    person = (
        people_service.people()
        .createContact(
            body={"phoneNumbers": [{"value": "0612345678"}]}, personFields="phoneNumbers"
        )
        .execute()
    )
    assert person["phoneNumbers"][0]["value"] == "+33 6 12 34 56 78"
    assert person["phoneNumbers"][0]["canonicalForm"] == "+33612345678"


def test_admin_token_skips_consent(emulator: RunningEmulator, admin: Admin) -> None:
    """POST /_emulator/token gives an access token the client can use."""
    from google.oauth2.credentials import Credentials

    from atarys.google.client import build_people_service

    token = admin.call("POST", "token", {"scopes": ["https://www.googleapis.com/auth/contacts"]})[
        "access_token"
    ]
    list_me(build_people_service(Credentials(token=token), emulator.url))


def test_admin_seed_and_raw_contacts(admin: Admin) -> None:
    """POST /_emulator/seed adds contacts that GET /_emulator/contacts shows."""
    assert admin.call("POST", "seed", {"count": 40})["created"] == 40
    contacts = admin.call("GET", "contacts")["contacts"]
    assert len(contacts) == 40
    assert all(not c["deleted"] for c in contacts)


def test_seed_is_realistic(admin: Admin) -> None:
    """Seeded contacts include several e-mails or phones, some without e-mail, duplicates by e-mail."""
    admin.call("POST", "seed", {"count": 300})
    people = [c["person"] for c in admin.call("GET", "contacts")["contacts"]]
    emails = [e["value"] for p in people for e in p.get("emailAddresses", [])[:1]]
    assert any(len(p.get("emailAddresses", [])) > 1 for p in people)
    assert any(len(p.get("phoneNumbers", [])) > 1 for p in people)
    assert any("emailAddresses" not in p for p in people)
    assert len(set(emails)) < len(emails)


def test_admin_patch_edits_like_a_phone(people_service: Any, admin: Admin) -> None:
    """PATCH /_emulator/contacts/<id> replaces the listed fields, with a new etag."""
    person = create(people_service)
    number = person["resourceName"].removeprefix("people/c")
    raw = admin.call("PATCH", f"contacts/c{number}", {"names": [{"givenName": "Téléphone"}]})
    assert raw["person"]["names"][0]["givenName"] == "Téléphone"
    assert raw["etag"] != person["etag"]


def test_admin_delete_leaves_tombstone(people_service: Any, admin: Admin) -> None:
    """DELETE /_emulator/contacts/<id> deletes; the raw state keeps the tombstone."""
    person = create(people_service)
    admin.call("DELETE", "contacts/" + person["resourceName"].removeprefix("people/"))
    raw = admin.call("GET", "contacts")["contacts"]
    assert [c["deleted"] for c in raw] == [True]


def test_admin_touch_changes_etag_only(people_service: Any, admin: Admin) -> None:
    """POST /_emulator/contacts/<id>/touch gives a new etag, same content."""
    person = (
        people_service.people()
        .createContact(body={"names": [{"givenName": "T"}]}, personFields="names")
        .execute()
    )
    raw = admin.call(
        "POST", "contacts/" + person["resourceName"].removeprefix("people/") + "/touch"
    )
    assert raw["etag"] != person["etag"]
    assert raw["person"]["names"] == person["names"]


def test_admin_reset_forgets_contacts(people_service: Any, admin: Admin) -> None:
    """POST /_emulator/reset empties the account."""
    create(people_service)
    admin.call("POST", "reset")
    assert "connections" not in list_me(people_service)


def test_admin_faults_put_and_get(admin: Admin) -> None:
    """PUT /_emulator/faults sets faults that GET reads back."""
    admin.call("PUT", "faults", {"latency_ms": 5, "quota": {"write": 10}})
    faults = admin.call("GET", "faults")
    assert faults["latency_ms"] == 5
    assert faults["quota"] == {"write": 10}


def test_admin_unknown_fault_is_400(emulator: RunningEmulator) -> None:
    """An unknown fault name answers 400."""
    import requests

    answer = requests.put(emulator.url + "_emulator/faults", json={"nope": 1}, timeout=10)
    assert answer.status_code == 400


def test_admin_user_parameter_separates_accounts(admin: Admin) -> None:
    """Admin calls with ``user`` act on that account only."""
    admin.call("POST", "seed", {"count": 3, "user": "paul@example.org"})
    assert admin.call("GET", "contacts", user="paul@example.org")["contacts"]
    assert admin.call("GET", "contacts")["contacts"] == []


def test_delete_costs_the_write_bucket(people_service: Any, emulator: RunningEmulator) -> None:
    """A delete counts in the write bucket; past its limit it answers 429."""
    emulator.set_faults(quota={"write": 1})
    first, second = create(people_service), create(people_service)
    people_service.people().deleteContact(resourceName=first["resourceName"]).execute()
    with pytest.raises(HttpError) as caught:
        people_service.people().deleteContact(resourceName=second["resourceName"]).execute()
    assert caught.value.resp.status == 429
    assert emulator.stats()["buckets"]["write"] == 1


def test_daily_contact_writes_limit(people_service: Any, emulator: RunningEmulator) -> None:
    """A batch create larger than what is left of daily_contact_writes answers 429."""
    emulator.set_faults(quota={"daily_contact_writes": 3})
    body = {
        "contacts": [{"contactPerson": {"names": [{"givenName": "x"}]}}] * 4,
        "readMask": "names",
    }
    with pytest.raises(HttpError) as caught:
        people_service.people().batchCreateContacts(body=body).execute()
    assert caught.value.resp.status == 429
    assert emulator.state.user("demo@example.com").live_count == 0


def test_pruned_tombstones_expire_older_sync_tokens(
    people_service: Any, emulator: RunningEmulator, admin: Admin
) -> None:
    """Once tombstones are pruned, a sync token older than them answers EXPIRED_SYNC_TOKEN."""
    person = create(people_service)
    token = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields="names", requestSyncToken=True)
        .execute()["nextSyncToken"]
    )
    people_service.people().deleteContact(resourceName=person["resourceName"]).execute()
    assert admin.call("POST", "prune-tombstones", {"older_than_s": 0})["pruned"] == 1
    with pytest.raises(HttpError) as caught:
        people_service.people().connections().list(
            resourceName="people/me", personFields="names", syncToken=token
        ).execute()
    assert error_reason(caught.value) == "EXPIRED_SYNC_TOKEN"


def test_fail_next_with_429_answers_rate_limit_exceeded(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """fail_next_code=429 injects Google's 429 RESOURCE_EXHAUSTED body."""
    emulator.set_faults(fail_next=1, fail_next_code=429)
    with pytest.raises(HttpError) as caught:
        list_me(people_service)
    assert caught.value.resp.status == 429
    assert error_reason(caught.value) == "RATE_LIMIT_EXCEEDED"
    list_me(people_service)


def test_first_page_of_full_sync_has_its_own_quota(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """The full_sync bucket limits first pages of full lists, not next pages or incremental calls."""
    emulator.seed(4)
    emulator.set_faults(quota={"full_sync": 1})
    listing = people_service.people().connections()
    first = listing.list(
        resourceName="people/me", personFields="names", pageSize=2, requestSyncToken=True
    ).execute()
    last = listing.list(
        resourceName="people/me",
        personFields="names",
        pageSize=2,
        requestSyncToken=True,
        pageToken=first["nextPageToken"],
    ).execute()
    listing.list(
        resourceName="people/me",
        personFields="names",
        pageSize=2,
        requestSyncToken=True,
        syncToken=last["nextSyncToken"],
    ).execute()
    with pytest.raises(HttpError) as caught:
        listing.list(resourceName="people/me", personFields="names").execute()
    assert caught.value.resp.status == 429
