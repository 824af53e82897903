"""The scheduler of ``atarys serve`` (APScheduler): scheduled syncs and the near-real-time push.

Two scheduled syncs per connected account, both ``sync_all`` (the engine is
incremental: unchanged sides cost one People API list call with a sync token and
one indexed query on ``clients``):

* ``sync:<account>`` every ``auto_sync_minutes`` (account setting, default 60; 0 turns
  automatic syncs off) — the seed's hourly job;
* ``poll:<account>`` every ``ATARYS_POLL_MINUTES`` (default 5; 0 turns it off) — how
  fast a change made in Google Contacts reaches ATARYS. Five minutes costs 288 cheap
  list calls a day, under 3 % of the seed's 10,000 daily requests, and Google itself
  may take minutes to show a write in sync answers, so polling faster buys little.

ATARYS → Google is near-real-time instead: every committed client write sends
``client_changed``; the ids are collected and pushed with ``sync_client_to_google``
``ATARYS_PUSH_DELAY_SECONDS`` (default 2 s) after the last edit (at most 10 s after
the first), so a burst of edits costs one push per client.

Exactly once across processes: each due job is *claimed* by one conditional UPDATE
of its ``scheduled_jobs`` row (``next_run_at <= now`` → ``next_run_at = now +
interval``); only the process whose UPDATE changed the row runs it. The engine's
per-account lock keeps a scheduled run and a manual one from overlapping
(``AccountBusyError`` → skipped, the next tick tries again).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session

from atarys import metrics
from atarys.config import Settings
from atarys.extensions import db
from atarys.google.connection import GoogleAuthUnavailableError, NotConnectedError
from atarys.google_contacts.service import (
    ServiceOpener,
    engine_errors,
    open_service,
    resolve_account,
    run_sync_all,
)
from atarys.http import ApiError
from atarys.models import GoogleAccount, ScheduledJob, utcnow
from atarys.sync.service import SyncService

logger = logging.getLogger("atarys.scheduler")

EXTENSION_KEY = "atarys_scheduler"
TICK_SECONDS = 30
MAX_PUSH_WAIT = 10.0
DEFAULT_AUTO_SYNC_MINUTES = 60


def _settings(app: Flask) -> Settings:
    settings = app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


def claim(
    session: Session | scoped_session[Any],
    name: str,
    interval: timedelta,
    *,
    now: datetime | None = None,
    me: str = "",
) -> bool:
    """Atomically take the job ``name`` if due; ``True`` in exactly one caller per due time."""
    now = now or utcnow()
    try:
        if session.get(ScheduledJob, name) is None:
            try:
                session.add(ScheduledJob(name=name, next_run_at=now))
                session.commit()
            except IntegrityError:
                session.rollback()
        result = session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.name == name, ScheduledJob.next_run_at <= now)
            .values(next_run_at=now + interval, last_started_at=now, claimed_by=me[:100])
            .execution_options(synchronize_session=False)
        )
        session.commit()
    except OperationalError:
        # SQLite answers "database is locked" to the loser of a concurrent write: another
        # process is claiming right now, so this one does not run the job (next tick retries).
        session.rollback()
        return False
    return getattr(result, "rowcount", 0) == 1


def finish(session: Session | scoped_session[Any], name: str, status: str) -> None:
    session.execute(
        update(ScheduledJob)
        .where(ScheduledJob.name == name)
        .values(last_finished_at=utcnow(), last_status=status[:30])
        .execution_options(synchronize_session=False)
    )
    session.commit()


def postpone(session: Session | scoped_session[Any], name: str, at: datetime) -> None:
    """Make the job ``name`` due no sooner than ``at`` (its row is created when missing)."""
    try:
        if session.get(ScheduledJob, name) is None:
            session.add(ScheduledJob(name=name, next_run_at=at))
        else:
            session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.name == name, ScheduledJob.next_run_at < at)
                .values(next_run_at=at)
                .execution_options(synchronize_session=False)
            )
        session.commit()
    except (IntegrityError, OperationalError):
        session.rollback()


def interval_changed(session: Session | scoped_session[Any], email: str, minutes: int) -> None:
    """The auto-sync interval changed: the next scheduled sync follows it from its last start."""
    row = session.get(ScheduledJob, f"sync:{email}")
    if row is None or minutes <= 0:
        return
    base = row.last_started_at or utcnow()
    row.next_run_at = min(row.next_run_at, base + timedelta(minutes=minutes))
    session.commit()


def intervals(app: Flask, account: GoogleAccount) -> dict[str, timedelta | None]:
    """The interval of each scheduled job kind for ``account`` (``None`` = off)."""
    minutes = account.auto_sync_minutes
    auto = DEFAULT_AUTO_SYNC_MINUTES if minutes is None else int(minutes)
    poll = _settings(app).poll_minutes
    if auto <= 0:
        return {"sync": None, "poll": None}
    return {
        "sync": timedelta(minutes=auto),
        "poll": timedelta(minutes=poll) if 0 < poll < auto else None,
    }


def next_run_info(app: Flask) -> dict[str, Any] | None:
    """When the next scheduled sync of the current account is due (for ``status``)."""
    try:
        account = resolve_account(app)
    except (SQLAlchemyError, OSError):
        db.session.rollback()
        logger.exception("next run: account unavailable")
        return None
    if account is None:
        return None
    email = account.email
    kinds = intervals(app, account)
    info: dict[str, Any] = {
        "auto_sync_minutes": int(kinds["sync"].total_seconds() // 60) if kinds["sync"] else 0,
        "poll_minutes": int(kinds["poll"].total_seconds() // 60) if kinds["poll"] else 0,
        "scheduler_running": EXTENSION_KEY in app.extensions,
        "at": None,
    }
    due: list[datetime] = []
    for kind, interval in kinds.items():
        if interval is None:
            continue
        row = db.session.get(ScheduledJob, f"{kind}:{email}")
        at = row.next_run_at if row else None
        info[f"{kind}_at"] = at.isoformat() if at else None
        if at:
            due.append(at)
    info["at"] = min(due).isoformat() if due else None
    return info


class SyncScheduler:
    """The scheduled syncs and the debounced push of one app, on an APScheduler thread."""

    def __init__(
        self,
        app: Flask,
        *,
        tick_seconds: int = TICK_SECONDS,
        opener: ServiceOpener = open_service,
    ) -> None:
        self.app = app
        self.opener = opener  # how a SyncService is opened (tests pass a fake)
        self.tick_seconds = tick_seconds
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._scheduler: Any = None
        self._pending: dict[int, float] = {}
        self._first_pending: float | None = None
        self._lock = threading.Lock()
        self.ran: list[str] = []  # job names this instance ran (tests, logs)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        from atarys.clients.service import client_changed

        self._scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.tick_seconds,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=3),
        )
        self._scheduler.start()
        client_changed.connect(self._on_client_changed, weak=False)
        self.app.extensions[EXTENSION_KEY] = self
        logger.info("scheduler started (%s)", self.identity)

    def shutdown(self) -> None:
        from atarys.clients.service import client_changed

        client_changed.disconnect(self._on_client_changed)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.app.extensions.pop(EXTENSION_KEY, None)

    # --- scheduled syncs ---------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Run every due job this process manages to claim; returns the names it ran."""
        ran: list[str] = []
        running: str | None = None
        with self.app.app_context():
            try:
                account = resolve_account(self.app)
                if account is None or account.first_sync_pending:
                    # connecting writes nothing: no run before a person applies the first sync
                    return ran
                email = account.email
                kinds = intervals(self.app, account)
                for kind, interval in kinds.items():
                    if interval is None:
                        continue
                    name = f"{kind}:{email}"
                    if kind == "poll" and self._full_sync_recent(email, interval):
                        continue
                    if claim(db.session, name, interval, me=self.identity):
                        running = name
                        status = self._run_sync(kind)
                        finish(db.session, name, status)
                        running = None
                        ran.append(name)
                        poll = kinds.get("poll")
                        if kind == "sync" and status == "ok" and poll is not None:
                            # The full run just read Google: the next poll is one interval away.
                            postpone(db.session, f"poll:{email}", utcnow() + poll)
            except Exception:  # the APScheduler job's top level: log and record, next tick retries
                logger.exception("scheduler tick failed")
                if running is not None:
                    self._record_failure(running)
            finally:
                db.session.remove()
        self.ran.extend(ran)
        return ran

    def _record_failure(self, name: str) -> None:
        """Mark the job ``name`` as failed in ``scheduled_jobs`` (after an unexpected error)."""
        try:
            db.session.rollback()
            finish(db.session, name, "failed")
        except SQLAlchemyError:
            db.session.rollback()
            logger.exception("could not record the failure of %s", name)

    def _full_sync_recent(self, email: str, poll: timedelta) -> bool:
        """A full sync started less than a poll interval ago: postpone the poll after it."""
        row = db.session.get(ScheduledJob, f"sync:{email}")
        started = row.last_started_at if row is not None else None
        if started is None or utcnow() - started >= poll:
            return False
        postpone(db.session, f"poll:{email}", started + poll)
        return True

    def _run_sync(self, kind: str) -> str:
        trigger = "schedule" if kind == "sync" else "poll"
        try:
            with engine_errors():
                service = self.opener(self.app)
                result = run_sync_all(service, dry_run=False, force=False, trigger=trigger)
        except ApiError as exc:
            db.session.rollback()
            logger.warning("scheduled %s skipped: %s", trigger, exc.message)
            return "busy" if exc.status == 409 else f"error-{exc.status}"
        except (SQLAlchemyError, OSError):
            # The database failed, or the network below Google's client (DNS, TLS).
            db.session.rollback()
            logger.exception("scheduled %s failed", trigger)
            return "failed"
        logger.info("scheduled %s done (run %s)", trigger, result.get("run_id"))
        return "ok"

    # --- near-real-time push -------------------------------------------------------------------

    def _on_client_changed(self, sender: Any, **_: Any) -> None:
        if not has_app_context() or current_app._get_current_object() is not self.app:  # type: ignore[attr-defined]
            return
        if not isinstance(sender, int):
            return
        self.enqueue([sender])

    def enqueue(self, client_ids: list[int], delay: float | None = None) -> None:
        """Push these clients to Google after the debounce delay."""
        now = time.monotonic()
        wait = _settings(self.app).push_delay_seconds if delay is None else delay
        with self._lock:
            for cid in client_ids:
                self._pending.setdefault(cid, now)
            if self._first_pending is None:
                self._first_pending = now
            waited = now - self._first_pending
            wait = max(0.0, min(wait, MAX_PUSH_WAIT - waited)) if delay is None else wait
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            self.push_pending,
            "date",
            run_date=datetime.now(UTC) + timedelta(seconds=wait),
            id="push",
            replace_existing=True,
            misfire_grace_time=60,
        )

    def push_pending(self) -> dict[int, str]:
        """Push every pending client now; returns each id's outcome."""
        with self._lock:
            ids = sorted(self._pending)
            self._pending.clear()
            self._first_pending = None
        outcomes: dict[int, str] = {}
        if not ids:
            return outcomes
        retry: list[int] = []
        retry_after = 10.0
        with self.app.app_context():
            try:
                service = self.opener(self.app)
                if service.account.first_sync_pending:
                    # the first sync will carry these clients once a person applies it
                    return dict.fromkeys(ids, "first_sync_pending")
                for cid in ids:
                    outcome = self._push_one(service, cid)
                    outcomes[cid] = outcome
                    if outcome in ("busy", "quota"):
                        retry.append(cid)
            except (NotConnectedError, GoogleAuthUnavailableError):
                return dict.fromkeys(ids, "not_connected")
            except Exception:  # the APScheduler job's top level: log and count, never lose it
                logger.exception("near-real-time push failed")
                for cid in ids:
                    if cid not in outcomes:
                        outcomes[cid] = "error"
                        metrics.PUSHES.labels(outcome="error").inc()
            finally:
                db.session.remove()
        if retry:
            self.enqueue(retry, delay=retry_after)
        return outcomes

    def _push_one(self, service: SyncService, client_id: int) -> str:
        try:
            with engine_errors():
                item = service.sync_client_to_google(client_id)
        except ApiError as exc:
            db.session.rollback()
            outcome = {409: "busy", 429: "quota", 404: "gone"}.get(exc.status, "error")
            metrics.PUSHES.labels(outcome=outcome).inc()
            if outcome == "error":
                logger.warning("push of client %s failed: %s", client_id, exc.message)
            return outcome
        except (SQLAlchemyError, OSError):
            # The database failed, or the network below Google's client (DNS, TLS).
            db.session.rollback()
            logger.exception("push of client %s failed", client_id)
            metrics.PUSHES.labels(outcome="error").inc()
            return "error"
        action = item.action or "unchanged"
        metrics.PUSHES.labels(outcome=action).inc()
        return action


def start_scheduler(app: Flask) -> SyncScheduler | None:
    """Start the scheduler for ``app`` unless ``ATARYS_SCHEDULER=0``."""
    if not _settings(app).scheduler_enabled:
        return None
    scheduler = SyncScheduler(app)
    scheduler.start()
    return scheduler
