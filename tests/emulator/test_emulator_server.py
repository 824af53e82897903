"""Starting the emulator: persistence to a state file and the ``atarys emulator`` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from google.oauth2.credentials import Credentials

from atarys.emulator.server import start_emulator
from atarys.google.client import build_people_service


def list_all(service: Any) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    token = None
    while True:
        answer = (
            service.people()
            .connections()
            .list(resourceName="people/me", personFields="names", pageSize=200, pageToken=token)
            .execute()
        )
        people += answer.get("connections", [])
        token = answer.get("nextPageToken")
        if not token:
            return people


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    """Contacts, tokens and sync tokens written before a stop are there after a restart."""
    path = tmp_path / "state.json"
    with start_emulator(state_file=path, seed=5) as first:
        token = first.issue_token()
        service = build_people_service(Credentials(token=token), first.url)
        created = (
            service.people().createContact(body={"names": [{"givenName": "Persistant"}]}).execute()
        )
        sync = (
            service.people()
            .connections()
            .list(resourceName="people/me", personFields="names", requestSyncToken=True)
            .execute()["nextSyncToken"]
        )
    assert json.loads(path.read_text())["version"] == 1
    with start_emulator(state_file=path, seed=5) as second:
        service = build_people_service(Credentials(token=token), second.url)
        people = list_all(service)
        assert len(people) == 6
        got = (
            service.people()
            .get(resourceName=created["resourceName"], personFields="names")
            .execute()
        )
        assert got["etag"] == created["etag"]
        delta = (
            service.people()
            .connections()
            .list(resourceName="people/me", personFields="names", syncToken=sync)
            .execute()
        )
        assert "connections" not in delta


def test_state_file_is_saved_while_running(tmp_path: Path) -> None:
    """A change is saved to the state file shortly after it happens (no stop needed)."""
    import time

    path = tmp_path / "state.json"
    with start_emulator(state_file=path) as running:
        running.seed(3)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if path.exists() and len(json.loads(path.read_text())["users"][0]["contacts"]) == 3:
                break
            time.sleep(0.1)
        assert len(json.loads(path.read_text())["users"][0]["contacts"]) == 3


def test_start_emulator_picks_a_free_port() -> None:
    """Two emulators started with port=0 get different URLs ending with a slash."""
    with start_emulator() as one, start_emulator() as two:
        assert one.url != two.url
        assert one.url.endswith("/")


def test_cli_serves_seeded_contacts(tmp_path: Path) -> None:
    """``atarys emulator --seed 500`` serves 500 contacts and writes a client secrets file."""
    secrets = tmp_path / "client_secrets.json"
    command = [
        sys.executable,
        "-m",
        "atarys.cli",
        "emulator",
        "--port",
        "0",
        "--seed",
        "500",
        "--auto-approve",
        "--write-client-secrets",
        str(secrets),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            if "http://" in line:
                url = line[line.index("http://") :].strip()
                break
        assert url
        assert json.loads(secrets.read_text())["web"]["token_uri"] == url + "token"
        token = (
            __import__("requests")
            .post(url + "_emulator/token", json={}, timeout=10)
            .json()["access_token"]
        )
        service = build_people_service(Credentials(token=token), url)
        assert len(list_all(service)) == 500
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)


def test_start_emulator_creates_users_and_seeds_the_first() -> None:
    """``users`` creates the accounts; ``seed`` contacts go to the first one only."""
    with start_emulator(users=["a@example.org", "b@example.org"], seed=7) as running:
        assert running.state.user("a@example.org").live_count == 7
        assert running.state.user("b@example.org").live_count == 0
        assert set(running.state.users) == {"a@example.org", "b@example.org"}
