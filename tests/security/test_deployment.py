"""Items 8, 11 and 12: private files, HTTPS behind a proxy, headers on API answers."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from atarys.config import Settings
from atarys.google.tokens import StoredToken, TokenStore
from fixtures.database import TEST_PASSWORD, TEST_USER

from .conftest import MakeApp


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_database_and_secrets_are_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    from atarys import create_app

    create_app({"data_dir": data, "log_dir": tmp_path / "logs", "testing": True})
    assert _mode(data) == 0o700
    assert _mode(data / "atarys.db") == 0o600
    assert _mode(data / "secret_key") == 0o600
    store = TokenStore.for_settings(Settings(data_dir=data, token_key=None))
    saved = store.save(
        StoredToken(
            account="a@example.com",
            token="t",
            refresh_token="r",
            token_uri="http://127.0.0.1:1/token",
            client_id="c",
            client_secret="s",
            scopes=[],
        )
    )
    assert _mode(saved) == 0o600
    assert _mode(data / "token_key") == 0o600


def test_warning_when_credentials_or_data_dir_are_readable_by_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from atarys import create_app

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    credentials = data / "google_credentials.json"
    credentials.write_text("{}", encoding="utf-8")
    credentials.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="atarys.app")
    create_app({"data_dir": data, "log_dir": tmp_path / "logs", "testing": True})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("data dir" in w and "chmod 700" in w for w in warnings)
    assert any("google_credentials.json" in w and "chmod 600" in w for w in warnings)


def test_api_answers_are_nosniff_and_never_cached(
    client: FlaskClient, anon_client: FlaskClient
) -> None:
    for resp in (
        client.get("/api/clients/"),
        anon_client.get("/api/clients/"),
        client.get("/api/nulle-part"),
    ):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "no-store"


def test_behind_an_https_proxy(
    api_token: str, make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(trusted_proxies=1, public_url="https://atarys.example.fr/")
    http = app.test_client()
    forwarded = {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "atarys.example.fr",
    }
    resp = http.post(
        "/api/auth/login",
        json={"username": TEST_USER, "password": TEST_PASSWORD},
        headers=forwarded,
    )
    assert resp.status_code == 200
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    caplog.set_level(logging.WARNING, logger="atarys.auth")
    http.post("/api/auth/login", json={"username": TEST_USER, "password": "x"}, headers=forwarded)
    assert "203.0.113.7" in caplog.text  # the client's address, not the proxy's


def test_forwarded_headers_are_ignored_without_trusted_proxies(
    app: Flask, api_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="atarys.auth")
    resp = app.test_client().post(
        "/api/auth/login",
        json={"username": TEST_USER, "password": "x"},
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
    )
    assert resp.status_code == 401
    assert "203.0.113.7" not in caplog.text
    assert "Strict-Transport-Security" not in resp.headers
    ok = app.test_client().post(
        "/api/auth/login", json={"username": TEST_USER, "password": TEST_PASSWORD}
    )
    assert "Secure" not in ok.headers["Set-Cookie"]


def test_setup_instructions_redirect_uri_comes_from_the_public_url(
    api_token: str, make_app: MakeApp
) -> None:
    app = make_app(public_url="https://atarys.example.fr")
    http = app.test_client()
    resp = http.get(
        "/api/google-contacts/setup-instructions",
        headers={"Authorization": f"Bearer {api_token}", "Host": "evil.example"},
    )
    assert resp.status_code == 200
    assert (
        resp.get_json()["data"]["redirect_uri"]
        == "https://atarys.example.fr/api/google-contacts/oauth2callback"
    )


def test_public_url_must_be_an_http_url() -> None:
    with pytest.raises(ValueError, match="public_url"):
        Settings(public_url="atarys.example.fr")


def test_the_demo_client_secrets_are_owner_only(tmp_path: Path) -> None:
    """The emulator's client secrets file (the demo's credentials) is written 0600, so the
    demo starts without a warning about a readable secret."""
    from atarys.emulator.oauth import write_client_secrets

    path = write_client_secrets(tmp_path / "demo_google_credentials.json", "http://127.0.0.1:1/")
    assert path.stat().st_mode & 0o777 == 0o600
