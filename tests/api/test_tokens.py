"""Google tokens at rest: encrypted JSON, mode 0600, one per account; the seed's pickle never loaded."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from atarys.config import Settings
from atarys.google.connection import connection_state, stored_token
from atarys.google.tokens import StoredToken, TokenStore, token_key


def _token(account: str = "demo@example.com") -> StoredToken:
    return StoredToken(
        account=account,
        token="ya29.secret-access",
        refresh_token="1//secret-refresh",
        token_uri="http://127.0.0.1:1/token",
        client_id="cid",
        client_secret="very-secret",
        scopes=["https://www.googleapis.com/auth/contacts"],
    )


def test_token_file_is_encrypted_private_and_not_pickle(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    store = TokenStore.for_settings(settings)
    old_umask = os.umask(0o022)
    try:
        path = store.save(_token())
    finally:
        os.umask(old_umask)
    raw = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "token_key").stat().st_mode) == 0o600
    for secret in (b"secret-access", b"secret-refresh", b"very-secret", b"demo@example.com"):
        assert secret not in raw
    assert not raw.startswith(b"\x80")  # no pickle protocol header
    with pytest.raises(pickle.UnpicklingError):
        pickle.loads(raw)  # noqa: S301 (proving it is not a pickle)
    loaded = store.load("DEMO@example.com")
    assert loaded is not None
    assert loaded.refresh_token == "1//secret-refresh"
    creds = loaded.credentials()
    assert creds.token_uri == "http://127.0.0.1:1/token"  # kept, not reset to Google's


def test_one_token_per_account(tmp_path: Path) -> None:
    store = TokenStore.for_settings(Settings(data_dir=tmp_path))
    store.save(_token("a@example.com"))
    store.save(_token("b@example.com"))
    store.save(_token("a@example.com"))
    assert sorted(t.account for t in store.accounts()) == ["a@example.com", "b@example.com"]
    assert len(list(store.directory.glob("*.token"))) == 2


def test_key_from_environment_setting(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = Settings(data_dir=tmp_path, token_key=key)
    assert token_key(settings) == key.encode()
    TokenStore.for_settings(settings).save(_token())
    assert not (tmp_path / "token_key").exists()
    other = TokenStore(settings.google_tokens_dir, Fernet.generate_key())
    assert other.accounts() == []  # unreadable with another key


def test_legacy_pickle_is_never_loaded(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    """A seed-era pickle token is ignored (never unpickled) and status asks to reconnect."""
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    legacy = tmp_path / "data" / "google_contacts_token.pickle"
    legacy.write_bytes(pickle.dumps(Evil()))
    state = connection_state(app)
    assert state.legacy_token is True
    assert state.authenticated is False
    assert stored_token(app) is None
    body = client.get("/api/google-contacts/status").get_json()
    assert body["data"]["legacy_token_file_exists"] is True
    assert body["data"]["authenticated"] is False
    assert "reconnectez" in body["message"]
    setup = client.get("/api/google-contacts/setup-instructions").get_json()
    assert any("pickle" in m for m in setup["data"]["missing"])
    assert not marker.exists()
