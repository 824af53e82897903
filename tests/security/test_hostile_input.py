"""Items 5 and 6: control characters answer 422 naming the field; deeply nested JSON answers
400 everywhere, logged in one line; a database DataError is a 422, never a 500."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from atarys.extensions import db
from atarys.models import Client

NUL = "a\u0000b"
DEEP = "[" * 2048


def _clients(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Client)) or 0)


def _refused(resp: object, field: str) -> None:
    body = resp.get_json()  # type: ignore[attr-defined]
    assert resp.status_code == 422, body  # type: ignore[attr-defined]
    assert body["success"] is False
    assert field in body["errors"], body
    assert "caractère" in body["errors"][field].lower()


@pytest.mark.parametrize("value", [NUL, "a\u0007b", "a\u001bb", "a\u007fb"])
def test_control_characters_in_a_client_field(app: Flask, client: FlaskClient, value: str) -> None:
    _refused(client.post("/api/clients/", json={"nom": "Dupont", "ville": value}), "ville")
    assert _clients(app) == 0


def test_a_lone_surrogate_in_a_client_field(app: Flask, client: FlaskClient) -> None:
    """``\\ud800`` is valid JSON but no valid text: PostgreSQL could not even encode it."""
    raw = '{"nom": "Dupont", "ville": "a\\ud800b"}'
    _refused(client.post("/api/clients/", data=raw, content_type="application/json"), "ville")
    assert _clients(app) == 0


def test_tabs_and_line_breaks_are_text(client: FlaskClient) -> None:
    resp = client.post("/api/clients/", json={"nom": "Dupont", "adresse": "1 rue\nBâtiment B"})
    assert resp.status_code == 201, resp.get_json()


def test_control_characters_in_an_update_leave_the_client_unchanged(
    app: Flask, client: FlaskClient
) -> None:
    made = client.post("/api/clients/", json={"nom": "Dupont"}).get_json()["data"]
    _refused(client.patch(f"/api/clients/{made['id']}", json={"prenom": NUL}), "prenom")
    assert client.get(f"/api/clients/{made['id']}").get_json()["data"]["prenom"] is None


def test_control_characters_in_the_search(client: FlaskClient) -> None:
    _refused(client.get("/api/clients/", query_string={"q": NUL}), "q")


def test_control_characters_in_the_login(anon_client: FlaskClient, api_token: str) -> None:
    _refused(
        anon_client.post("/api/auth/login", json={"username": NUL, "password": "x"}), "username"
    )


def test_control_characters_in_the_sync_settings(client: FlaskClient) -> None:
    _refused(
        client.put("/api/google-contacts/settings", json={"import_scope": NUL}), "import_scope"
    )


def test_control_characters_in_a_path_part(client: FlaskClient) -> None:
    resp = client.get("/api/google-contacts/runs/a%00b")
    assert resp.status_code == 422


def test_a_database_data_error_is_a_422(app: Flask, client: FlaskClient, database_url: str) -> None:
    """Whatever the database refuses as data (here a failed cast) answers 422, not 500."""

    def cast() -> object:
        db.session.execute(text("SELECT CAST('douze' AS INTEGER)"))
        return {"success": True}

    app.add_url_rule("/api/test-cast", "test_cast", cast)
    resp = client.get("/api/test-cast")
    if database_url.startswith("sqlite"):
        assert resp.status_code == 200  # SQLite casts leniently: nothing to refuse
        return
    assert resp.status_code == 422
    assert resp.get_json()["success"] is False
    assert client.get("/api/clients/").status_code == 200  # the session was rolled back


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/auth/login"),
        ("POST", "/api/clients/"),
        ("PUT", "/api/google-contacts/settings"),
        ("POST", "/api/google-contacts/sync-all"),
    ],
)
def test_deeply_nested_json_is_400_in_one_log_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, method: str, path: str
) -> None:
    caplog.set_level(logging.INFO)
    resp = client.open(path, method=method, data=DEEP, content_type="application/json")
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["success"] is False
    assert not [r for r in caplog.records if r.exc_info]
    assert all(r.levelno < logging.ERROR for r in caplog.records)
    assert sum(len(r.getMessage()) for r in caplog.records) < 500


def test_deeply_nested_json_on_login_before_the_rate_limiter(
    anon_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The limiter's key function reads the user name: it must not crash either."""
    for _ in range(3):
        resp = anon_client.post("/api/auth/login", data=DEEP, content_type="application/json")
        assert resp.status_code == 400
    assert not [r for r in caplog.records if r.exc_info]
