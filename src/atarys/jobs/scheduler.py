"""The scheduler (APScheduler): ``atarys scheduler`` in production, inside ``atarys serve`` in
embedded mode. It only *enqueues* jobs (``atarys.jobs.queue``); workers run them.

Two scheduled syncs per connected account (every account with a live token whose first
sync a person applied), both ``sync_all`` (the engine is
incremental: unchanged sides cost one People API list call with a sync token and
one indexed query on ``clients``):

* ``sync:<account>`` every ``auto_sync_minutes`` (account setting, default 60; 0 turns
  automatic syncs off) — the seed's hourly job;
* ``poll:<account>`` every ``ATARYS_POLL_MINUTES`` (default 5; 0 turns it off) — how
  fast a change made in Google Contacts reaches ATARYS. Five minutes costs 288 cheap
  list calls a day, under 3 % of the seed's 10,000 daily requests, and Google itself
  may take minutes to show a write in sync answers, so polling faster buys little.

ATARYS → Google is near-real-time instead: every committed client write sends
``client_changed``, which queues one debounced ``push`` job per account (see
``atarys.jobs.queue``), not one per client.

Exactly once across processes: each due job is *claimed* by one conditional UPDATE
of its ``scheduled_jobs`` row (``next_run_at <= now`` → ``next_run_at = now +
interval``); only the process whose UPDATE changed the row enqueues it, and a job of
that account and kind already waiting is not queued twice.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session

from atarys.config import Settings
from atarys.extensions import db
from atarys.google_contacts.service import ServiceOpener, live_accounts, resolve_account
from atarys.models import GoogleAccount, ScheduledJob, utcnow

logger = logging.getLogger("atarys.scheduler")

EXTENSION_KEY = "atarys_scheduler"
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
        # in this process (embedded), or ``atarys scheduler`` beside a queue (production)
        "scheduler_running": EXTENSION_KEY in app.extensions or _has_queue(app),
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


def _has_queue(app: Flask) -> bool:
    return bool(_settings(app).queue_url)


class SyncScheduler:
    """The scheduled syncs of every connected account, enqueued from an APScheduler thread."""

    def __init__(
        self,
        app: Flask,
        *,
        tick_seconds: float | None = None,
        opener: ServiceOpener | None = None,
    ) -> None:
        self.app = app
        self.opener = opener  # kept for callers of the former API; jobs open their own service
        self.tick_seconds = tick_seconds or _settings(app).scheduler_tick_seconds
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._scheduler: Any = None
        self.ran: list[str] = []  # job names this instance queued (tests, logs)

    # --- lifecycle --------------------------------------------------------------------------

    def _add_tick(self, scheduler: Any) -> None:
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.tick_seconds,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        )

    def start(self) -> None:
        """Tick on a background thread (``atarys serve`` in embedded mode)."""
        from apscheduler.schedulers.background import BackgroundScheduler

        self._scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
        self._add_tick(self._scheduler)
        self._scheduler.start()
        self.app.extensions[EXTENSION_KEY] = self
        logger.info("scheduler started (%s)", self.identity)

    def run_forever(self) -> None:
        """Tick in this thread until interrupted (``atarys scheduler``)."""
        from apscheduler.schedulers.blocking import BlockingScheduler

        self._scheduler = BlockingScheduler(timezone=UTC)
        self._add_tick(self._scheduler)
        self.app.extensions[EXTENSION_KEY] = self
        logger.info("scheduler started (%s)", self.identity)
        try:
            self._scheduler.start()
        finally:
            self.app.extensions.pop(EXTENSION_KEY, None)

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._scheduler = None
        self.app.extensions.pop(EXTENSION_KEY, None)

    # --- scheduled syncs ---------------------------------------------------------------------

    def accounts(self) -> list[GoogleAccount]:
        """The accounts the schedule runs for: a live token, first sync applied."""
        live = set(live_accounts(self.app))
        rows = db.session.scalars(select(GoogleAccount).order_by(GoogleAccount.id)).all()
        return [a for a in rows if a.email.strip().lower() in live and not a.first_sync_pending]

    def tick(self) -> list[str]:
        """Enqueue every due job this process manages to claim; returns their names."""
        from atarys.jobs.queue import get_queue

        ran: list[str] = []
        running: str | None = None
        with self.app.app_context():
            try:
                queue = get_queue(self.app)
                queue.resend_lost(db.session())
                for account in self.accounts():
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
                            trigger = "schedule" if kind == "sync" else "poll"
                            _run_id, new = queue.enqueue(account, trigger)
                            finish(db.session, name, "queued" if new else "already-queued")
                            running = None
                            ran.append(name)
                            poll = kinds.get("poll")
                            if kind == "sync" and poll is not None:
                                # The full run reads Google: the next poll is one interval away.
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


def start_scheduler(app: Flask) -> SyncScheduler | None:
    """Start the scheduler for ``app`` unless ``ATARYS_SCHEDULER=0``."""
    if not _settings(app).scheduler_enabled:
        return None
    scheduler = SyncScheduler(app)
    scheduler.start()
    return scheduler
