"""One benchmark step in a fresh process, so CPU time and peak RSS belong to it alone.

``python -m bench.child '<json>'`` with ``{"step": "setup"|"measure", ...}``; prints one
JSON line with the step's figures.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from google.oauth2.credentials import Credentials

from atarys import create_app, migrate
from atarys.extensions import db, session
from atarys.google.client import build_people_service
from atarys.models import Client, SyncLink
from bench.naive import naive_sync
from bench.workload import client_values, contact_person

USER = "bench@example.com"
UNPACED = {"critical_read": 0, "critical_write": 0, "write": 0}


class RowCounter:
    """Counts rows written (inserted, updated, deleted) through an engine.

    SQLite: growth of each connection's ``total_changes`` (a RETURNING statement only
    counts once fully read, so connections are swept again at the end); PostgreSQL:
    the cursor's ``rowcount`` of each write statement.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._rows = 0
        self._seen: dict[int, tuple[Any, int]] = {}
        sa.event.listen(engine, "before_cursor_execute", self._sweep_one)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _sweep_one(self, conn: Any, cursor: Any, *args: Any) -> None:
        raw = cursor.connection
        if hasattr(raw, "total_changes"):
            _, last = self._seen.get(id(raw), (raw, raw.total_changes))
            self._rows += raw.total_changes - last
            self._seen[id(raw)] = (raw, raw.total_changes)

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if hasattr(cursor.connection, "total_changes"):
            self._sweep_one(conn, cursor)
            return
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and (cursor.rowcount or 0) > 0:
            self._rows += cursor.rowcount

    @property
    def rows(self) -> int:
        for key, (raw, last) in list(self._seen.items()):
            self._rows += raw.total_changes - last
            self._seen[key] = (raw, raw.total_changes)
        return self._rows


def admin(emulator: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    resp = requests.request(
        method, f"{emulator}_emulator/{path}", params={"user": USER}, json=body or {}, timeout=600
    )
    resp.raise_for_status()
    return resp.json()


def people_service(emulator: str) -> Any:
    token = admin(emulator, "POST", "token")["access_token"]
    return build_people_service(Credentials(token=token), emulator)


def _app(args: dict[str, Any]) -> Any:
    work = Path(args["work_dir"])
    return create_app(
        {
            "database_url": args["database_url"],
            "data_dir": work / "data",
            "log_dir": work / "logs",
            "testing": True,
            "google_api_endpoint": args["emulator"],
            "poll_minutes": 0,
            "push_enabled": True,  # client edits queue a push job (off by default in tests)
        }
    )


def engine_sync(args: dict[str, Any]) -> dict[str, Any]:
    from atarys.sync.service import SyncService, get_or_create_account

    account = get_or_create_account(session(), USER)
    # the scenarios import every contact (a new account imports only the "ATARYS" label)
    account.import_scope = "all"
    account.google_deletions = "propagate"
    # Unpaced by default (a 0 limit turns a bucket's client-side budget off): the paced
    # time is computed from the call counts, and checked by one real paced run.
    account.quota_per_minute = args.get("quota_per_minute") or UNPACED
    session().commit()
    # the action log where the app writes it (``open_service`` passes the app's folder)
    service = SyncService(
        session(),
        account,
        people_service(args["emulator"]),
        log_dir=Path(args["work_dir"]) / "logs",
    )
    result = service.sync_all(trigger="bench", force=True)
    return result.to_dict()


def api_edit_prepare(app: Any, args: dict[str, Any]) -> dict[str, Any]:
    """What a running server already has before the edit (not measured): the stored
    Google token, the account, an API user and token, the started scheduler."""
    from atarys.api.auth import create_token, create_user
    from atarys.google.connection import token_store
    from atarys.google.tokens import StoredToken
    from atarys.google_contacts import service as api_engine
    from atarys.jobs.scheduler import SyncScheduler

    emulator = args["emulator"]
    grant = admin(emulator, "POST", "token", {"refresh": True, "client_id": "bench"})
    creds = Credentials(
        token=grant["access_token"],
        refresh_token=grant["refresh_token"],
        token_uri=f"{emulator}token",
        client_id="bench",
        client_secret="bench",  # noqa: S106 (the emulator's test client)
    )
    token_store(app).save(StoredToken.from_credentials(USER, creds))
    with app.app_context():
        account = api_engine.ensure_account(session(), USER)
        account.auto_sync_minutes = 0  # only the push runs during the measure
        bearer = create_token(
            session(), "bench", create_user(session(), "bench", "mot-de-passe-bench")
        )
        client_id = session().scalars(sa.select(Client.id).order_by(Client.id).limit(1)).one()
        resource_name = (
            session()
            .scalars(sa.select(SyncLink.resource_name).where(SyncLink.client_id == client_id))
            .one()
        )
        session().commit()
    db.session.remove()
    scheduler = SyncScheduler(app, tick_seconds=3600)
    scheduler.start()
    return {
        "scheduler": scheduler,
        "bearer": bearer,
        "client_id": client_id,
        "resource_name": resource_name,
    }


def api_edit(app: Any, args: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    """Edit one client through the HTTP API; time until Google shows it (the debounced push).

    ``poll_cpu_s`` is the CPU the harness spent polling the emulator (this thread), which
    the measure leaves out: the push itself runs in the scheduler's thread.
    """
    emulator = args["emulator"]
    scheduler = prepared["scheduler"]
    client_id, resource_name = prepared["client_id"], prepared["resource_name"]
    poll_cpu = 0.0
    try:
        http = app.test_client()
        http.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {prepared['bearer']}"
        start = time.perf_counter()
        resp = http.patch(f"/api/clients/{client_id}", json={"ville": "Versailles"})
        assert resp.status_code == 200, resp.get_json()
        answered = time.perf_counter() - start
        # Poll the one contact (reading the whole account would cost the harness, not the push).
        number = resource_name.split("/c", 1)[1]
        while time.perf_counter() - start < 60:
            poll0 = time.thread_time()
            person = admin(emulator, "GET", f"contacts/{number}")["person"]
            poll_cpu += time.thread_time() - poll0
            if any(a.get("city") == "Versailles" for a in person.get("addresses") or []):
                break
            time.sleep(0.05)
        else:
            raise SystemExit("the edit never reached Google")
        latency = time.perf_counter() - start
    finally:
        scheduler.shutdown()
    return {"api_answer_s": answered, "latency_s": latency, "poll_cpu_s": poll_cpu}


def fresh_database(url: str) -> None:
    engine = sa.create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS bench CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA bench"))
    else:
        Path(engine.url.database or "").unlink(missing_ok=True)
    engine.dispose()
    migrate.upgrade(url)


def workload(scenario: str, n: int) -> tuple[range, list[dict[str, Any]]]:
    """The client indexes and the contacts a scenario starts with.

    ``overlap_50``: N people, half of them in both (same e-mail), a quarter only in
    ATARYS, a quarter only in Google — so Google ends with N contacts, within its cap.
    """
    if scenario == "first_from_google":
        return range(0), [contact_person(i, shared=False) for i in range(n)]
    if scenario == "overlap_50":
        quarter = n // 4
        people = [contact_person(j, shared=j < n - quarter) for j in range(quarter, n)]
        return range(n - quarter), people
    return range(n), []


def setup(args: dict[str, Any]) -> dict[str, Any]:
    """Build the scenario's starting point (not measured)."""
    n, scenario, emulator = int(args["n"]), args["scenario"], args["emulator"]
    fresh_database(args["database_url"])
    admin(emulator, "POST", "reset")
    admin(emulator, "PUT", "faults", {"latency_ms": 0})
    app = _app(args)
    with app.app_context():
        clients, contacts = workload(scenario, n)
        if clients:
            session().execute(sa.insert(Client), [client_values(i) for i in clients])
            session().commit()
        people = people_service(emulator)
        for start in range(0, len(contacts), 200):
            batch = [{"contactPerson": p} for p in contacts[start : start + 200]]
            people.people().batchCreateContacts(
                body={"contacts": batch, "readMask": "names"}
            ).execute()
        if scenario in ("second_no_change", "steady_no_change", "one_percent", "api_edit"):
            engine_sync(args)
        if scenario in ("steady_no_change", "one_percent", "api_edit"):
            # reads back the echo of the first run's own writes (25,000 contacts it created
            # or tagged): the account is in its steady state, as a push finds it
            engine_sync(args)
        if scenario == "one_percent":
            changes = max(1, n // 100)
            rows = session().scalars(sa.select(Client).order_by(Client.id).limit(changes)).all()
            for row in rows:
                row.ville = "Versailles"
            session().commit()
            listed = admin(emulator, "GET", "contacts")["contacts"]
            live = [c for c in listed if not c["deleted"]]
            for contact in live[-changes:]:
                number = contact["resourceName"].split("/c", 1)[1]
                admin(
                    emulator,
                    "PATCH",
                    f"contacts/{number}",
                    {"organizations": [{"name": "Nouvelle Société", "title": "Directrice"}]},
                )
        db.engine.dispose()
    return {"ok": True}


def measure(args: dict[str, Any]) -> dict[str, Any]:
    """Run one sync (engine or naive) and report its costs."""
    emulator = args["emulator"]
    admin(emulator, "PUT", "faults", {"latency_ms": int(args.get("latency_ms", 0))})
    app = _app(args)
    with app.app_context():
        counter = RowCounter(db.engine)
        prepared = api_edit_prepare(app, args) if args["scenario"] == "api_edit" else {}
        before = admin(emulator, "GET", "stats")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if args["scenario"] == "api_edit":
            db.session.remove()
            detail = api_edit(app, args, prepared)
        elif args["algorithm"] == "naive":
            detail: dict[str, Any] = naive_sync(session(), people_service(emulator))
        else:
            detail = engine_sync(args)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        cpu -= float(detail.get("poll_cpu_s", 0.0))  # the harness's own polling
        rows_written = counter.rows
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        after = admin(emulator, "GET", "stats")
        db.engine.dispose()
    admin(emulator, "PUT", "faults", {"latency_ms": 0})
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": peak / 1024,
        "rss_before_mb": rss_before / 1024,
        "rows_written": rows_written,
        "stats_before": before,
        "stats_after": after,
        "detail": {k: v for k, v in detail.items() if k != "plan"},
    }


def main() -> None:
    args = json.loads(sys.argv[1])
    result = setup(args) if args["step"] == "setup" else measure(args)
    sys.stdout.write(json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
