"""Items 2 and 10: API tokens listed and revoked, with an expiry and scopes; /metrics needs
the ``metrics`` scope."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from atarys.cli import main
from atarys.extensions import db
from atarys.models import ApiToken, utcnow
from fixtures.database import TEST_USER


@pytest.fixture
def cli(
    app: Flask, api_token: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    """The CLI on the same database as ``app`` (which has the user ``testeur``)."""
    monkeypatch.setenv("ATARYS_DATABASE_URL", database_url)
    monkeypatch.setenv("ATARYS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ATARYS_LOG_DIR", str(tmp_path / "logs"))
    return CliRunner()


def _create(cli: CliRunner, *args: str) -> str:
    out = cli.invoke(main, ["create-token", *args])
    assert out.exit_code == 0, out.output
    token = out.output.splitlines()[1].strip()
    assert token.startswith("atarys_")
    return token


def _bearer(app: Flask, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_list_shows_tokens_with_scopes_expiry_and_last_use(app: Flask, cli: CliRunner) -> None:
    token = _create(
        cli, "lecture-seule", "--user", TEST_USER, "--scope", "read", "--expires-days", "30"
    )
    _create(cli, "sans-utilisateur")
    listing = cli.invoke(main, ["list-tokens"])
    assert listing.exit_code == 0, listing.output
    line = next(row for row in listing.output.splitlines() if "lecture-seule" in row)
    assert token[:15] in line  # the shown prefix
    assert TEST_USER in line
    assert " read " in f" {line} "
    assert "actif" in line
    assert line.rstrip().endswith("-")  # never used yet
    assert token not in listing.output  # never the clear token
    assert "sans-utilisateur" in listing.output

    assert app.test_client().get("/api/clients/", headers=_bearer(app, token)).status_code == 200
    used = cli.invoke(main, ["list-tokens"]).output
    line = next(row for row in used.splitlines() if "lecture-seule" in row)
    assert line.rstrip().endswith("UTC")  # last use shown


def test_revoke_by_prefix_or_id_also_a_token_without_user(app: Flask, cli: CliRunner) -> None:
    http = app.test_client()
    mine = _create(cli, "cron", "--user", TEST_USER)
    orphan = _create(cli, "orphelin")
    assert http.get("/api/clients/", headers=_bearer(app, mine)).status_code == 200
    assert http.get("/api/clients/", headers=_bearer(app, orphan)).status_code == 200

    revoked = cli.invoke(main, ["revoke-token", mine[:15]])
    assert revoked.exit_code == 0, revoked.output
    assert "révoqué" in revoked.output
    assert http.get("/api/clients/", headers=_bearer(app, mine)).status_code == 401

    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "orphelin"))
        assert row is not None
        assert row.user_id is None
        orphan_id = row.id
    assert cli.invoke(main, ["revoke-token", str(orphan_id)]).exit_code == 0
    resp = http.get("/api/clients/", headers=_bearer(app, orphan))
    assert resp.status_code == 401
    assert "révoqué" in resp.get_json()["message"]

    unknown = cli.invoke(main, ["revoke-token", "atarys_zzzzzzzz"])
    assert unknown.exit_code != 0
    assert "Aucun jeton" in unknown.output
    listing = cli.invoke(main, ["list-tokens"]).output
    assert all(
        "révoqué" in row for row in listing.splitlines() if "cron" in row or "orphelin" in row
    )


def test_expired_token_is_refused(app: Flask, cli: CliRunner) -> None:
    token = _create(cli, "court", "--expires-days", "1")
    http = app.test_client()
    assert http.get("/api/clients/", headers=_bearer(app, token)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "court"))
        assert row is not None
        assert row.expires_at is not None
        assert timedelta(hours=23) < row.expires_at - utcnow() <= timedelta(days=1)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    resp = http.get("/api/clients/", headers=_bearer(app, token))
    assert resp.status_code == 401
    assert "expiré" in resp.get_json()["message"]
    assert "expiré" in cli.invoke(main, ["list-tokens"]).output


def test_scopes_limit_what_a_token_does(app: Flask, cli: CliRunner) -> None:
    http = app.test_client()
    reader = _create(cli, "lecteur", "--scope", "read")
    writer = _create(cli, "ecrivain")  # default: read,write
    admin = _create(cli, "admin", "--scope", "read,write,admin")
    client = {"nom": "Dupont"}
    refused = http.post("/api/clients/", json=client, headers=_bearer(app, reader))
    assert refused.status_code == 403
    assert "écriture" in refused.get_json()["message"]
    assert http.get("/api/clients/", headers=_bearer(app, reader)).get_json()["data"] == []
    assert http.post("/api/clients/", json=client, headers=_bearer(app, writer)).status_code == 201
    settings = {"conflict_policy": "manual"}
    for token in (reader, writer):
        resp = http.put("/api/google-contacts/settings", json=settings, headers=_bearer(app, token))
        assert resp.status_code == 403
        assert "administration" in resp.get_json()["message"]
        connect = http.post("/api/google-contacts/auth", headers=_bearer(app, token))
        assert connect.status_code == 403
    # The admin token gets through to the handler (which says Google is not connected yet).
    allowed = http.put("/api/google-contacts/settings", json=settings, headers=_bearer(app, admin))
    assert allowed.status_code == 409, allowed.get_json()
    assert "pas connecté" in allowed.get_json()["message"]


def test_unknown_scope_is_refused_in_french(cli: CliRunner) -> None:
    out = cli.invoke(main, ["create-token", "x", "--scope", "read,tout"])
    assert out.exit_code != 0
    assert "Portée inconnue" in out.output


def test_metrics_need_a_token_with_the_metrics_scope(app: Flask, cli: CliRunner) -> None:
    http = app.test_client()
    anonymous = http.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"atarys_sync_runs" not in anonymous.data
    reader = _create(cli, "lecteur", "--scope", "read,write,admin")
    assert http.get("/metrics", headers=_bearer(app, reader)).status_code == 403
    prometheus = _create(cli, "prometheus", "--scope", "metrics")
    resp = http.get("/metrics", headers=_bearer(app, prometheus))
    assert resp.status_code == 200
    assert b"atarys_sync_runs" in resp.data
    # The metrics token reads nothing else.
    assert http.get("/api/clients/", headers=_bearer(app, prometheus)).status_code == 403
