"""Sync tokens under random workloads: a mirror kept by incremental syncs always converges.

Seeded random operations (creates, batch creates, updates, deletes, batch deletes,
touches, group membership changes), some of them between the pages of a sync,
through the real client. After every quiet incremental sync, the mirror built from
the answers equals the emulator's live contacts (resource name → etag).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from atarys.emulator import DEFAULT_USER
from atarys.emulator.server import RunningEmulator


def live_etags(emulator: RunningEmulator) -> dict[str, str]:
    with emulator.state.lock:
        user = emulator.state.user(DEFAULT_USER)
        return {c.resource_name: c.etag for c in user.live_contacts()}


def random_write(service: Any, emulator: RunningEmulator, rng: random.Random) -> None:
    people = service.people()
    live = sorted(live_etags(emulator).items())
    roll = rng.random()
    if roll < 0.25 or not live:
        people.createContact(body={"names": [{"givenName": f"N{rng.randrange(10**6)}"}]}).execute()
    elif roll < 0.35:
        contacts = [
            {"contactPerson": {"names": [{"givenName": "B"}]}} for _ in range(rng.randrange(1, 6))
        ]
        people.batchCreateContacts(body={"contacts": contacts, "readMask": "names"}).execute()
    elif roll < 0.55:
        name, etag = rng.choice(live)
        body = {"etag": etag, "names": [{"givenName": f"U{rng.randrange(10**6)}"}]}
        people.updateContact(resourceName=name, updatePersonFields="names", body=body).execute()
    elif roll < 0.65:
        people.deleteContact(resourceName=rng.choice(live)[0]).execute()
    elif roll < 0.72:
        names = [n for n, _ in rng.sample(live, min(len(live), rng.randrange(1, 4)))]
        people.batchDeleteContacts(body={"resourceNames": names}).execute()
    elif roll < 0.85:
        emulator.touch(rng.choice(live)[0])
    else:
        service.contactGroups().members().modify(
            resourceName="contactGroups/starred", body={"resourceNamesToAdd": [rng.choice(live)[0]]}
        ).execute()


def sync(
    service: Any, token: str | None, mirror: dict[str, str], page_size: int, between: Any
) -> str:
    """One full (token None) or incremental sync into ``mirror``; ``between`` runs between pages."""
    if token is None:
        mirror.clear()
    page_token = None
    while True:
        answer = (
            service.people()
            .connections()
            .list(
                resourceName="people/me",
                personFields="names",
                pageSize=page_size,
                requestSyncToken=True,
                syncToken=token,
                pageToken=page_token,
            )
            .execute()
        )
        for person in answer.get("connections", []):
            if person.get("metadata", {}).get("deleted"):
                mirror.pop(person["resourceName"], None)
            else:
                mirror[person["resourceName"]] = person["etag"]
        page_token = answer.get("nextPageToken")
        if not page_token:
            new_token: str = answer["nextSyncToken"]
            return new_token
        between()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mirror_converges_after_each_quiet_sync(
    people_service: Any, emulator: RunningEmulator, seed: int
) -> None:
    """Random writes, some during paging: after each quiet incremental sync the mirror matches."""
    rng = random.Random(seed)
    emulator.seed(rng.randrange(5, 40))
    mirror: dict[str, str] = {}
    token = sync(people_service, None, mirror, rng.randrange(3, 30), lambda: None)
    for _ in range(12):
        for _ in range(rng.randrange(0, 6)):
            random_write(people_service, emulator, rng)
        noisy = rng.random() < 0.5
        token = sync(
            people_service,
            token,
            mirror,
            rng.randrange(1, 8),
            (lambda: random_write(people_service, emulator, rng)) if noisy else (lambda: None),
        )
        if noisy:
            token = sync(people_service, token, mirror, rng.randrange(1, 8), lambda: None)
        assert mirror == live_etags(emulator)


def test_full_sync_during_writes_then_incremental_converges(
    people_service: Any, emulator: RunningEmulator
) -> None:
    """Writes between the pages of a full sync are all caught by the following incremental sync."""
    rng = random.Random(9)
    emulator.seed(60)
    mirror: dict[str, str] = {}
    token = sync(
        people_service, None, mirror, 7, lambda: random_write(people_service, emulator, rng)
    )
    sync(people_service, token, mirror, 5, lambda: None)
    assert mirror == live_etags(emulator)
