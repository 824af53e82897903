"""The production setup of ``docs/deploy.md``, started for real on this machine.

Real processes: a standalone emulator as Google (``atarys emulator``), gunicorn with 2
workers serving the app on PostgreSQL, 2 ``atarys worker`` processes and one
``atarys scheduler`` on Redis. Three phones (Google accounts) are connected through the
emulator's consent page over HTTP; then, all through HTTP: every phone gets the company's
clients, an edit made on one phone reaches ATARYS and the two others, and two workers
never ran the same account at once (no overlapping ``sync_runs`` of one account).

Needs PostgreSQL (``ATARYS_TEST_POSTGRES_URL``) and Redis on 127.0.0.1:6379; skipped
without them, except when ``ATARYS_REQUIRE_POSTGRES=1`` (CI), where it fails.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from fixtures.consent import approve_consent

pytestmark = pytest.mark.production

POSTGRES_URL = os.environ.get("ATARYS_TEST_POSTGRES_URL", "")
REQUIRED = os.environ.get("ATARYS_REQUIRE_POSTGRES") == "1"
REDIS_URL = os.environ.get("ATARYS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PHONES = ["bureau@example.com", "chantier@example.com", "commercial@example.com"]
CLIENTS = 30
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 120.0  # five Python processes importing the app on a busy 2-core machine


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"production setup test required (ATARYS_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def _until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait until ``check()``; the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.3)
    raise AssertionError(f"not reached in {timeout:.0f} s: {what}")


@dataclass
class Setup:
    work: Path
    env: dict[str, str]
    database_url: str
    web: str = ""
    emulator: str = ""
    token: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    files: list[Any] = field(default_factory=list)

    def atarys(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "atarys"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        log = (self.work / f"{name}.log").open("wb")
        self.files.append(log)
        self.processes[name] = subprocess.Popen(
            list(args), env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.work
        )

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.work.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for log in self.files:
            log.close()

    # --- HTTP ---------------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return requests.request(
            method,
            f"{self.web}{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            allow_redirects=False,
            timeout=30,
            **kwargs,
        )

    def phone(self, email: str) -> list[dict[str, Any]]:
        """The contacts a phone holds (the emulator's raw state, tombstones left out)."""
        resp = requests.get(
            f"{self.emulator}_emulator/contacts", params={"user": email}, timeout=30
        )
        resp.raise_for_status()
        body = resp.json()
        contacts = body.get("contacts", body) if isinstance(body, dict) else body
        return [c for c in contacts if not c.get("deleted")]


def _names(contacts: list[dict[str, Any]]) -> set[str]:
    names: set[str] = set()
    for contact in contacts:
        person = contact.get("person", contact)
        for name in person.get("names") or []:
            if name.get("familyName"):
                names.add(str(name["familyName"]))
    return names


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    if not POSTGRES_URL:
        _unavailable("ATARYS_TEST_POSTGRES_URL is not set")
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 (any failure means "no Redis here")
        _unavailable(f"Redis unreachable at {REDIS_URL}: {exc}")
    if shutil.which("gunicorn", path=str(BIN)) is None:
        _unavailable("gunicorn is not installed in this environment")
    schema = f"prod_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        _unavailable(f"PostgreSQL unreachable: {exc}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    database_url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    web_port, emulator_port = _free_port(), _free_port()
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ATARYS_") or key == "ATARYS_TEST_POSTGRES_URL"
    }
    env.update(
        ATARYS_DATABASE_URL=database_url,
        ATARYS_QUEUE_URL=REDIS_URL,
        ATARYS_QUEUE_NAMESPACE=f"test-{schema}",
        ATARYS_WORKER_CONCURRENCY="2",
        ATARYS_DATA_DIR=str(data_dir),
        ATARYS_LOG_DIR=str(tmp_path / "logs"),
        ATARYS_SECRET_KEY=secrets.token_urlsafe(48),
        ATARYS_TOKEN_KEY=Fernet.generate_key().decode(),
        ATARYS_GOOGLE_API_ENDPOINT=f"http://127.0.0.1:{emulator_port}/",
        ATARYS_PUBLIC_URL=f"http://127.0.0.1:{web_port}",
        ATARYS_POLL_MINUTES="0.1",  # a phone's edit is read within 6 s
        ATARYS_SCHEDULER_TICK_SECONDS="1",
        ATARYS_PUSH_DELAY_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    work = setup_dir = tmp_path
    running = Setup(work=setup_dir, env=env, database_url=database_url)
    running.web = f"http://127.0.0.1:{web_port}"
    running.emulator = f"http://127.0.0.1:{emulator_port}/"
    try:
        running.start(
            "emulator",
            str(BIN / "atarys"),
            "emulator",
            "--port",
            str(emulator_port),
            "--write-client-secrets",
            str(data_dir / "google_credentials.json"),
            "--redirect-uri",
            f"{running.web}/api/google-contacts/oauth2callback",
            *[arg for email in PHONES for arg in ("--user", email)],
        )
        running.atarys("db", "upgrade")
        output = running.atarys("create-token", "production", "--scope", "read,write,admin")
        lines = output.strip().splitlines()
        running.token = next(
            lines[i + 1].strip() for i, line in enumerate(lines) if line.startswith("Jeton")
        )
        running.start(
            "gunicorn",
            str(BIN / "gunicorn"),
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--no-control-socket",
            "--timeout",
            "120",
            "atarys.app:make_app()",
        )
        running.start("worker1", str(BIN / "atarys"), "worker")
        running.start("worker2", str(BIN / "atarys"), "worker")
        running.start("scheduler", str(BIN / "atarys"), "scheduler")
        _wait_http(f"{running.emulator}_emulator/stats", STARTUP_SECONDS)
        _wait_http(f"{running.web}/api/health", STARTUP_SECONDS)
        yield running
    except BaseException:
        print(running.logs())  # noqa: T201 (what the processes said, for the failure report)
        raise
    finally:
        running.stop()
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"test-{schema}*"):
            client.delete(key)
        client.close()
        _ = work


def connect_phone(setup: Setup, email: str) -> None:
    """Connect a phone's Google account: ``POST auth {"login_hint": e-mail}`` → the
    emulator's consent page (opened on that account, « Autoriser » pressed) → the app's
    callback, all over HTTP."""
    body = setup.api("POST", "/api/google-contacts/auth", json={"login_hint": email}).json()
    location = urlsplit(approve_consent(body["data"]["authorization_url"], login_hint=email))
    back = setup.api("GET", f"{location.path}?{location.query}")
    assert back.headers["Location"].endswith("google=connected"), back.headers


def _runs(setup: Setup) -> list[dict[str, Any]]:
    engine = sa.create_engine(setup.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT r.id, a.email, r.trigger, r.status, r.started_at, r.finished_at "
                    "FROM sync_runs r JOIN google_accounts a ON a.id = r.account_id "
                    "ORDER BY r.id"
                )
            ).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def _apply_first_sync(setup: Setup, email: str) -> int:
    """A person applies the phone's first sync (the account's consent to write): every
    contact comes in, as a job a worker runs; the run's id."""
    account = next(
        a
        for a in setup.api("GET", "/api/google-contacts/accounts").json()["data"]["accounts"]
        if a["email"] == email
    )
    settings = setup.api(
        "PUT", f"/api/google-contacts/accounts/{account['id']}", json={"import_scope": "all"}
    )
    assert settings.status_code == 200, settings.text
    resp = setup.api(
        "POST", "/api/google-contacts/sync-all", params={"account": email}, json={"async": True}
    )
    assert resp.status_code == 202, resp.text
    return int(resp.json()["data"]["run_id"])


def test_three_phones_through_the_production_setup(setup: Setup) -> None:
    started = time.monotonic()
    for i in range(CLIENTS):
        made = setup.api(
            "POST",
            "/api/clients/",
            json={"nom": f"Maçon{i:02d}", "prenom": "Léa", "email": f"client{i}@exemple.fr"},
        )
        assert made.status_code == 201, made.text
    for email in PHONES:
        connect_phone(setup, email)

    # Each phone's first sync, applied by a person through HTTP: jobs the workers run.
    for email in PHONES:
        _apply_first_sync(setup, email)

    wanted = {f"Maçon{i:02d}" for i in range(CLIENTS)}
    first_sync = _until(
        lambda: all(wanted <= _names(setup.phone(email)) for email in PHONES),
        40,
        "every phone holds the clients",
    )

    # A site manager edits a contact on their phone: it reaches ATARYS, then the others.
    site = PHONES[1]
    contact = next(c for c in setup.phone(site) if "Maçon07" in _names([c]))
    number = str(contact["resourceName"]).split("/c", 1)[1]
    patched = requests.patch(
        f"{setup.emulator}_emulator/contacts/{number}",
        params={"user": site},
        json={"phoneNumbers": [{"value": "+33 6 12 34 56 78", "type": "mobile"}]},
        timeout=10,
    )
    assert patched.status_code == 200, patched.text

    def in_atarys() -> bool:
        found = setup.api("GET", "/api/clients/", params={"q": "Maçon07"}).json()["data"]
        return any(c.get("telephone") == "+33612345678" for c in found)

    def on_every_phone() -> bool:
        for email in PHONES:
            mine = [c for c in setup.phone(email) if "Maçon07" in _names([c])]
            values = [
                p.get("canonicalForm") or p.get("value")
                for c in mine
                for p in (c.get("person", c).get("phoneNumbers") or [])
            ]
            if not any(v and "612345678" in v.replace(" ", "") for v in values):
                return False
        return True

    to_atarys = _until(in_atarys, 30, "the phone's edit in ATARYS")
    to_phones = _until(on_every_phone, 30, "the phone's edit on the other phones")

    # Two workers never ran the same account at once.
    runs = [r for r in _runs(setup) if r["status"] not in ("queued",)]
    assert {r["email"] for r in runs} >= set(PHONES)
    by_account: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_account.setdefault(run["email"], []).append(run)
    for email, mine in by_account.items():
        mine.sort(key=lambda r: r["started_at"])
        for before, after in itertools.pairwise(mine):
            assert before["finished_at"] is not None, (email, before)
            assert before["finished_at"] <= after["started_at"], (email, before, after)
    assert not [r for r in runs if r["status"] == "failed"], runs
    elapsed = time.monotonic() - started
    done = {
        name: (setup.work / f"{name}.log").read_text(errors="replace").count(") done")
        for name in ("worker1", "worker2")
    }
    # Every run was a job a worker ran (the web processes only enqueued).
    assert {r["trigger"] for r in runs} <= {"api-async", "schedule", "poll", "push"}, runs
    assert sum(done.values()) >= len([r for r in runs if r["status"] == "success"]) - 2
    print(  # noqa: T201 (the figures of the run, shown with -s)
        f"production setup: first syncs {first_sync:.1f} s, phone→ATARYS {to_atarys:.1f} s, "
        f"→ other phones {to_phones:.1f} s, {len(runs)} runs (by worker: {done}), "
        f"total {elapsed:.1f} s"
    )
