"""The emulator's service accounts: Google-format keys and the JWT bearer grant.

Everything goes through the real google-auth service account credentials (they sign the
assertion and post it to the key's ``token_uri``) and the real googleapiclient.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from atarys.emulator import CONTACTS_SCOPE
from atarys.emulator.models import EmulatorState
from atarys.emulator.oauth import write_service_account
from atarys.emulator.server import RunningEmulator
from atarys.google.client import build_people_service

STAFF = "chantier@example.com"


def _key(emulator: RunningEmulator, tmp_path: Path, domain: str = "example.com") -> dict[str, Any]:
    path = write_service_account(emulator.state, tmp_path / "sa.json", emulator.url, domain=domain)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _creds(
    key: dict[str, Any], subject: str, scopes: tuple[str, ...] = (CONTACTS_SCOPE,)
) -> service_account.Credentials:
    creds = service_account.Credentials.from_service_account_info(key, scopes=list(scopes))
    return creds.with_subject(subject)


def test_written_key_is_google_format_and_private(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    path = write_service_account(emulator.state, tmp_path / "k" / "sa.json", emulator.url)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = json.loads(path.read_text(encoding="utf-8"))
    assert key["type"] == "service_account"
    assert key["token_uri"] == emulator.token_uri
    assert key["client_email"].endswith(".iam.gserviceaccount.com")
    assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    # google-auth reads it as it reads a key downloaded from the Cloud console
    loaded = service_account.Credentials.from_service_account_file(str(path))
    assert loaded.service_account_email == key["client_email"]
    # the emulator keeps the public half only
    with emulator.state.lock:
        kept = emulator.state.service_accounts[key["private_key_id"]]
    assert "PRIVATE" not in kept.public_key_pem
    assert key["private_key"] not in emulator.state.dumps()


def test_subject_gets_a_token_acting_on_its_own_contacts(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The access token acts for the subject: a contact created lands in their account."""
    creds = _creds(_key(emulator, tmp_path), STAFF)
    creds.refresh(Request())
    assert creds.valid
    people = build_people_service(creds, emulator.url)
    people.people().createContact(body={"names": [{"givenName": "Jeanne"}]}).execute()
    with emulator.state.lock:
        assert emulator.state.users[STAFF].live_count == 1
        assert emulator.state.user("demo@example.com").live_count == 0
    listed = (
        people.people().connections().list(resourceName="people/me", personFields="names").execute()
    )
    assert [p["names"][0]["givenName"] for p in listed["connections"]] == ["Jeanne"]


def test_a_key_the_emulator_did_not_issue_is_refused(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    key = _key(emulator, tmp_path)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key["private_key"] = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    with pytest.raises(RefreshError, match="invalid_grant"):
        _creds(key, STAFF).refresh(Request())
    key["private_key_id"] = "unknown-key-id"
    with pytest.raises(RefreshError, match="invalid_grant"):
        _creds(key, STAFF).refresh(Request())


def test_a_subject_outside_the_domain_is_refused(emulator: RunningEmulator, tmp_path: Path) -> None:
    key = _key(emulator, tmp_path, domain="example.com")
    with pytest.raises(RefreshError, match="unauthorized_client"):
        _creds(key, "intrus@autre-domaine.fr").refresh(Request())
    with pytest.raises(RefreshError, match="unauthorized_client"):
        _creds(key, "x@sub.example.com").refresh(Request())
    with emulator.state.lock:
        assert "intrus@autre-domaine.fr" not in emulator.state.users


def test_scopes_must_include_contacts(emulator: RunningEmulator, tmp_path: Path) -> None:
    key = _key(emulator, tmp_path)
    drive = ("https://www.googleapis.com/auth/drive",)
    with pytest.raises(RefreshError, match="unauthorized_client"):
        _creds(key, STAFF, drive).refresh(Request())


def test_the_public_key_survives_a_restart(emulator: RunningEmulator, tmp_path: Path) -> None:
    """The key stays usable with a state saved and loaded again (``--state``), and across
    the tests' resets."""
    key = _key(emulator, tmp_path)
    with emulator.state.lock:
        saved = emulator.state.to_json()
    reloaded = EmulatorState()
    reloaded.load_json(json.loads(json.dumps(saved)))
    assert key["private_key_id"] in reloaded.service_accounts
    emulator.reset()
    creds = _creds(key, STAFF)
    creds.refresh(Request())
    assert creds.valid


def test_cli_writes_a_key_whose_domain_it_enforces(tmp_path: Path) -> None:
    """``atarys emulator --write-service-account PATH --domain acme.fr --state FILE``: the key
    acts for acme.fr only, and the emulator's saved state keeps its public half."""
    key_path, state_path = tmp_path / "sa.json", tmp_path / "state.json"
    command = [
        sys.executable,
        "-m",
        "atarys.cli",
        "emulator",
        "--port",
        "0",
        "--state",
        str(state_path),
        "--write-service-account",
        str(key_path),
        "--domain",
        "acme.fr",
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
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
        key = json.loads(key_path.read_text(encoding="utf-8"))
        assert key["token_uri"] == url + "token"
        creds = _creds(key, "conducteur@acme.fr")
        creds.refresh(Request())
        assert creds.valid
        with pytest.raises(RefreshError, match="unauthorized_client"):
            _creds(key, "demo@example.com").refresh(Request())
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    saved = json.loads(state_path.read_text(encoding="utf-8"))
    kept = saved["service_accounts"][key["private_key_id"]]
    assert kept["domain"] == "acme.fr"
    assert key["private_key"] not in state_path.read_text(encoding="utf-8")
