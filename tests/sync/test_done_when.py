"""The issue's "done when": from the CLI against the emulator, 500 clients and 300 contacts
(100 sharing an e-mail) → 700 linked pairs, no duplicates; a second run writes nothing;
Google-only data is intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from atarys.cli import main
from atarys.emulator.server import RunningEmulator
from atarys.extensions import db
from atarys.models import Client, SyncLink, SyncRun
from atarys.sync.core.options import ImportScope
from atarys.sync.service import get_or_create_account
from fixtures.emulator import Admin


@pytest.mark.slow
def test_done_when(
    app: Flask, database_url: str, emulator: RunningEmulator, people_service: Any, admin: Admin,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """700 links, no duplicate, a quiet second run, Google-only data intact."""
    with app.app_context():
        db.session.add_all(
            Client(
                nom=f"Nom{i}",
                prenom=f"Prénom{i}",
                email=f"client{i}@example.com",
                telephone=f"+3361{i:07d}",
                ville="Lyon",
            )
            for i in range(500)
        )
        # this scenario imports every Google contact (the default imports the ATARYS label)
        get_or_create_account(db.session, "staff@example.com").import_scope = ImportScope.ALL
        db.session.commit()
    bodies = []
    for j in range(300):
        email = f"CLIENT{j}@Example.com" if j < 100 else f"contact{j}@example.com"
        bodies.append({"contactPerson": {
            "names": [{"familyName": f"Contact{j}"}],
            "emailAddresses": [{"value": email}, {"value": f"perso{j}@home.example"}],
            "phoneNumbers": [{"value": f"06 12 {j:02d} 00 00"[:14]}, {"value": "+33 1 00 00 00 00"}],
            "birthdays": [{"date": {"year": 1980, "month": 1 + j % 12, "day": 1 + j % 28}}],
            "biographies": [{"value": f"Note {j}"}],
            "clientData": [{"key": "other_app", "value": str(j)}],
        }})  # fmt: skip
    for start in range(0, 300, 200):
        people_service.people().batchCreateContacts(
            body={"contacts": bodies[start : start + 200], "readMask": "names"}
        ).execute()
    before = {c["resourceName"]: c["person"] for c in admin.call("GET", "contacts")["contacts"]}

    monkeypatch.setenv("ATARYS_DATABASE_URL", database_url)
    monkeypatch.setenv("ATARYS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ATARYS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(
        "atarys.google.connection.people_service", lambda app, email=None: people_service
    )
    runner = CliRunner()
    refused = runner.invoke(main, ["sync", "--account", "staff@example.com"])
    assert refused.exit_code != 0
    assert "--yes" in refused.output  # a first sync needs a person's confirmation
    first = runner.invoke(main, ["sync", "--yes", "--account", "staff@example.com"])
    assert first.exit_code == 0, first.output
    stats_before = emulator.stats()["methods"]
    second = runner.invoke(main, ["sync", "--account", "staff@example.com"])
    assert second.exit_code == 0, second.output
    stats_after = emulator.stats()["methods"]
    writes = {m: stats_after[m] - stats_before.get(m, 0) for m in stats_after
              if stats_after[m] != stats_before.get(m, 0) and not m.startswith(("people.connections", "connections"))}  # fmt: skip
    assert writes == {}, writes
    dry = runner.invoke(main, ["sync", "--dry-run", "--account", "staff@example.com"])
    assert "Rien à synchroniser." in dry.output

    with app.app_context():
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(SyncLink)) == 700
        assert (
            db.session.scalar(
                select(func.count()).select_from(Client).where(Client.deleted_at.is_(None))
            )
            == 700
        )
        runs = list(db.session.scalars(select(SyncRun).order_by(SyncRun.id)))
        assert runs[0].duplicates == 0
        assert runs[0].counts["atarys_to_google"]["linked"] == 100
        assert runs[0].counts["atarys_to_google"]["created"] == 400
        assert runs[0].counts["google_to_atarys"]["created"] == 200
        assert runs[1].counts["atarys_to_google"]["success"] == 0
        assert runs[1].counts["google_to_atarys"]["success"] == 0
    after = {
        c["resourceName"]: c["person"]
        for c in admin.call("GET", "contacts")["contacts"]
        if not c["deleted"]
    }
    assert len(after) == 700
    for rn, old in before.items():
        new = after[rn]
        for key in ("birthdays", "biographies"):
            assert new[key] == old[key]
        assert [e["value"] for e in new["emailAddresses"]] == [
            e["value"] for e in old["emailAddresses"]
        ]
        assert new["phoneNumbers"][1] == old["phoneNumbers"][1]
        assert {"key": "other_app", "value": old["clientData"][0]["value"]} in [
            {"key": c["key"], "value": c["value"]} for c in new["clientData"]
        ]
