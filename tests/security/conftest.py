"""Fixtures of the security tests: an app with chosen settings, logged-in browsers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from atarys import create_app
from atarys.extensions import db
from fixtures.database import TEST_PASSWORD, TEST_USER

MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[MakeApp]:
    """Apps on the test database and data dir, with extra settings; disposed at the end."""
    made: list[Flask] = []

    def build(**settings: Any) -> Flask:
        config: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "log_dir": tmp_path / "logs",
            "testing": True,
        }
        config.update(settings)
        application = create_app(config)
        made.append(application)
        return application

    yield build
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def login(client: FlaskClient, username: str = TEST_USER, password: str = TEST_PASSWORD) -> str:
    """Log ``client`` in like the UI does; the CSRF token."""
    resp = client.post("/api/auth/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.get_json()
    token = resp.get_json()["data"]["csrf_token"]
    assert isinstance(token, str)
    return token


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("atarys_session")
    assert cookie is not None
    return cookie.value
