"""Multi-account benchmark: N phones (Google accounts) on one ATARYS, 1 worker vs 2 workers.

``python -m bench.run --scenarios multi_account`` (or ``python -m bench.multi_account``
with ``--accounts 20 --clients 2000``). Needs PostgreSQL and Redis (the production
setup of ``docs/deploy.md``): for each worker count, a fresh PostgreSQL schema, a fresh
emulator with one user per phone, M clients in ATARYS, then real ``atarys worker``
processes on the Redis queue:

1. **first sync**: one job per phone queued at once; time until every run has ended
   (every phone holds the M clients, checked on the emulator at the end); People API
   calls per account (the emulator's counters: ≈ ceil(M/200) batch creates + listing);
2. **no-change round**: one scheduled job per phone (what the hourly schedule queues);
   wall time and calls for all the phones;
3. **edit on phone A → phone B**: ``atarys scheduler`` with a short poll; a contact edited
   on A (emulator admin API) is read at A's poll, written to ATARYS, and reaches B at B's
   next run; the delay until B's contact holds the new value.

Prints one line per worker count and the 2-worker/1-worker ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet
from google.oauth2.credentials import Credentials

from bench.workload import client_values

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UNPACED = {"critical_read": 0, "critical_write": 0, "write": 0}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def phones(n: int) -> list[str]:
    return [f"tel{i:02d}@example.com" for i in range(n)]


class Bench:
    """One configuration: a schema, an emulator, the env the processes share."""

    def __init__(self, work: Path, pg_url: str, redis_url: str, concurrency: int) -> None:
        self.work = work
        self.schema = f"bench_multi_{uuid.uuid4().hex[:8]}"
        sep = "&" if "?" in pg_url else "?"
        self.pg_url = pg_url
        self.database_url = f"{pg_url}{sep}options=-csearch_path%3D{self.schema}"
        self.port = _free_port()
        self.emulator = f"http://127.0.0.1:{self.port}/"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ATARYS_")}
        self.env.update(
            ATARYS_DATABASE_URL=self.database_url,
            ATARYS_QUEUE_URL=redis_url,
            ATARYS_QUEUE_NAMESPACE=self.schema,
            ATARYS_WORKER_CONCURRENCY=str(concurrency),
            ATARYS_DATA_DIR=str(work / "data"),
            ATARYS_LOG_DIR=str(work / "logs"),
            ATARYS_SECRET_KEY=secrets.token_urlsafe(32),
            ATARYS_TOKEN_KEY=Fernet.generate_key().decode(),
            ATARYS_GOOGLE_API_ENDPOINT=self.emulator,
            ATARYS_POLL_MINUTES="0.1",
            ATARYS_SCHEDULER_TICK_SECONDS="1",
            PYTHONUNBUFFERED="1",
        )
        self.processes: list[subprocess.Popen[bytes]] = []
        self.files: list[Any] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.work / f"{name}.log").open("wb")
        self.files.append(log)
        proc = subprocess.Popen(list(args), env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(proc)
        return proc

    def stop(self, procs: list[subprocess.Popen[bytes]] | None = None) -> None:
        for proc in procs or self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs or self.processes:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()

    def close(self) -> None:
        self.stop()
        for log in self.files:
            log.close()
        engine = sa.create_engine(self.pg_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        engine.dispose()

    def admin(self, method: str, path: str, user: str, body: Any = None) -> Any:
        resp = requests.request(
            method,
            f"{self.emulator}_emulator/{path}",
            params={"user": user},
            json=body or {},
            timeout=600,
        )
        resp.raise_for_status()
        return resp.json()


def _app(bench: Bench) -> Any:
    from atarys import create_app

    env = bench.env
    return create_app(
        {
            "database_url": bench.database_url,
            "data_dir": Path(env["ATARYS_DATA_DIR"]),
            "log_dir": Path(env["ATARYS_LOG_DIR"]),
            "token_key": env["ATARYS_TOKEN_KEY"],
            "secret_key": env["ATARYS_SECRET_KEY"],
            "google_api_endpoint": bench.emulator,
            "queue_url": env["ATARYS_QUEUE_URL"],
            "queue_namespace": env["ATARYS_QUEUE_NAMESPACE"],
        }
    )


def prepare(bench: Bench, accounts: list[str], clients: int) -> Any:
    """Schema, clients, one connected account (stored token) per phone; the driver's app."""
    from atarys import migrate
    from atarys.extensions import db
    from atarys.google.connection import token_store
    from atarys.google.tokens import StoredToken
    from atarys.google_contacts import service as engine_service
    from atarys.models import Client

    engine = sa.create_engine(bench.pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {bench.schema}"))
    engine.dispose()
    migrate.upgrade(bench.database_url)
    app = _app(bench)
    store = token_store(app)
    with app.app_context():
        db.session.execute(sa.insert(Client), [client_values(i) for i in range(clients)])
        for email in accounts:
            grant = bench.admin("POST", "token", email, {"refresh": True, "client_id": "bench"})
            creds = Credentials(
                token=grant["access_token"],
                refresh_token=grant["refresh_token"],
                token_uri=f"{bench.emulator}token",
                client_id="bench",
                client_secret="bench",  # noqa: S106 (the emulator's test client)
            )
            store.save(StoredToken.from_credentials(email, creds))
            account = engine_service.ensure_account(db.session, email)
            account.first_sync_pending = False
            account.import_scope = "all"
            account.quota_per_minute = UNPACED  # the machinery, not Google's pacing
            account.auto_sync_minutes = 60
        db.session.commit()
        db.session.remove()
    return app


def queue_round(app: Any, accounts: list[str], trigger: str) -> list[int]:
    from atarys.extensions import db
    from atarys.google_contacts import service as engine_service
    from atarys.jobs.queue import get_queue

    ids = []
    with app.app_context():
        queue = get_queue(app)
        for email in accounts:
            account = engine_service.ensure_account(db.session, email)
            ids.append(queue.enqueue(account, trigger)[0])
        db.session.remove()
    return ids


def wait_runs(bench: Bench, ids: list[int], timeout: float) -> list[dict[str, Any]]:
    engine = sa.create_engine(bench.database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                rows = [
                    dict(r)
                    for r in conn.execute(
                        sa.text(
                            "SELECT id, status, api_calls, started_at, finished_at "
                            "FROM sync_runs WHERE id = ANY(:ids)"
                        ),
                        {"ids": ids},
                    ).mappings()
                ]
            if rows and all(r["status"] not in ("queued", "running") for r in rows):
                return rows
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise SystemExit(f"runs {ids} not done in {timeout:.0f} s")


def overlaps(bench: Bench) -> int:
    """Pairs of runs of one account that overlapped in time (must be 0)."""
    engine = sa.create_engine(bench.database_url)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT count(*) FROM sync_runs a JOIN sync_runs b ON a.account_id = b.account_id "
                "AND a.id < b.id AND a.finished_at IS NOT NULL AND b.finished_at IS NOT NULL "
                "AND a.started_at < b.finished_at AND b.started_at < a.finished_at"
            )
        ).scalar_one()
    engine.dispose()
    return int(found)


def _calls(stats: dict[str, Any]) -> int:
    methods = stats.get("methods") or stats.get("calls") or {}
    if isinstance(methods, dict):
        return sum(int(v) for v in methods.values() if isinstance(v, int))
    return int(stats.get("requests") or 0)


def run_config(
    work: Path, workers: int, n_accounts: int, clients: int, concurrency: int, edit: bool
) -> dict[str, Any]:
    pg = os.environ.get(
        "ATARYS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    redis_url = os.environ.get("ATARYS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    bench = Bench(work, pg, redis_url, concurrency)
    accounts = phones(n_accounts)
    result: dict[str, Any] = {"workers": workers, "accounts": n_accounts, "clients": clients}
    try:
        emulator_args = [str(BIN / "atarys"), "emulator", "--port", str(bench.port)]
        for email in accounts:
            emulator_args += ["--user", email]
        bench.start("emulator", *emulator_args)
        for _ in range(300):
            try:
                requests.get(f"{bench.emulator}_emulator/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        app = prepare(bench, accounts, clients)
        worker_procs = [
            bench.start(f"worker{i}", str(BIN / "atarys"), "worker") for i in range(workers)
        ]
        time.sleep(2)  # let them import; what is measured is the queue, not Python's start

        requests.delete(f"{bench.emulator}_emulator/stats", timeout=10)
        start = time.monotonic()
        rows = wait_runs(bench, queue_round(app, accounts, "api-async"), 3600)
        result["first_sync_s"] = time.monotonic() - start
        result["first_failed"] = sum(1 for r in rows if r["status"] != "success")
        stats = requests.get(f"{bench.emulator}_emulator/stats", timeout=30).json()
        per_account = [_calls(stats.get(email, {})) for email in accounts]
        result["calls_per_account"] = max(per_account) if per_account else 0
        held = [
            sum(1 for c in bench.admin("GET", "contacts", email)["contacts"] if not c["deleted"])
            for email in accounts
        ]
        result["phones_complete"] = sum(1 for h in held if h >= clients)

        requests.delete(f"{bench.emulator}_emulator/stats", timeout=10)
        start = time.monotonic()
        wait_runs(bench, queue_round(app, accounts, "schedule"), 600)
        result["no_change_round_s"] = time.monotonic() - start
        stats = requests.get(f"{bench.emulator}_emulator/stats", timeout=30).json()
        result["no_change_round_calls"] = sum(_calls(stats.get(e, {})) for e in accounts)

        if edit and len(accounts) >= 2:
            result["edit_a_to_b_s"] = edit_delay(bench, accounts)
        result["overlapping_runs"] = overlaps(bench)
        bench.stop(worker_procs)
        from atarys.jobs import queue as job_queue

        job_queue.shutdown(app)
    finally:
        bench.close()
    return result


def edit_delay(bench: Bench, accounts: list[str]) -> float:
    """An edit on phone A until phone B holds it, with the scheduler's short poll."""
    scheduler = bench.start("scheduler", str(BIN / "atarys"), "scheduler")
    time.sleep(3)
    a, b = accounts[0], accounts[1]
    contact = next(c for c in bench.admin("GET", "contacts", a)["contacts"] if not c["deleted"])
    family = contact["person"]["names"][0]["familyName"]
    number = str(contact["resourceName"]).split("/c", 1)[1]
    start = time.monotonic()
    bench.admin(
        "PATCH",
        f"contacts/{number}",
        a,
        {"phoneNumbers": [{"value": "+33 6 99 88 77 66", "type": "mobile"}]},
    )
    delay = -1.0
    while time.monotonic() - start < 180:
        for c in bench.admin("GET", "contacts", b)["contacts"]:
            if c["deleted"] or c["person"]["names"][0].get("familyName") != family:
                continue
            numbers = [p.get("value", "") for p in c["person"].get("phoneNumbers") or []]
            if any("99 88 77 66" in v or "699887766" in v for v in numbers):
                delay = time.monotonic() - start
        if delay >= 0:
            break
        time.sleep(0.5)
    bench.stop([scheduler])
    return delay


def run(accounts: int, clients: int, concurrency: int, edit: bool = True) -> list[dict[str, Any]]:
    results = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="atarys-multi-") as tmp:
            res = run_config(Path(tmp), workers, accounts, clients, concurrency, edit)
        results.append(res)
        print(json.dumps(res), flush=True)
    one, two = results
    ratios = {
        key: round(two[key] / one[key], 2)
        for key in ("first_sync_s", "no_change_round_s", "edit_a_to_b_s")
        if one.get(key) and two.get(key) and one[key] > 0
    }
    print(f"2 workers / 1 worker: {json.dumps(ratios)}", flush=True)
    return [*results, {"ratio_2_over_1": ratios}]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2, help="jobs per worker process")
    parser.add_argument("--no-edit", action="store_true", help="skip the edit A → B delay")
    opts = parser.parse_args(argv)
    run(opts.accounts, opts.clients, opts.concurrency, edit=not opts.no_edit)


if __name__ == "__main__":
    main()
