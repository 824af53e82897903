"""Item 4: login throttling counts failures only, per (user name, address), with a higher
ceiling per user name; the failed-login log line names the user, never the password."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fixtures.database import TEST_PASSWORD, TEST_USER

from .conftest import MakeApp


def _login(client: FlaskClient, password: str, address: str = "127.0.0.1") -> int:
    return client.post(
        "/api/auth/login",
        json={"username": TEST_USER, "password": password},
        environ_base={"REMOTE_ADDR": address},
    ).status_code


def test_successful_logins_are_not_counted(app: Flask, api_token: str) -> None:
    http = app.test_client()
    assert [_login(http, TEST_PASSWORD) for _ in range(15)] == [200] * 15


def test_failures_from_another_address_do_not_lock_the_user_out(app: Flask, api_token: str) -> None:
    http = app.test_client()
    assert [_login(http, f"faux{i}", "203.0.113.9") for i in range(10)] == [401] * 10
    assert _login(http, TEST_PASSWORD, "203.0.113.9") == 429
    assert _login(http, TEST_PASSWORD, "192.0.2.1") == 200


def test_a_higher_ceiling_per_user_name(api_token: str, make_app: MakeApp) -> None:
    app = make_app(login_rate_limit="3 per minute", login_user_rate_limit="6 per minute")
    http = app.test_client()
    codes = [_login(http, "faux", f"198.51.100.{n}") for n in (1, 1, 1, 2, 2, 2)]
    assert codes == [401] * 6
    resp = http.post(
        "/api/auth/login",
        json={"username": TEST_USER, "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.3"},
    )
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert "réessayez" in resp.get_json()["message"]


def test_failed_login_log_names_the_user_not_the_password(
    app: Flask, api_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="atarys.auth")
    assert _login(app.test_client(), "secret-tres-particulier") == 401
    lines = [r.getMessage() for r in caplog.records if "failed login" in r.getMessage()]
    assert len(lines) == 1
    assert TEST_USER in lines[0]
    assert "secret-tres-particulier" not in caplog.text
