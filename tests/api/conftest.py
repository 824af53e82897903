"""Fixtures of the API tests: the app wired to the emulator, a Google connection, the run lock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from atarys import create_app
from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.google_contacts import service as engine
from atarys.jobs import queue as job_queue
from fixtures.consent import approve_consent

CALLBACK = "http://localhost/api/google-contacts/oauth2callback"
GOOGLE_USER = "gtesteur"
GOOGLE_PASSWORD = "mot-de-passe-google"


@pytest.fixture
def gapp(database_url: str, tmp_path: Path, emulator: RunningEmulator) -> Iterator[Flask]:
    """The app pointed at the emulator, with the emulator's client secrets in its data dir."""
    data_dir = tmp_path / "data"
    emulator.write_client_secrets(data_dir / "google_credentials.json", "web", [CALLBACK])
    application = create_app(
        {
            "database_url": database_url,
            "data_dir": data_dir,
            "log_dir": tmp_path / "logs",
            "testing": True,
            "google_api_endpoint": emulator.url,
            # Retries as in production, without the seconds of backoff between them.
            engine.GOOGLE_OPTIONS_KEY: {"backoff_initial": 0.01, "backoff_max": 0.05},
        }
    )
    yield application
    job_queue.shutdown(application)  # stop its worker threads
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def gclient(gapp: Flask) -> FlaskClient:
    """An authenticated (Bearer) client of ``gapp``."""
    from atarys.api.auth import create_token, create_user

    with gapp.app_context():
        user = create_user(db.session, GOOGLE_USER, GOOGLE_PASSWORD)
        token = create_token(db.session, "gtests", user)
        db.session.remove()
    test_client = gapp.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return test_client


def connect_google(client: FlaskClient) -> dict[str, Any]:
    """Run the whole web flow: auth → consent (approved) → callback. Returns the callback answer."""
    body = client.post("/api/google-contacts/auth").get_json()
    assert body["data"]["authenticated"] is False, body
    location = approve_consent(body["data"]["authorization_url"])
    parts = urlsplit(location)
    resp = client.get(f"{parts.path}?{parts.query}")
    return {"status": resp.status_code, "location": resp.headers.get("Location", "")}


def connect_account(client: FlaskClient, email: str) -> None:
    """Connect another Google account (a staff member's phone): ``POST auth`` with
    ``login_hint``, the consent page opened on that account and approved, the callback."""
    body = client.post("/api/google-contacts/auth", json={"login_hint": email}).get_json()
    assert body["data"]["authenticated"] is False, body
    url = body["data"]["authorization_url"]
    assert parse_qs(urlsplit(url).query)["login_hint"] == [email]
    location = urlsplit(approve_consent(url, login_hint=email))
    resp = client.get(f"{location.path}?{location.query}")
    assert resp.headers["Location"].endswith("google=connected"), resp.headers


def wait_run(
    client: FlaskClient,
    run_id: int,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 30.0,
) -> dict[str, Any]:
    """``GET runs/<id>`` until ``until(job)`` holds (the last answer when time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/api/google-contacts/runs/{run_id}").get_json()["data"]
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


@pytest.fixture
def connected(gclient: FlaskClient) -> FlaskClient:
    """``gclient`` with the emulator's default account connected through the web flow,
    set to import every contact and propagate deletions both ways (the safe defaults of a
    new account are tested on ``fresh_connection``)."""
    result = connect_google(gclient)
    assert result["location"].endswith("google=connected"), result
    settings = {"import_scope": "all", "google_deletions": "propagate"}
    assert gclient.put("/api/google-contacts/settings", json=settings).status_code == 200
    return gclient


@pytest.fixture
def fresh_connection(gclient: FlaskClient) -> FlaskClient:
    """``gclient`` right after the consent, with a new account's defaults."""
    result = connect_google(gclient)
    assert result["location"].endswith("google=connected"), result
    return gclient


def hold_account_lock(app: Flask, owner: str | None = None) -> None:
    """Take the connected account's run lock as another process running a sync would.

    Each call gets its own owner by default: on PostgreSQL an owner's advisory lock
    outlives the test that took it, and a later test taking the same one would block.
    """
    import uuid

    from atarys.sync.store import Store

    owner = owner or f"another-process-{uuid.uuid4().hex[:8]}"

    with app.app_context():
        account = engine.resolve_account(app)
        assert account is not None
        Store(db.session(), account).acquire_lock(owner)
        db.session.remove()


def first_sync_applied(app: Flask) -> None:
    """Mark the connected account's first sync as applied by a person (as Appliquer would)."""
    with app.app_context():
        account = engine.resolve_account(app)
        assert account is not None
        account.first_sync_pending = False
        db.session.commit()
        db.session.remove()


def no_wait(app: Flask, seconds: float = 0.0) -> None:
    """Make a synchronous ``sync-all`` wait at most ``seconds`` for a run holding the account."""
    from atarys.config import Settings

    settings = app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    app.config["ATARYS_SETTINGS"] = settings.model_copy(update={"sync_wait_seconds": seconds})
