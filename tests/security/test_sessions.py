"""Item 1: logout, password change and deactivation end every session; an absolute lifetime."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from atarys.api.auth import set_active, set_password
from atarys.extensions import db
from atarys.models import User
from fixtures.database import TEST_USER

from .conftest import MakeApp, login, session_cookie


def _user(app: Flask) -> User:
    user = db.session.scalar(select(User).where(User.username == TEST_USER))
    assert user is not None
    return user


def test_logout_ends_every_session_even_a_copied_cookie(
    app: Flask, api_token: str, make_app: MakeApp
) -> None:
    """After logout the old cookie (copied, as a thief would) and other browsers answer 401,
    also on a restarted app."""
    browser, other = app.test_client(), app.test_client()
    csrf = login(browser)
    login(other)
    stolen = session_cookie(browser)
    assert browser.get("/api/clients/").status_code == 200
    assert browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200

    thief = app.test_client()
    thief.set_cookie("atarys_session", stolen)
    assert thief.get("/api/clients/").status_code == 401
    assert other.get("/api/clients/").status_code == 401

    restarted = make_app().test_client()  # same database, same secret key in the data dir
    restarted.set_cookie("atarys_session", stolen)
    assert restarted.get("/api/clients/").status_code == 401
    # A new login works again.
    login(browser)
    assert browser.get("/api/clients/").status_code == 200


def test_password_change_ends_every_session(app: Flask, api_token: str) -> None:
    browser = app.test_client()
    login(browser)
    assert browser.get("/api/auth/me").status_code == 200
    with app.app_context():
        set_password(db.session, _user(app), "un-nouveau-mot-de-passe")
    resp = browser.get("/api/auth/me")
    assert resp.status_code == 401
    assert resp.get_json()["success"] is False


def test_deactivation_ends_every_session(app: Flask, api_token: str) -> None:
    browser = app.test_client()
    login(browser)
    with app.app_context():
        set_active(db.session, _user(app), False)
    assert browser.get("/api/clients/").status_code == 401
    with app.app_context():
        set_active(db.session, _user(app), True)
    # Re-activation does not bring the old session back.
    assert browser.get("/api/clients/").status_code == 401


def test_session_has_an_absolute_lifetime_requests_do_not_extend(
    api_token: str, make_app: MakeApp
) -> None:
    app = make_app(session_lifetime_hours=2)
    browser = app.test_client()
    before = time.time()
    login(browser)
    cookie = browser.get_cookie("atarys_session")
    assert cookie is not None
    assert cookie.expires is not None
    assert abs(cookie.expires.timestamp() - (before + 2 * 3600)) < 60
    # Requests do not send a renewed cookie.
    resp = browser.get("/api/clients/")
    assert resp.status_code == 200
    assert "atarys_session=" not in resp.headers.get("Set-Cookie", "")
    # Two hours after login the session is over, whatever happened in between.
    with browser.session_transaction() as sess:
        sess["iat"] = int(time.time()) - 2 * 3600 - 5
    assert browser.get("/api/clients/").status_code == 401


def test_default_lifetime_is_twelve_hours(app: Flask, api_token: str) -> None:
    browser = app.test_client()
    resp = browser.post(
        "/api/auth/login", json={"username": TEST_USER, "password": "mot-de-passe-de-test"}
    )
    expires = next(
        part.split("=", 1)[1]
        for part in resp.headers["Set-Cookie"].split("; ")
        if part.lower().startswith("expires=")
    )
    hours = (parsedate_to_datetime(expires).timestamp() - time.time()) / 3600
    assert 11.9 < hours <= 12.01
    with browser.session_transaction() as sess:
        sess["iat"] = int(time.time()) - 12 * 3600 - 5
    assert browser.get("/api/auth/me").status_code == 401


def test_bearer_logout_ends_the_users_browser_sessions(
    app: Flask, client: FlaskClient, api_token: str
) -> None:
    browser = app.test_client()
    login(browser)
    assert client.post("/api/auth/logout").status_code == 200
    assert browser.get("/api/clients/").status_code == 401
    assert client.get("/api/clients/").status_code == 200  # the token itself stays valid
