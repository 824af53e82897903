"""Google Workspace mode through the API: an admin uploads the service account key once,
adds staff e-mails, and the app acts as each of them (the real google-auth service account
credentials and googleapiclient against the emulator, on both databases)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text

from atarys.emulator.oauth import write_service_account
from atarys.emulator.server import RunningEmulator

BASE = "/api/google-contacts/workspace"
STAFF = "chantier@example.com"


def _key(emulator: RunningEmulator, tmp_path: Path) -> dict[str, Any]:
    path = write_service_account(emulator.state, tmp_path / "sa.json", emulator.url)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _pem_body(key: dict[str, Any]) -> str:
    """A distinctive piece of the private key (a line from its middle)."""
    lines = key["private_key"].strip().splitlines()
    return str(lines[len(lines) // 2])


def _contacts_of(emulator: RunningEmulator, email: str) -> list[str]:
    with emulator.state.lock:
        user = emulator.state.users.get(email)
        if user is None:
            return []
        return sorted(
            str(c.fields["names"][0].get("familyName", "")).upper()
            for c in user.contacts.values()
            if not c.deleted and c.fields.get("names")
        )


def test_upload_key_add_staff_then_sync_writes_to_that_phone(
    gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Key uploaded → staff added (nothing written) → the first sync, previewed then
    applied, creates the clients in that staff member's own Google account."""
    assert gclient.get(BASE).get_json()["data"]["configured"] is False
    key = _key(emulator, tmp_path)
    put = gclient.put(BASE, json={"key": key})
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["data"]["client_email"] == key["client_email"]

    added = gclient.post(f"{BASE}/users", json={"email": "Chantier@Example.com"})
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["data"] == {
        "email": STAFF,
        "first_sync_pending": True,
        "created": True,
    }
    assert _contacts_of(emulator, STAFF) == []  # connecting writes nothing

    view = gclient.get(BASE).get_json()["data"]
    assert view["configured"] is True
    assert view["domain"] == "example.com"
    assert view["staff"] == [{"email": STAFF, "first_sync_pending": True, "connected": True}]
    status = gclient.get("/api/google-contacts/status").get_json()["data"]
    assert status["authenticated"] is True, status

    for nom in ("Martin", "Dubois"):
        made = gclient.post("/api/clients/", json={"nom": nom, "email": f"{nom}@exemple.fr"})
        assert made.status_code == 201, made.get_json()
    preview = gclient.post("/api/google-contacts/sync-all", json={"dry_run": True}).get_json()
    assert preview["success"] is True, preview
    applied = gclient.post(f"/api/google-contacts/plans/{preview['data']['plan_id']}/apply")
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["data"]["atarys_to_google"]["created"] == 2
    assert _contacts_of(emulator, STAFF) == ["DUBOIS", "MARTIN"]
    assert _contacts_of(emulator, "demo@example.com") == []

    # Google drops the access token: the next run gets a new one by itself, no consent
    with emulator.state.lock:
        emulator.state.access_tokens.clear()
    made = gclient.post("/api/clients/", json={"nom": "Leroy", "email": "leroy@exemple.fr"})
    assert made.status_code == 201
    again = gclient.post("/api/google-contacts/sync-all", json={})
    assert again.status_code == 200, again.get_json()
    assert _contacts_of(emulator, STAFF) == ["DUBOIS", "LEROY", "MARTIN"]

    # the key never leaves: not in any answer, log, data file in clear, nor the database
    secret_bits = (_pem_body(key), key["private_key_id"])
    answers = [put, added, gclient.get(BASE), gclient.get("/api/google-contacts/status")]
    for answer in answers:
        for bit in secret_bits:
            assert bit not in answer.get_data(as_text=True)
    for folder in (tmp_path / "logs", tmp_path / "data"):
        for path in folder.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                for bit in secret_bits:
                    assert bit.encode() not in content, path
    key_file = tmp_path / "data" / "google_workspace.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    settings = gapp.config["ATARYS_SETTINGS"]
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).fetchall()  # noqa: S608
                dump = repr(rows)
                for bit in secret_bits:
                    assert bit not in dump, table
    finally:
        engine.dispose()

    removed = gclient.delete(f"{BASE}/users/{STAFF}")
    assert removed.status_code == 200
    assert gclient.get(BASE).get_json()["data"]["staff"] == []
    gone = gclient.delete(f"{BASE}/users/{STAFF}")
    assert gone.status_code == 404
    assert "ne fait pas partie" in gone.get_json()["message"]


def test_a_key_google_does_not_know_says_what_to_do(
    gclient: FlaskClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    key = _key(emulator, tmp_path)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key["private_key"] = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    assert gclient.put(BASE, json={"key": json.dumps(key)}).status_code == 200
    answer = gclient.post(f"{BASE}/users", json={"email": STAFF})
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["success"] is False
    assert "Google refuse la clé du compte de service" in body["message"]
    assert "envoyez-la de nouveau" in body["message"]
    assert gclient.get(BASE).get_json()["data"]["staff"] == []  # nothing added


def test_a_subject_outside_the_domain_says_what_to_do(
    gclient: FlaskClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    key = _key(emulator, tmp_path)
    assert gclient.put(BASE, json={"key": key}).status_code == 200
    answer = gclient.post(f"{BASE}/users", json={"email": "intrus@autre-domaine.fr"})
    assert answer.status_code == 422
    body = answer.get_json()
    assert "n'autorise pas" in body["message"]
    assert "délégation au niveau du domaine" in body["message"]
    assert "console d'administration Google Workspace" in body["message"]
    assert "email" in body["errors"]
    assert gclient.get(BASE).get_json()["data"]["staff"] == []

    # once the domain is known (given with the key), the app says so before asking Google
    assert gclient.put(BASE, json={"key": key, "domain": "example.com"}).status_code == 200
    answer = gclient.post(f"{BASE}/users", json={"email": "intrus@autre-domaine.fr"})
    assert answer.status_code == 422
    assert "n'est pas une adresse du domaine example.com" in answer.get_json()["message"]


def test_malformed_keys_are_refused_field_by_field(
    gclient: FlaskClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    key = _key(emulator, tmp_path)
    cases: list[tuple[Any, str]] = [
        ({**key, "private_key": "-----BEGIN PRIVATE KEY-----\nabc\n"}, "key.private_key"),
        ({k: v for k, v in key.items() if k != "token_uri"}, "key.token_uri"),
        ({**key, "type": "authorized_user"}, "key.type"),
        ({**key, "client_email": 42}, "key.client_email"),
        ("{pas du json", "key"),
        ([1, 2], "key"),
    ]
    for bad, field in cases:
        answer = gclient.put(BASE, json={"key": bad})
        assert answer.status_code == 422, (field, answer.get_json())
        body = answer.get_json()
        assert body["success"] is False
        assert field in body["errors"], (field, body)
        assert key["private_key_id"] not in answer.get_data(as_text=True)
    assert gclient.put(BASE, json={"key": key, "domain": "pas un domaine"}).status_code == 422
    assert gclient.get(BASE).get_json()["data"]["configured"] is False  # nothing stored
    no_key = gclient.post(f"{BASE}/users", json={"email": STAFF})
    assert no_key.status_code == 409
    assert "envoyez d'abord la clé" in no_key.get_json()["message"]


def test_deleting_the_key_disconnects_the_staff(
    gclient: FlaskClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert gclient.put(BASE, json={"key": _key(emulator, tmp_path)}).status_code == 200
    assert gclient.post(f"{BASE}/users", json={"email": STAFF}).status_code == 201
    deleted = gclient.delete(BASE).get_json()
    assert deleted["data"] == {"deleted": True, "staff_disconnected": 1}
    assert not (tmp_path / "data" / "google_workspace.key").exists()
    status = gclient.get("/api/google-contacts/status").get_json()["data"]
    assert status["authenticated"] is False


def test_only_an_admin_sets_workspace_up(
    gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    from atarys.api.auth import create_token
    from atarys.extensions import db

    with gapp.app_context():
        token = create_token(db.session, "bureau", scopes=("read", "write"))
        db.session.remove()
    office = gapp.test_client()
    office.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    key = _key(emulator, tmp_path)
    refused = office.put(BASE, json={"key": key})
    assert refused.status_code == 403
    assert "administrateur" in refused.get_json()["message"]
    assert office.get(BASE).get_json()["data"]["configured"] is False  # reading is allowed
    assert gclient.put(BASE, json={"key": key}).status_code == 200
    assert office.post(f"{BASE}/users", json={"email": STAFF}).status_code == 403
    assert office.delete(BASE).status_code == 403
    assert office.get(BASE).get_json()["data"]["configured"] is True
