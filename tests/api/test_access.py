"""Access control: nothing under /api/ without authentication, CSRF on cookie writes, CORS closed."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from atarys.extensions import db
from atarys.models import Client, OAuthState
from fixtures.database import TEST_PASSWORD, TEST_USER

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


def test_every_api_route_refuses_anonymous_calls(app: Flask, anon_client: FlaskClient) -> None:
    """Every /api/ route but health, login and the OAuth callback answers 401 without credentials."""
    routes = _api_routes(app)
    assert len(routes) > 20
    for method, path in routes:
        resp = anon_client.open(path, method=method, json={"nom": "Intrus"})
        assert resp.status_code == 401, (method, path, resp.status_code)
        body = resp.get_json()
        assert body["success"] is False
        assert body["message"] == "Authentification requise."
    assert _count_clients(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OAuthState)) == 0


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
    assert anon_client.post("/api/google-contacts/sync-all", json={}).status_code == 403
    assert _count_clients(app) == 0
    accepted = anon_client.post(
        "/api/clients/", json={"nom": "Avec jeton"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 201
    assert accepted.headers["X-CSRF-Token"] == csrf


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
