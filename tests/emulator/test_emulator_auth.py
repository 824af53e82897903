"""Bearer tokens, scopes and the OAuth2 server (consent page, /token, /revoke)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from atarys.emulator import CONTACTS_SCOPE
from atarys.emulator.server import RunningEmulator
from atarys.google.client import build_people_service
from fixtures.emulator import error_reason

READONLY = "https://www.googleapis.com/auth/contacts.readonly"


def list_me(service: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (
        service.people()
        .connections()
        .list(resourceName="people/me", personFields="names")
        .execute()
    )
    return answer


def test_missing_bearer_is_401(emulator: RunningEmulator) -> None:
    """A request without Authorization answers 401 UNAUTHENTICATED."""
    answer = requests.get(emulator.url + "v1/people/me/connections?personFields=names", timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"


def test_wrong_bearer_is_401(emulator: RunningEmulator) -> None:
    """An unknown access token answers 401 UNAUTHENTICATED with Google's body."""
    answer = requests.get(
        emulator.url + "v1/people/me/connections?personFields=names",
        headers={"Authorization": "Bearer ya29.nope"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"


def test_wrong_bearer_makes_the_client_try_a_refresh(emulator: RunningEmulator) -> None:
    """Through the client, a 401 triggers a refresh (which a bare token cannot do)."""
    service = build_people_service(Credentials(token="ya29.nope"), emulator.url)
    with pytest.raises(RefreshError):
        list_me(service)


def test_token_without_contacts_scope_is_403(emulator: RunningEmulator) -> None:
    """A token without the contacts scope answers 403 PERMISSION_DENIED."""
    token = emulator.issue_token(scopes=("openid",))
    service = build_people_service(Credentials(token=token), emulator.url)
    with pytest.raises(HttpError) as caught:
        list_me(service)
    assert caught.value.resp.status == 403
    assert error_reason(caught.value) == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"


def test_readonly_scope_reads_but_cannot_write(emulator: RunningEmulator) -> None:
    """contacts.readonly lists contacts but a create answers 403."""
    service = build_people_service(
        Credentials(token=emulator.issue_token(scopes=(READONLY,))), emulator.url
    )
    list_me(service)
    with pytest.raises(HttpError) as caught:
        service.people().createContact(body={"names": [{"givenName": "x"}]}).execute()
    assert caught.value.resp.status == 403


def test_expired_access_token_is_refreshed_by_google_auth(emulator: RunningEmulator) -> None:
    """google-auth refreshes an expired access token at the emulator's token_uri and retries."""
    refresh = emulator.issue_refresh_token()
    credentials = Credentials(
        token=emulator.issue_token(ttl_s=1),
        refresh_token=refresh,
        token_uri=emulator.token_uri,
        client_id="any-client",
        client_secret="any-secret",
    )
    emulator.advance_clock(5)
    service = build_people_service(credentials, emulator.url)
    list_me(service)
    assert credentials.token is not None
    assert credentials.token.startswith("ya29.")


def test_revoked_refresh_token_cannot_refresh(emulator: RunningEmulator) -> None:
    """After /revoke, refreshing with that refresh token fails with invalid_grant."""
    refresh = emulator.issue_refresh_token()
    assert (
        requests.post(emulator.url + "revoke", data={"token": refresh}, timeout=10).status_code
        == 200
    )
    credentials = Credentials(
        None, refresh_token=refresh, token_uri=emulator.token_uri, client_id="c", client_secret="s"
    )
    with pytest.raises(RefreshError, match="invalid_grant"):
        list_me(build_people_service(credentials, emulator.url))


def test_revoking_refresh_token_revokes_its_access_tokens(emulator: RunningEmulator) -> None:
    """Access tokens obtained from a revoked refresh token stop working."""
    refresh = emulator.issue_refresh_token()
    answer = requests.post(
        emulator.token_uri,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": "c",
            "client_secret": "s",
        },
        timeout=10,
    ).json()
    requests.post(emulator.url + "revoke", data={"token": refresh}, timeout=10)
    check = requests.get(
        emulator.url + "v1/people/me/connections?personFields=names",
        headers={"Authorization": f"Bearer {answer['access_token']}"},
        timeout=10,
    )
    assert check.status_code == 401


def test_revoke_unknown_token_is_400(emulator: RunningEmulator) -> None:
    """Revoking an unknown token answers 400 invalid_token."""
    answer = requests.post(emulator.url + "revoke", data={"token": "nope"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_token"


def _auth_params(**extra: str) -> dict[str, str]:
    params = {
        "client_id": "atarys-emulator.apps.googleusercontent.com",
        "redirect_uri": "http://localhost:5000/callback",
        "response_type": "code",
        "scope": CONTACTS_SCOPE,
        "state": "xyz",
        "access_type": "offline",
    }
    params.update(extra)
    return params


def test_consent_page_is_french(emulator: RunningEmulator) -> None:
    """The consent page asks in French and names the scope."""
    page = requests.get(emulator.url + "o/oauth2/auth", params=_auth_params(), timeout=10)
    assert page.status_code == 200
    assert "Autoriser ATARYS à accéder à vos contacts Google ?" in page.text
    assert CONTACTS_SCOPE in page.text


def test_consent_approve_redirects_with_code_and_state(emulator: RunningEmulator) -> None:
    """Approving redirects to redirect_uri with a code and the caller's state."""
    form = {**_auth_params(), "decision": "allow", "login_hint": "demo@example.com"}
    answer = requests.post(
        emulator.url + "o/oauth2/approve", data=form, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert location.path == "/callback"
    assert query["state"] == ["xyz"]
    assert query["code"][0]


def test_consent_deny_redirects_with_access_denied(emulator: RunningEmulator) -> None:
    """Refusing redirects with error=access_denied and the state."""
    form = {**_auth_params(), "decision": "deny"}
    answer = requests.post(
        emulator.url + "o/oauth2/approve", data=form, allow_redirects=False, timeout=10
    )
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["xyz"]}


def test_auto_approve_redirects_at_once(emulator: RunningEmulator) -> None:
    """With auto-approve the consent URL redirects straight back with a code."""
    emulator.auto_approve = True
    answer = requests.get(
        emulator.url + "o/oauth2/auth", params=_auth_params(), allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    assert "code=" in answer.headers["Location"]


def test_code_exchange_gives_tokens_that_work(emulator: RunningEmulator) -> None:
    """A code exchanged at /token gives an access token (and, offline, a refresh token)."""
    emulator.auto_approve = True
    redirect = requests.get(
        emulator.url + "o/oauth2/auth", params=_auth_params(), allow_redirects=False, timeout=10
    )
    code = parse_qs(urlsplit(redirect.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        emulator.token_uri,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "atarys-emulator.apps.googleusercontent.com",
            "client_secret": "emulator-secret",
            "redirect_uri": "http://localhost:5000/callback",
        },
        timeout=10,
    ).json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    assert tokens["expires_in"] > 3000
    list_me(build_people_service(Credentials(token=tokens["access_token"]), emulator.url))


def test_code_is_single_use(emulator: RunningEmulator) -> None:
    """A code exchanged twice answers invalid_grant the second time."""
    emulator.auto_approve = True
    redirect = requests.get(
        emulator.url + "o/oauth2/auth", params=_auth_params(), allow_redirects=False, timeout=10
    )
    code = parse_qs(urlsplit(redirect.headers["Location"]).query)["code"][0]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": _auth_params()["client_id"],
        "redirect_uri": "http://localhost:5000/callback",
    }
    assert requests.post(emulator.token_uri, data=data, timeout=10).status_code == 200
    second = requests.post(emulator.token_uri, data=data, timeout=10)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_registered_client_checks_redirect_uri(emulator: RunningEmulator, tmp_path: Path) -> None:
    """A client from a written secrets file refuses a redirect_uri it did not list."""
    emulator.write_client_secrets(
        tmp_path / "secrets.json", "web", ["http://localhost:5000/callback"]
    )
    bad = requests.get(
        emulator.url + "o/oauth2/auth",
        params=_auth_params(redirect_uri="http://evil.example/cb"),
        timeout=10,
    )
    assert bad.status_code == 400
    assert "redirect_uri_mismatch" in bad.text


def test_oauthlib_flow_against_client_secrets(
    emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """google-auth-oauthlib's Flow, from a written secrets file, completes against the emulator."""
    from google_auth_oauthlib.flow import Flow

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    emulator.auto_approve = True
    path = emulator.write_client_secrets(
        tmp_path / "secrets.json", "web", ["http://localhost:5000/callback"]
    )
    flow = Flow.from_client_secrets_file(
        str(path), scopes=[CONTACTS_SCOPE], redirect_uri="http://localhost:5000/callback"
    )
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    assert url.startswith(emulator.url + "o/oauth2/auth")
    redirect = requests.get(url, allow_redirects=False, timeout=10)
    assert parse_qs(urlsplit(redirect.headers["Location"]).query)["state"] == [state]
    flow.fetch_token(authorization_response=redirect.headers["Location"])
    assert flow.credentials.refresh_token
    list_me(build_people_service(flow.credentials, emulator.url))


def test_installed_secrets_file_points_at_emulator(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """An installed-kind secrets file has auth_uri and token_uri on the emulator."""
    import json

    path = emulator.write_client_secrets(tmp_path / "installed.json", "installed")
    data = json.loads(path.read_text())["installed"]
    assert data["auth_uri"] == emulator.url + "o/oauth2/auth"
    assert data["token_uri"] == emulator.url + "token"
    assert data["redirect_uris"] == ["http://localhost"]
