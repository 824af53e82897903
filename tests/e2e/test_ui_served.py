"""The built UI is served at ``/`` with a single-page-app fallback (``atarys.web``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from atarys import web
from atarys.app import create_app

INDEX_HTML = '<!doctype html><html lang="fr"><body><div id="root"></div></body></html>'


@pytest.fixture
def ui_app(tmp_path: Path) -> Flask:
    return create_app(
        {
            "data_dir": tmp_path / "data",
            "log_dir": tmp_path / "logs",
            "database_url": f"sqlite:///{tmp_path / 'ui.db'}",
            "testing": True,
        }
    )


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake build in a temporary static folder."""
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text(INDEX_HTML, encoding="utf-8")
    (static / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (static / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    monkeypatch.setattr(web, "STATIC_DIR", static)
    return static


@dataclass
class Answer:
    status_code: int
    mimetype: str | None
    headers: dict[str, str]
    body: bytes
    is_json: bool

    def text(self) -> str:
        return self.body.decode("utf-8")


class Browser:
    """GETs through the test client, each answer read whole and closed (no open file left)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str) -> Answer:
        with self.client.get(path) as resp:
            return Answer(
                resp.status_code, resp.mimetype, dict(resp.headers), resp.get_data(), resp.is_json
            )


@pytest.fixture
def ui(ui_app: Flask) -> Browser:
    return Browser(ui_app.test_client())


def test_root_serves_the_built_index(built: Path, ui: Browser) -> None:
    """``/`` answers the build's index.html, never cached."""
    resp = ui.get("/")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert '<div id="root">' in resp.text()
    assert resp.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/clients", "/google-contacts", "/clients/12/modifier"])
def test_ui_addresses_fall_back_to_the_index(built: Path, ui: Browser, path: str) -> None:
    """A reload on one of the UI's own addresses still gets the app."""
    resp = ui.get(path)
    assert resp.status_code == 200
    assert '<div id="root">' in resp.text()


def test_hashed_assets_are_served_and_cached(built: Path, ui: Browser) -> None:
    resp = ui.get("/assets/index-abc123.js")
    assert resp.status_code == 200
    assert resp.text() == "console.log(1)"
    assert "immutable" in resp.headers["Cache-Control"]
    assert ui.get("/favicon.svg").status_code == 200


def test_a_missing_asset_is_a_404_not_the_index(built: Path, ui: Browser) -> None:
    assert ui.get("/assets/missing.js").status_code == 404


def test_api_paths_are_not_swallowed(built: Path, ui: Browser) -> None:
    """Unknown ``/api/`` paths stay JSON (401 before login), the health check still answers."""
    health = ui.get("/api/health")
    assert health.status_code == 200
    assert json.loads(health.body)["success"] is True
    unknown = ui.get("/api/nope")
    assert unknown.status_code in (401, 404)
    assert unknown.is_json


def test_files_outside_the_build_are_not_served(built: Path, ui: Browser) -> None:
    resp = ui.get("/../ui.db")
    assert b"SQLite" not in resp.body
    resp = ui.get("/%2e%2e/ui.db")
    assert b"SQLite" not in resp.body


def test_unbuilt_ui_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ui: Browser
) -> None:
    """Without a build, ``/`` is a short French page pointing at ``make run`` (not a 500)."""
    monkeypatch.setattr(web, "STATIC_DIR", tmp_path / "absent")
    resp = ui.get("/")
    assert resp.status_code == 200
    text = resp.text()
    assert "make run" in text
    assert 'lang="fr"' in text
    assert ui.get("/clients").status_code == 200
