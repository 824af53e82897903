"""Google OAuth2 against the emulator: web flow, revoked tokens, disconnect, desktop flow."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient

from atarys.emulator.server import RunningEmulator
from atarys.google import oauth
from atarys.google.connection import connection_state, stored_token, token_store
from fixtures.consent import approve_consent

from .conftest import connect_google


def test_web_flow_end_to_end(gapp: Flask, gclient: FlaskClient, emulator: RunningEmulator) -> None:
    """auth → consent page → callback with state → token stored → status authenticated."""
    body = gclient.post("/api/google-contacts/auth").get_json()
    assert body["success"] is True
    assert body["data"]["authenticated"] is False
    url = body["data"]["authorization_url"]
    assert url.startswith(emulator.url + "o/oauth2/auth?")
    query = parse_qs(urlsplit(url).query)
    assert query["redirect_uri"] == ["http://localhost/api/google-contacts/oauth2callback"]
    assert query["access_type"] == ["offline"]
    assert query["code_challenge_method"] == ["S256"]

    location = approve_consent(url)
    parts = urlsplit(location)
    resp = gclient.get(f"{parts.path}?{parts.query}")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/google-contacts?google=connected"

    token = stored_token(gapp)
    assert token is not None
    assert token.account == "demo@example.com"
    assert token.refresh_token
    assert token.token_uri == emulator.token_uri
    status = gclient.get("/api/google-contacts/status").get_json()
    assert status["message"] == "✅ Service Google Contacts disponible"
    assert status["data"]["authenticated"] is True
    assert status["data"]["service_available"] is True
    assert status["data"]["token_file_exists"] is True
    assert status["data"]["account"] == "demo@example.com"

    again = gclient.post("/api/google-contacts/auth").get_json()
    assert again == {
        "success": True,
        "message": "✅ Authentification Google réussie",
        "data": {"authenticated": True, "service_available": True, "account": "demo@example.com"},
    }


def test_callback_refuses_unknown_or_reused_state(gapp: Flask, gclient: FlaskClient) -> None:
    """A forged state, or a state used twice, stores no token."""
    body = gclient.post("/api/google-contacts/auth").get_json()
    location = approve_consent(body["data"]["authorization_url"])
    parts = urlsplit(location)
    forged = parts.query.replace("state=", "state=x")
    resp = gclient.get(f"{parts.path}?{forged}")
    assert resp.headers["Location"] == "/google-contacts?google=error&reason=state"
    assert stored_token(gapp) is None
    assert gclient.get(f"{parts.path}?{parts.query}").headers["Location"].endswith("connected")
    reused = gclient.get(f"{parts.path}?{parts.query}")
    assert reused.headers["Location"].endswith("reason=state")


def test_denied_consent_stores_nothing(gapp: Flask, gclient: FlaskClient) -> None:
    body = gclient.post("/api/google-contacts/auth").get_json()
    location = approve_consent(body["data"]["authorization_url"], decision="deny")
    parts = urlsplit(location)
    resp = gclient.get(f"{parts.path}?{parts.query}")
    assert resp.headers["Location"].endswith("reason=access_denied")
    assert stored_token(gapp) is None


def test_callback_is_public_but_needs_state(anon_client: FlaskClient) -> None:
    """The OAuth callback answers without authentication (Google's redirect carries no cookie)."""
    resp = anon_client.get("/api/google-contacts/oauth2callback?code=x&state=y")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("reason=state")


def test_revoked_refresh_token_is_reported(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Google revoked the refresh token: status says so and auth starts a new consent."""
    token = stored_token(gapp)
    assert token is not None
    assert token.refresh_token
    assert requests.post(emulator.url + "revoke", data={"token": token.refresh_token}, timeout=5).ok
    emulator.advance_clock(7200)  # the access token expires: a refresh is needed

    status = connected.get("/api/google-contacts/status").get_json()
    assert status["data"]["authenticated"] is False
    assert status["data"]["token_revoked"] is True
    assert "révoqué" in status["message"]
    body = connected.post("/api/google-contacts/auth").get_json()
    assert body["data"]["authenticated"] is False
    assert body["data"]["authorization_url"].startswith(emulator.url)
    assert "révoqué" in body["message"]
    result = connect_google(connected)
    assert result["location"].endswith("google=connected")
    assert connection_state(gapp).authenticated is True


def test_expired_access_token_is_refreshed_at_the_files_token_uri(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """An expired access token is refreshed at the emulator's token_uri (not Google's) and saved."""
    before = stored_token(gapp)
    assert before is not None
    before.expiry = datetime.now(UTC) - timedelta(minutes=1)
    token_store(gapp).save(before)
    emulator.advance_clock(7200)
    status = connected.get("/api/google-contacts/status").get_json()
    assert status["data"]["authenticated"] is True
    assert status["data"]["service_available"] is True
    after = stored_token(gapp)
    assert after is not None
    assert after.token != before.token
    assert after.refresh_token == before.refresh_token


def test_disconnect_revokes_and_deletes(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator
) -> None:
    token = stored_token(gapp)
    assert token is not None
    body = connected.post("/api/google-contacts/disconnect").get_json()
    assert body["success"] is True
    assert body["data"]["revoked"] is True
    assert body["message"] == "Compte Google déconnecté"
    assert stored_token(gapp) is None
    refresh = requests.post(
        emulator.token_uri,
        data={
            "grant_type": "refresh_token",
            "refresh_token": token.refresh_token,
            "client_id": token.client_id,
            "client_secret": token.client_secret,
        },
        timeout=5,
    )
    assert refresh.status_code == 400
    status = connected.get("/api/google-contacts/status").get_json()
    assert status["data"]["token_file_exists"] is False


def test_desktop_loopback_flow(tmp_path: Path, emulator: RunningEmulator) -> None:
    """``atarys auth``'s flow: the URL is printed, the browser's redirect lands on a loopback port."""
    path = emulator.write_client_secrets(tmp_path / "secrets.json", "installed")
    client = oauth.load_client_secrets(path)
    assert client.kind == "installed"
    assert client.token_uri == emulator.token_uri
    urls: list[str] = []

    def browser(url: str) -> None:
        urls.append(url)
        threading.Thread(
            target=lambda: requests.get(approve_consent(url), timeout=10), daemon=True
        ).start()

    creds = oauth.run_loopback_flow(client, show_url=browser, timeout=20)
    assert urls
    assert creds.refresh_token
    assert creds.token_uri == emulator.token_uri
    assert oauth.account_email(creds, emulator.url) == "demo@example.com"
