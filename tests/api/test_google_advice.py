"""Google's refusals say what to do (issue 12 item 9), in French, without API paths."""

from __future__ import annotations

from urllib.parse import urlsplit

import google.auth.exceptions
from flask import Flask
from flask.testing import FlaskClient

from atarys.emulator.server import RunningEmulator
from atarys.google.connection import refresh_failed, stored_token
from fixtures.consent import approve_consent


def _account(gapp: Flask) -> str:
    with gapp.app_context():
        token = stored_token(gapp)
        assert token is not None
        return token.account


def test_people_api_disabled_says_to_enable_it(
    connected: FlaskClient, emulator: RunningEmulator
) -> None:
    """Google answers 403 SERVICE_DISABLED: the answer says to turn the People API on, with
    the console link — not to reconnect."""
    emulator.set_faults(service_disabled=True)
    body = connected.post("/api/google-contacts/sync-all").get_json()
    assert body["success"] is False
    assert body["data"]["reason"] == "people_api_disabled"
    assert "activez-la" in body["message"]
    assert "console.cloud.google.com" in body["message"]
    assert "/api/" not in body["message"]


def test_a_refused_grant_says_to_reconnect_and_why(gapp: Flask, connected: FlaskClient) -> None:
    """invalid_grant: the account is marked disconnected, and the advice covers a Testing app."""
    account = _account(gapp)
    with gapp.app_context():
        advice = refresh_failed(
            gapp,
            account,
            google.auth.exceptions.RefreshError(
                "invalid_grant: Token has been expired or revoked."
            ),
        )
        assert "Connecter Google" in str(advice)
        assert "7 jours" in str(advice)
        token = stored_token(gapp, account)
        assert token is not None
        assert token.revoked is True


def test_a_refused_client_says_the_credentials_file_is_wrong(
    gapp: Flask, connected: FlaskClient
) -> None:
    """invalid_client: reconnecting cannot help; the advice names the credentials file and the
    account stays connected."""
    account = _account(gapp)
    with gapp.app_context():
        advice = refresh_failed(
            gapp, account, google.auth.exceptions.RefreshError("invalid_client: Unauthorized")
        )
        assert "google_credentials.json" in str(advice)
        assert "ne suffit pas" in str(advice)
        token = stored_token(gapp, account)
        assert token is not None
        assert token.revoked is False


def test_a_consent_without_the_contacts_permission_connects_nothing(gclient: FlaskClient) -> None:
    """The person unticks the contacts permission on Google's page: no account is connected
    and the page says what to do."""
    body = gclient.post("/api/google-contacts/auth").get_json()
    location = approve_consent(body["data"]["authorization_url"], scope="openid email")
    parts = urlsplit(location)
    resp = gclient.get(f"{parts.path}?{parts.query}")
    assert "reason=scope" in resp.headers["Location"]
    status = gclient.get("/api/google-contacts/status").get_json()["data"]
    assert status["authenticated"] is False
