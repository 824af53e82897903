"""Access control: nothing under /api/ without authentication, CSRF on cookie writes, CORS closed.

The refusals in front of the sync run with Google (the emulator) connected and the real
engine behind them, so a refusal that let something through would show in Google.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.google.connection import stored_token
from atarys.models import Client, OAuthState, SyncRun
from fixtures.consent import approve_consent
from fixtures.database import TEST_PASSWORD, TEST_USER

from .conftest import GOOGLE_PASSWORD, GOOGLE_USER

PUBLIC = {"/api/health", "/api/google-contacts/oauth2callback", "/api/auth/login"}


def _concrete(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "1", rule)


def _api_routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, _concrete(rule.rule)))
    return routes


def _count_clients(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Client)) or 0)


def _login(client: FlaskClient) -> str:
    resp = client.post("/api/auth/login", json={"username": TEST_USER, "password": TEST_PASSWORD})
    assert resp.status_code == 200, resp.get_json()
    token = resp.get_json()["data"]["csrf_token"]
    assert isinstance(token, str)
    assert len(token) > 20
    return token


def _google_side(emulator: RunningEmulator, people_service: Any) -> tuple[list[Any], int]:
    """What Google holds: every contact as stored, plus the count of write calls."""
    answer = (
        people_service.people()
        .connections()
        .list(resourceName="people/me", personFields="names,emailAddresses", pageSize=1000)
        .execute()
    )
    methods = emulator.stats()["methods"]
    writes = sum(n for m, n in methods.items() if "Create" in m or "Update" in m or "Delete" in m)
    return answer.get("connections", []), writes


def _sync_rows(app: Flask) -> tuple[int, int]:
    with app.app_context():
        runs = int(db.session.scalar(select(func.count()).select_from(SyncRun)) or 0)
        states = int(db.session.scalar(select(func.count()).select_from(OAuthState)) or 0)
        db.session.remove()
    return runs, states


def test_every_api_route_refuses_anonymous_calls(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator, people_service: Any
) -> None:
    """Every /api/ route but health, login and the OAuth callback answers 401 without credentials.

    Google is connected and both sides have something to sync, so a route that let an
    anonymous call through would show: a contact written, a client imported, a run
    journaled, the token revoked.
    """
    assert connected.post("/api/clients/", json={"nom": "Attente"}).status_code == 201
    people_service.people().createContact(
        body={"names": [{"familyName": "Google"}], "emailAddresses": [{"value": "g@exemple.fr"}]}
    ).execute()
    google_before = _google_side(emulator, people_service)
    rows_before = _sync_rows(gapp)
    emulator.reset_stats()
    anon = gapp.test_client()
    routes = _api_routes(gapp)
    assert len(routes) > 20
    for method, path in routes:
        resp = anon.open(path, method=method, json={"nom": "Intrus", "choice": "google"})
        assert resp.status_code == 401, (method, path, resp.status_code)
        body = resp.get_json()
        assert body["success"] is False
        assert body["message"] == "Authentification requise."
    assert emulator.stats()["requests"] == 0  # Google was never called
    google_after = _google_side(emulator, people_service)
    assert google_after[0] == google_before[0]
    assert google_after[1] == 0
    assert _count_clients(gapp) == 1
    assert _sync_rows(gapp) == rows_before
    token = stored_token(gapp)
    assert token is not None
    assert not token.revoked
    assert connected.get("/api/google-contacts/status").get_json()["data"]["authenticated"]


def test_unknown_api_paths_do_not_leak_to_anonymous(anon_client: FlaskClient) -> None:
    assert anon_client.get("/api/nothing-here").status_code == 401


def test_health_is_public(anon_client: FlaskClient) -> None:
    assert anon_client.get("/api/health").status_code == 200


def test_bad_bearer_tokens_are_401(app: Flask, anon_client: FlaskClient) -> None:
    for header in ("Bearer nope", "Bearer ", "Basic dXNlcjpwYXNz", "atarys_abc"):
        resp = anon_client.post(
            "/api/clients/", json={"nom": "Intrus"}, headers={"Authorization": header}
        )
        assert resp.status_code == 401, header
    assert _count_clients(app) == 0


def test_bearer_token_needs_no_csrf(client: FlaskClient) -> None:
    resp = client.post("/api/clients/", json={"nom": "Dupont"})
    assert resp.status_code == 201


def test_cookie_writes_need_the_csrf_header(
    app: Flask, anon_client: FlaskClient, api_token: str
) -> None:
    """Logged in with the cookie: reads work, writes without X-CSRF-Token are 403 and change nothing."""
    csrf = _login(anon_client)
    assert anon_client.get("/api/clients/").status_code == 200
    assert anon_client.get("/api/auth/me").get_json()["data"]["username"] == TEST_USER
    refused = anon_client.post("/api/clients/", json={"nom": "Sans jeton"})
    assert refused.status_code == 403
    assert "CSRF" in refused.get_json()["message"]
    wrong = anon_client.post(
        "/api/clients/", json={"nom": "Faux jeton"}, headers={"X-CSRF-Token": "faux"}
    )
    assert wrong.status_code == 403
    assert _count_clients(app) == 0
    accepted = anon_client.post(
        "/api/clients/", json={"nom": "Avec jeton"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 201
    assert accepted.headers["X-CSRF-Token"] == csrf


def test_cookie_sync_needs_the_csrf_header(
    gapp: Flask, connected: FlaskClient, emulator: RunningEmulator, people_service: Any
) -> None:
    """A cookie session's sync without X-CSRF-Token is 403: nothing reaches Google; with it, it does."""
    made = connected.post("/api/clients/", json={"nom": "Cookie", "email": "cookie@exemple.fr"})
    client_id = made.get_json()["data"]["id"]
    browser = gapp.test_client()
    login = browser.post(
        "/api/auth/login", json={"username": GOOGLE_USER, "password": GOOGLE_PASSWORD}
    )
    csrf = login.get_json()["data"]["csrf_token"]
    emulator.reset_stats()
    for path in ("sync-all", f"sync-to-google/{client_id}", "disconnect"):
        resp = browser.post(f"/api/google-contacts/{path}", json={})
        assert resp.status_code == 403, path
        assert "CSRF" in resp.get_json()["message"]
    assert emulator.stats()["requests"] == 0
    assert _google_side(emulator, people_service)[0] == []
    assert _sync_rows(gapp)[0] == 0
    assert stored_token(gapp) is not None

    pushed = browser.post(
        f"/api/google-contacts/sync-to-google/{client_id}", headers={"X-CSRF-Token": csrf}
    )
    assert pushed.status_code == 200, pushed.get_json()
    [contact] = _google_side(emulator, people_service)[0]
    assert contact["resourceName"] == pushed.get_json()["data"]["google_id"]
    assert contact["emailAddresses"][0]["value"] == "cookie@exemple.fr"


def test_cross_origin_cookie_write_is_refused(
    app: Flask, anon_client: FlaskClient, api_token: str
) -> None:
    csrf = _login(anon_client)
    resp = anon_client.post(
        "/api/clients/",
        json={"nom": "Ailleurs"},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert resp.status_code == 403
    assert _count_clients(app) == 0


def test_session_cookie_is_httponly_and_lax(anon_client: FlaskClient, api_token: str) -> None:
    resp = anon_client.post(
        "/api/auth/login", json={"username": TEST_USER, "password": TEST_PASSWORD}
    )
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("atarys_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_logout_ends_the_session(anon_client: FlaskClient, api_token: str) -> None:
    csrf = _login(anon_client)
    assert anon_client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert anon_client.get("/api/clients/").status_code == 401


def test_wrong_password_is_401_with_a_french_message(
    anon_client: FlaskClient, api_token: str
) -> None:
    resp = anon_client.post("/api/auth/login", json={"username": TEST_USER, "password": "faux"})
    assert resp.status_code == 401
    assert resp.get_json()["message"] == "Identifiant ou mot de passe incorrect."
    unknown = anon_client.post("/api/auth/login", json={"username": "personne", "password": "x"})
    assert unknown.status_code == 401


def test_login_attempts_are_rate_limited(anon_client: FlaskClient, api_token: str) -> None:
    """After 10 attempts a minute the login answers 429 with Retry-After, even with the right password."""
    codes = [
        anon_client.post(
            "/api/auth/login", json={"username": TEST_USER, "password": f"faux{i}"}
        ).status_code
        for i in range(10)
    ]
    assert codes == [401] * 10
    resp = anon_client.post(
        "/api/auth/login", json={"username": TEST_USER, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 429
    assert resp.get_json()["success"] is False
    assert int(resp.headers["Retry-After"]) > 0


def test_cors_is_closed(client: FlaskClient) -> None:
    resp = client.get("/api/clients/", headers={"Origin": "https://evil.example"})
    assert not any(k.lower().startswith("access-control-") for k, _ in resp.headers.items())
    preflight = client.options(
        "/api/clients/",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_revoked_api_token_is_refused(app: Flask, client: FlaskClient, api_token: str) -> None:
    from atarys.api.auth import hash_token
    from atarys.models import ApiToken, utcnow

    with app.app_context():
        row = db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(api_token))
        )
        assert row is not None
        assert row.token_hash != api_token
        row.revoked_at = utcnow()
        db.session.commit()
    assert client.get("/api/clients/").status_code == 401


@pytest.mark.parametrize("path", ["/api/auth/me", "/api/auth/csrf"])
def test_bearer_identity(client: FlaskClient, path: str) -> None:
    body = client.get(path).get_json()
    assert body["success"] is True


# --- the OAuth2 callback completes only for the session that started the flow (item 3) ---


def _callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def _ui_reason(resp: Any) -> str | None:
    assert resp.status_code == 302
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    return query.get("reason", [None])[0]


def test_oauth_callback_from_another_caller_connects_nothing(
    gapp: Flask, gclient: FlaskClient
) -> None:
    """A third party holding an unused state (anonymous, or logged in as someone else)
    connects no Google account; the user who started the flow still can."""
    from atarys.api.auth import create_user

    with gapp.app_context():
        create_user(db.session, "intrus", "mot-de-passe-intrus")
        db.session.remove()
    started = gclient.post("/api/google-contacts/auth").get_json()["data"]
    callback = _callback_path(approve_consent(started["authorization_url"]))

    anonymous = gapp.test_client().get(callback)
    assert _ui_reason(anonymous) == "other_session"
    intruder = gapp.test_client()
    intruder.post("/api/auth/login", json={"username": "intrus", "password": "mot-de-passe-intrus"})
    assert _ui_reason(intruder.get(callback)) == "other_session"
    assert stored_token(gapp) is None
    assert gclient.get("/api/google-contacts/status").get_json()["data"]["authenticated"] is False

    mine = gclient.get(callback)
    assert mine.headers["Location"].endswith("google=connected")
    assert stored_token(gapp) is not None


def test_oauth_callback_bound_to_the_browser_session(gapp: Flask, gclient: FlaskClient) -> None:
    """Started from a login session: another session of the same user is refused too."""
    browser, other_tab = gapp.test_client(), gapp.test_client()
    creds = {"username": GOOGLE_USER, "password": GOOGLE_PASSWORD}
    csrf = browser.post("/api/auth/login", json=creds).get_json()["data"]["csrf_token"]
    other_tab.post("/api/auth/login", json=creds)
    started = browser.post("/api/google-contacts/auth", headers={"X-CSRF-Token": csrf})
    assert started.status_code == 200, started.get_json()
    callback = _callback_path(approve_consent(started.get_json()["data"]["authorization_url"]))

    assert _ui_reason(other_tab.get(callback)) == "other_session"
    assert _ui_reason(gclient.get(callback)) == "other_session"  # same user, by token
    assert stored_token(gapp) is None
    assert browser.get(callback).headers["Location"].endswith("google=connected")
    assert stored_token(gapp) is not None
