"""Emulator speed (issue 3, item 9): create 25,000 contacts in batches of 200, list them in
pages of 1000, through the real google-api-python-client. Prints server time (measured
inside the emulator, from ``/_emulator/stats``) and wall time. Not a timed test.

    .venv/bin/python bench/emulator_speed.py [--contacts 25000]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from google.oauth2.credentials import Credentials

from atarys.emulator.server import start_emulator
from atarys.google.client import build_people_service

FIELDS = "names,emailAddresses,phoneNumbers,addresses,organizations,biographies,clientData,memberships,metadata"


def person(index: int) -> dict[str, Any]:
    """A typical contact: name, e-mail, phone, half of them with an address, client data."""
    body: dict[str, Any] = {
        "names": [{"givenName": f"Prénom{index}", "familyName": f"Nom{index % 977}"}],
        "emailAddresses": [{"value": f"contact{index}@example.fr", "type": "home"}],
        "phoneNumbers": [
            {
                "value": f"06 {index // 1_000_000 % 100:02d} {index // 10_000 % 100:02d} {index // 100 % 100:02d} {index % 100:02d}",
                "type": "mobile",
            }
        ],
        "clientData": [{"key": "atarys_id", "value": str(index)}],
    }
    if index % 2:
        body["addresses"] = [
            {
                "streetAddress": f"{index % 90 + 1} rue Pasteur",
                "postalCode": "69003",
                "city": "Lyon",
            }
        ]
    return body


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=25_000)
    args = parser.parse_args()
    total = args.contacts
    with start_emulator() as emulator:
        service = build_people_service(Credentials(token=emulator.issue_token()), emulator.url)
        people = service.people()

        started = time.perf_counter()
        for start in range(0, total, 200):
            contacts = [{"contactPerson": person(i)} for i in range(start, min(total, start + 200))]
            people.batchCreateContacts(body={"contacts": contacts, "readMask": FIELDS}).execute()
        create_wall = time.perf_counter() - started

        started = time.perf_counter()
        listed = 0
        pages = 0
        token = None
        while True:
            answer = (
                people.connections()
                .list(
                    resourceName="people/me",
                    personFields=FIELDS,
                    pageSize=1000,
                    pageToken=token,
                    requestSyncToken=True,
                )
                .execute()
            )
            listed += len(answer.get("connections", []))
            pages += 1
            token = answer.get("nextPageToken")
            if not token:
                break
        list_wall = time.perf_counter() - started

        stats = emulator.stats()
        server, cpu = stats["server_time_s"], stats["server_cpu_s"]
        create, listing = "people.batchCreateContacts", "people.connections.list"
        print(
            f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        print(f"contacts: {total} created, {listed} listed in {pages} pages")
        print(
            f"{create} x{stats['methods'][create]}: server {server[create]:.3f} s (CPU {cpu[create]:.3f} s), client wall {create_wall:.3f} s"
        )
        print(
            f"{listing} x{stats['methods'][listing]}: server {server[listing]:.3f} s (CPU {cpu[listing]:.3f} s), client wall {list_wall:.3f} s"
        )
        print(
            f"server time in all: {server[create] + server[listing]:.3f} s, CPU {cpu[create] + cpu[listing]:.3f} s (target < 2 s)"
        )


if __name__ == "__main__":
    main()
