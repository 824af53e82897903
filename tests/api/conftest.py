"""Fixtures of the API tests: the app wired to the emulator, a Google connection, a fake engine."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from atarys import create_app
from atarys.api import engine
from atarys.emulator.server import RunningEmulator
from atarys.extensions import db

CALLBACK = "http://localhost/api/google-contacts/oauth2callback"


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
        }
    )
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def gclient(gapp: Flask) -> FlaskClient:
    """An authenticated (Bearer) client of ``gapp``."""
    from atarys.api.auth import create_token, create_user

    with gapp.app_context():
        user = create_user(db.session, "gtesteur", "mot-de-passe-google")
        token = create_token(db.session, "gtests", user)
        db.session.remove()
    test_client = gapp.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return test_client


def approve_consent(authorization_url: str, *, decision: str = "allow") -> str:
    """Open the emulator's consent page like a browser and press a button; the redirect URL."""
    page = requests.get(authorization_url, allow_redirects=False, timeout=10)
    if page.status_code == 302:  # auto-approve
        return str(page.headers["Location"])
    assert page.status_code == 200, page.text
    form = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(
            r'<input type=hidden name="([^"]*)" value="([^"]*)">', page.text
        )
    }
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    parts = urlsplit(authorization_url)
    form["decision"] = decision
    answer = requests.post(
        f"{parts.scheme}://{parts.netloc}{action.group(1)}",
        data=form,
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def connect_google(client: FlaskClient) -> dict[str, Any]:
    """Run the whole web flow: auth → consent (approved) → callback. Returns the callback answer."""
    body = client.post("/api/google-contacts/auth").get_json()
    assert body["data"]["authenticated"] is False, body
    location = approve_consent(body["data"]["authorization_url"])
    parts = urlsplit(location)
    resp = client.get(f"{parts.path}?{parts.query}")
    return {"status": resp.status_code, "location": resp.headers.get("Location", "")}


@pytest.fixture
def connected(gclient: FlaskClient) -> FlaskClient:
    """``gclient`` with the emulator's default account connected through the web flow."""
    result = connect_google(gclient)
    assert result["location"].endswith("google=connected"), result
    return gclient


def hold_account_lock(app: Flask, owner: str = "another-process") -> None:
    """Take the connected account's run lock as another process running a sync would."""
    from atarys.sync.store import Store

    with app.app_context():
        account = engine.current_account(app, db.session)
        assert account is not None
        Store(db.session(), account).acquire_lock(owner)
        db.session.remove()


@dataclass
class Item:
    action: str
    google_id: str | None = None
    client_id: int | None = None


@dataclass
class Run:
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data


@dataclass
class FakeService:
    """A stand-in ``SyncService`` recording calls; ``raises`` makes the next call fail."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    raises: Exception | None = None

    def _call(self, name: str, arg: Any = None) -> None:
        self.calls.append((name, arg))
        if self.raises is not None:
            raise self.raises

    def sync_client_to_google(self, client_id: int) -> Item:
        self._call("to_google", client_id)
        return Item("created", google_id="people/c42")

    def sync_contact_from_google(self, resource_name: str) -> Item:
        self._call("from_google", resource_name)
        return Item("created", client_id=42)

    def sync_all(
        self, *, dry_run: bool = False, force: bool = False, trigger: str = "", progress: Any = None
    ) -> Run:
        self._call("sync_all", {"dry_run": dry_run, "force": force, "trigger": trigger})
        if progress is not None:
            progress(3, 3)
        side = {"success": 3, "errors": 0, "created": 1, "updated": 2, "deleted": 0, "linked": 0}
        return Run(
            {
                "run_id": 7,
                "dry_run": dry_run,
                "atarys_to_google": side,
                "google_to_atarys": dict(side),
                "conflicts": [],
                "duplicates": [],
                "plan": [],
            }
        )

    def list_runs(self, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
        self._call("list_runs")
        return [{"id": 7, "status": "finished"}]

    def get_run(self, run_id: Any) -> dict[str, Any] | None:
        self._call("get_run", run_id)
        return {"id": run_id, "items": []} if run_id == 7 else None

    def list_conflicts(self) -> list[dict[str, Any]]:
        self._call("list_conflicts")
        return [{"id": 1, "field": "telephone"}]

    def list_duplicates(self) -> list[dict[str, Any]]:
        self._call("list_duplicates")
        return []

    def resolve_conflict(self, conflict_id: int, *, choice: str, value: Any = None) -> Any:
        self._call("resolve", (conflict_id, choice, value))
        return {"id": conflict_id, "resolution": choice}


@pytest.fixture
def fake_engine(app: Flask) -> FakeService:
    """Replace the sync engine of ``app`` by a ``FakeService``."""
    service = FakeService()
    app.extensions[engine.FACTORY_KEY] = lambda *_args: service
    return service


@pytest.fixture
def gfake(gapp: Flask) -> FakeService:
    """Replace the sync engine of ``gapp`` by a ``FakeService``."""
    service = FakeService()
    gapp.extensions[engine.FACTORY_KEY] = lambda *_args: service
    return service
