"""The job queue: every run (scheduled sync, poll, push, API-started run) is a Dramatiq job.

* **The job is a ``sync_runs`` row.** Enqueuing commits a row ``queued`` (trigger, options,
  the push's debounce times in ``counts["job"]``) and sends its id; the worker that takes
  the message hands that row to the engine, which makes it ``running`` and commits its
  progress after every batch. Nothing lives in a process's memory: a restarted worker
  finds the row in the database, the message in Redis.
* **Production** (``ATARYS_QUEUE_URL=redis://…``): the web processes only enqueue, the
  ``atarys worker`` processes run jobs (``ATARYS_WORKER_CONCURRENCY`` threads each).
  **Embedded** (no URL: ``make run``, SQLite): a ``StubBroker`` and an in-process
  ``Worker`` started at the first job, the same actor code.
* **One run per account** across every process: the engine's run lock. A job finding its
  account busy stays ``queued`` and is sent again ``BUSY_DELAY_SECONDS`` later.
* **Fair**: at most one pending job per account and kind (enqueuing again returns the
  pending one), so an account cannot fill the queue; busy jobs go to the back.
* **Budgets**: an account whose runs used ``quota_per_minute`` calls in the last minute
  waits; past ``ATARYS_DAILY_QUOTA`` calls today (all accounts, counted from the runs'
  ``api_calls``) jobs wait until the next day (UTC), saying so in French on their row.
* **Push**: ``client_changed`` (a client written by the API, or by a sync run of the
  account ``origin``) makes one debounced ``push`` job per other connected account: run
  ``push_delay_seconds`` after the last edit, ``MAX_PUSH_WAIT`` after the first at most,
  an incremental ``sync_all`` whose cost is what changed.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import dramatiq
from dramatiq.brokers.stub import StubBroker
from flask import Flask, current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from atarys.config import Settings
from atarys.extensions import db
from atarys.google_contacts.service import (
    engine_errors,
    live_accounts,
    open_service,
    run_apply,
    run_sync_all,
)
from atarys.http import ApiError
from atarys.models import GoogleAccount, SyncRun, utcnow
from atarys.sync.sides.google import COSTS, DEFAULT_BUDGET

logger = logging.getLogger("atarys.jobs.queue")

EXTENSION_KEY = "atarys_queue"
QUEUE_NAME = "atarys_sync"
ACTOR_NAME = "atarys_run"
TIME_LIMIT_MS = (
    6 * 3600 * 1000
)  # a first sync of a very large account; Dramatiq's default is 10 min
BUSY_DELAY_SECONDS = 3.0
MINUTE_WAIT_SECONDS = 20.0
MAX_PUSH_WAIT = 10.0
_ENQUEUE_LOCK = threading.Lock()
COALESCE_SECONDS = 0.5  # signals of one origin this close together make one push request
LOST_AFTER = timedelta(minutes=5)  # a queued job this late past its due time was lost
AUTOMATIC = frozenset({"schedule", "poll", "push"})

BUSY_MESSAGE = "En attente : une autre synchronisation de ce compte est en cours, celle-ci suivra."
MINUTE_MESSAGE = (
    "En attente : le quota par minute de ce compte Google est atteint, "
    "la synchronisation reprend dans moins d'une minute."
)
# Google's daily quotas start again at midnight, Pacific time.
GOOGLE_DAY = ZoneInfo("America/Los_Angeles")
OFFICE_TIME = ZoneInfo("Europe/Paris")


def daily_message(resume: datetime) -> str:
    """Why a job waits for Google's next day, and when it resumes (Paris time)."""
    at = resume.astimezone(OFFICE_TIME)
    return (
        "En attente : le quota quotidien de l'API Google est atteint pour aujourd'hui ; "
        f"la synchronisation reprendra automatiquement demain vers {at.hour} h {at.minute:02d} "
        "(heure de Paris), quand Google remet ce quota à zéro. "
        "Pour l'éviter, demandez un quota plus élevé dans la console Google Cloud."
    )


def _settings(app: Flask) -> Settings:
    settings = app.config["ATARYS_SETTINGS"]
    assert isinstance(settings, Settings)
    return settings


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _parse(value: object, default: datetime) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return default
    return default


def push_due(job: dict[str, Any], delay: float, now: datetime) -> datetime:
    """When a pending push runs: ``delay`` after the last edit, ``MAX_PUSH_WAIT`` after the first."""
    first = _parse(job.get("first_edit"), now)
    last = _parse(job.get("last_edit"), now)
    return min(last + timedelta(seconds=delay), first + timedelta(seconds=MAX_PUSH_WAIT))


def calls_since(session: Session, since: datetime, account_id: int | None = None) -> int:
    """People API calls the runs started since ``since`` made (one account, or all)."""
    query = select(SyncRun.api_calls).where(SyncRun.started_at >= since)
    if account_id is not None:
        query = query.where(SyncRun.account_id == account_id)
    total = 0
    for calls in session.scalars(query):
        if isinstance(calls, dict):
            total += sum(v for v in calls.values() if isinstance(v, int))
    return total


def minute_budget_spent(session: Session, account: GoogleAccount, now: datetime) -> bool:
    """Whether the account's runs of the last minute spent a bucket of ``quota_per_minute``.

    The same buckets and costs as the Google side's own per-run budget (a limit of 0 is no
    limit); between runs of one account this keeps a queue of its jobs within Google's
    per-user quota.
    """
    limits = {**DEFAULT_BUDGET, **(account.quota_per_minute or {})}
    spent: dict[str, int] = {}
    query = select(SyncRun.api_calls).where(
        SyncRun.account_id == account.id, SyncRun.started_at >= now - timedelta(minutes=1)
    )
    for calls in session.scalars(query):
        if not isinstance(calls, dict):
            continue
        for method, count in calls.items():
            if not isinstance(count, int):
                continue
            for bucket, cost in COSTS.get(method, {"critical_read": 1}).items():
                spent[bucket] = spent.get(bucket, 0) + cost * count
    return any(limit and spent.get(bucket, 0) >= limit for bucket, limit in limits.items())


def day_start(now: datetime) -> datetime:
    """When Google's quota day of ``now`` began (midnight Pacific time), in UTC."""
    local = now.astimezone(GOOGLE_DAY)
    midnight = datetime.combine(local.date(), clock_time.min, tzinfo=GOOGLE_DAY)
    return midnight.astimezone(UTC)


def next_day_start(now: datetime) -> datetime:
    """When Google's next quota day begins (23 or 25 hours away on a clock change)."""
    local = now.astimezone(GOOGLE_DAY)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), clock_time.min, tzinfo=GOOGLE_DAY)
    return tomorrow.astimezone(UTC)


class JobQueue:
    """The app's broker, its actor and (embedded mode, or ``atarys worker``) its worker."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        settings = _settings(app)
        self.embedded = not settings.queue_url
        self.broker: dramatiq.Broker
        if settings.queue_url:
            from dramatiq.brokers.redis import RedisBroker

            self.broker = RedisBroker(  # type: ignore[no-untyped-call]
                url=settings.queue_url, namespace=settings.queue_namespace
            )
        else:
            self.broker = StubBroker()
            self.broker.emit_after("process_boot")
        self.actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
            self._run_job,
            broker=self.broker,
            actor_name=ACTOR_NAME,
            queue_name=QUEUE_NAME,
            priority=0,
            options={"max_retries": 0, "time_limit": TIME_LIMIT_MS},
        )
        self.worker: dramatiq.Worker | None = None
        self._lock = threading.Lock()
        self._recent: dict[str, float] = {}  # origin → when this process last asked a push

    # --- workers ------------------------------------------------------------------------------

    def start_worker(self, concurrency: int | None = None) -> None:
        """Process jobs in this process (``atarys worker``; embedded mode at the first job)."""
        with self._lock:
            if self.worker is not None:
                return
            threads = concurrency or _settings(self.app).worker_concurrency
            self.worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=200)
            self.worker.start()
            logger.info("queue worker started (%s threads)", threads)

    def stop_worker(self) -> None:
        with self._lock:
            worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop(timeout=30_000)

    def close(self) -> None:
        self.stop_worker()
        self.broker.close()

    # --- sending ------------------------------------------------------------------------------

    def send(self, run_id: int, delay: float = 0.0) -> None:
        """Send the job of run ``run_id`` (after ``delay`` seconds)."""
        if self.embedded:
            self.start_worker()
        millis = int(delay * 1000) if delay > 0 else None
        self.actor.send_with_options(args=(run_id,), delay=millis)

    def enqueue(
        self,
        account: GoogleAccount,
        trigger: str,
        *,
        dry_run: bool = False,
        force: bool = False,
        session: Session | None = None,
        plan_id: str | None = None,
    ) -> tuple[int, bool]:
        """The pending job of ``account`` and ``trigger`` (made and sent when there is none);
        with ``plan_id``, the job that applies that previewed plan.

        Returns the run id and whether it is new.
        """
        # SQLite has no row lock (FOR UPDATE is a no-op there): one process's clicks take
        # turns here, so a double click never makes two jobs in the embedded mode.
        with _ENQUEUE_LOCK, self.app.app_context():
            return self._enqueue(account, trigger, dry_run, force, session, plan_id)

    def _enqueue(
        self,
        account: GoogleAccount,
        trigger: str,
        dry_run: bool,
        force: bool,
        session: Session | None,
        plan_id: str | None = None,
    ) -> tuple[int, bool]:
        own = session is None
        session = session if session is not None else Session(db.engine)
        try:
            # PostgreSQL: two web processes enqueuing for one account take turns here.
            session.execute(
                select(GoogleAccount.id).where(GoogleAccount.id == account.id).with_for_update()
            )
            waiting = session.scalars(
                select(SyncRun)
                .where(
                    SyncRun.account_id == account.id,
                    SyncRun.trigger == trigger,
                    SyncRun.status == "queued",
                    SyncRun.dry_run == dry_run,
                )
                .order_by(SyncRun.id)
            )
            pending = next((r for r in waiting if plan_of(r) == plan_id), None)
            if pending is not None:
                session.commit()
                return pending.id, False
            row = _queued_row(account.id, trigger, dry_run=dry_run, force=force, plan_id=plan_id)
            session.add(row)
            session.commit()
            run_id = row.id
        finally:
            if own:
                session.close()
        try:
            self.send(run_id)
        except Exception as exc:  # the broker is down: the row says so, the caller answers 503
            logger.exception("could not send job %s", run_id)
            self._fail_unsent(run_id)
            raise ApiError(
                503,
                "La file des synchronisations est injoignable : réessayez dans un instant ; "
                "si cela dure, vérifiez que Redis fonctionne.",
                data={"reason": "queue_unavailable"},
                headers={"Retry-After": "30"},
            ) from exc
        return run_id, True

    def _fail_unsent(self, run_id: int) -> None:
        with Session(db.engine) as session:
            row = session.get(SyncRun, run_id)
            if row is not None and row.status == "queued":
                row.status = "failed"
                row.finished_at = utcnow()
                row.error_message = "La file des synchronisations était injoignable."
                session.commit()

    # --- pushes -------------------------------------------------------------------------------

    def request_push(self, origin: str | None = None) -> list[int]:
        """A client changed: a debounced push job for every connected account but ``origin``.

        Returns the ids of the push runs made or moved (one per account).
        """
        with self.app.app_context():
            return self._request_push(origin)

    def _request_push(self, origin: str | None) -> list[int]:
        origin_email = (origin or "").strip().lower()
        live = set(live_accounts(self.app))
        delay = _settings(self.app).push_delay_seconds
        now = utcnow()
        ids: list[int] = []
        to_send: list[int] = []
        with Session(db.engine) as session:
            accounts = session.scalars(select(GoogleAccount).order_by(GoogleAccount.id)).all()
            for account in accounts:
                email = account.email.strip().lower()
                if email not in live or email == origin_email or account.first_sync_pending:
                    continue
                session.execute(
                    select(GoogleAccount.id).where(GoogleAccount.id == account.id).with_for_update()
                )
                pending = session.scalars(
                    select(SyncRun)
                    .where(
                        SyncRun.account_id == account.id,
                        SyncRun.trigger == "push",
                        SyncRun.status == "queued",
                    )
                    .limit(1)
                ).first()
                if pending is not None:
                    counts = dict(pending.counts) if isinstance(pending.counts, dict) else {}
                    job = dict(counts.get("job") or {})
                    job["last_edit"] = _iso(now)
                    job["edits"] = int(job.get("edits") or 0) + 1
                    counts["job"] = job
                    pending.counts = counts
                    session.commit()
                    ids.append(pending.id)
                    continue
                row = _queued_row(account.id, "push")
                row.counts = {"job": {"first_edit": _iso(now), "last_edit": _iso(now), "edits": 1}}
                session.add(row)
                session.commit()
                ids.append(row.id)
                to_send.append(row.id)
        for run_id in to_send:
            self.send(run_id, delay=min(delay, MAX_PUSH_WAIT))  # 10 s after the first at most
        return ids

    def on_client_changed(self, sender: Any, **extra: Any) -> None:
        """``client_changed`` receiver: ``origin`` (an account's e-mail) is not pushed back to."""
        if not has_app_context() or current_app._get_current_object() is not self.app:  # type: ignore[attr-defined]
            return
        if not _settings(self.app).pushes:
            return
        origin = extra.get("origin")
        key = origin.strip().lower() if isinstance(origin, str) else ""
        now = time.monotonic()
        with self._lock:
            # A run importing 2,000 clients sends 2,000 signals: this process asked for
            # these pushes a moment ago, their rows are queued, nothing to add.
            if now - self._recent.get(key, -COALESCE_SECONDS) < COALESCE_SECONDS:
                return
            self._recent[key] = now
        try:
            self.request_push(origin if isinstance(origin, str) else None)
        except Exception:  # a client write never fails because its push could not be queued
            logger.exception("could not queue the push of client %s", sender)

    # --- running ------------------------------------------------------------------------------

    def _run_job(self, run_id: int) -> None:
        """The actor: run the queued row ``run_id`` (or put it back to wait)."""
        with self.app.app_context():
            try:
                self._process(run_id)
            except Exception:  # the job's top level: the row says it failed, the log says why
                logger.exception("job %s failed", run_id)
                db.session.rollback()
                internal = ApiError(
                    500,
                    "Erreur interne pendant la synchronisation : relancez-la ; si elle échoue "
                    "encore, transmettez le journal à l'assistance.",
                    data={"reason": "internal"},
                )
                record_failure(db.session(), run_id, internal)
            finally:
                db.session.remove()

    def _wait(self, session: Session, row: SyncRun, seconds: float, message: str | None) -> None:
        row.error_message = message
        _mark_due(row, utcnow() + timedelta(seconds=seconds))
        session.commit()
        self.send(row.id, delay=seconds)

    def resend_lost(self, session: Session) -> list[int]:
        """Send again the queued jobs whose message is overdue by ``LOST_AFTER`` (Redis lost
        it: restarted without persistence, flushed). A job sent twice runs once: a worker
        runs only a row still ``queued``, and the engine takes it over only so."""
        now = utcnow()
        lost: list[int] = []
        for row in session.scalars(select(SyncRun).where(SyncRun.status == "queued")):
            counts = row.counts if isinstance(row.counts, dict) else {}
            due = _parse(dict(counts.get("job") or {}).get("due_at"), row.started_at)
            if now - due > LOST_AFTER:
                _mark_due(row, now)
                lost.append(row.id)
        session.commit()
        for run_id in lost:
            logger.warning("job %s was lost by the queue: sent again", run_id)
            self.send(run_id)
        return lost

    def _process(self, run_id: int) -> None:
        session = db.session()
        row = session.get(SyncRun, run_id)
        if row is None or row.status != "queued":
            return  # done already (a message delivered twice), or cancelled
        account = session.get(GoogleAccount, row.account_id)
        if account is None:
            return
        settings = _settings(self.app)
        now = utcnow()
        if row.trigger == "push":
            counts = row.counts if isinstance(row.counts, dict) else {}
            due = push_due(dict(counts.get("job") or {}), settings.push_delay_seconds, now)
            if due > now:  # more edits came: wait for them to stop
                self._wait(session, row, (due - now).total_seconds(), None)
                return
        if settings.daily_quota and calls_since(session, day_start(now)) >= settings.daily_quota:
            tomorrow = next_day_start(now) + timedelta(seconds=30)
            self._wait(session, row, (tomorrow - now).total_seconds(), daily_message(tomorrow))
            return
        if minute_budget_spent(session, account, now):
            self._wait(session, row, MINUTE_WAIT_SECONDS, MINUTE_MESSAGE)
            return
        if row.trigger in AUTOMATIC and account.first_sync_pending:
            session.delete(row)  # connecting writes nothing: no run before a person's first sync
            session.commit()
            return
        email, dry_run, force, trigger = account.email, row.dry_run, row.forced, row.trigger
        plan_id = plan_of(row)
        try:
            with engine_errors():
                service = open_service(self.app, email)
                if plan_id is not None:
                    run_apply(service, plan_id, force=force, run_id=run_id)
                else:
                    run_sync_all(
                        service, dry_run=dry_run, force=force, trigger=trigger, run_id=run_id
                    )
        except ApiError as exc:
            session.rollback()
            reason = exc.data.get("reason") if isinstance(exc.data, dict) else None
            row = session.get(SyncRun, run_id)
            if row is None:
                return
            if reason == "busy":
                if row.status == "queued":
                    self._wait(session, row, BUSY_DELAY_SECONDS, BUSY_MESSAGE)
                return  # else another worker took this very row
            record_failure(session, run_id, exc)
            return
        logger.info("job %s (%s, %s) done", run_id, trigger, email)


def _mark_due(row: SyncRun, due: datetime) -> None:
    """Record when the job's message is due (``resend_lost`` finds the ones Redis lost)."""
    counts = dict(row.counts) if isinstance(row.counts, dict) else {}
    job = dict(counts.get("job") or {})
    job["due_at"] = _iso(due)
    counts["job"] = job
    row.counts = counts


def plan_of(row: SyncRun) -> str | None:
    """The previewed plan a queued job applies (``None``: a sync)."""
    counts = row.counts if isinstance(row.counts, dict) else {}
    job = counts.get("job")
    plan_id = job.get("plan_id") if isinstance(job, dict) else None
    return str(plan_id) if plan_id else None


def _queued_row(
    account_id: int,
    trigger: str,
    *,
    dry_run: bool = False,
    force: bool = False,
    plan_id: str | None = None,
) -> SyncRun:
    return SyncRun(
        account_id=account_id,
        trigger=trigger,
        status="queued",
        dry_run=dry_run,
        forced=force,
        full_listing=False,
        started_at=utcnow(),
        counts={"job": {"plan_id": plan_id}} if plan_id else {},
        conflicts=0,
        duplicates=0,
        errors=0,
        api_calls={},
        progress_done=0,
        progress_total=0,
    )


def record_failure(session: Session, run_id: int, exc: ApiError) -> None:
    """Keep the error (the synchronous answer's envelope) on the job's run row."""
    from atarys.jobs.background import error_of

    try:
        session.rollback()
        row = session.get(SyncRun, run_id)
        if row is None:
            return
        error = error_of(exc)
        counts = dict(row.counts) if isinstance(row.counts, dict) else {}
        counts["error"] = error
        row.counts = counts
        row.error_message = str(error["message"])
        if row.status in ("queued", "running"):
            row.status = "failed"
        row.finished_at = row.finished_at or utcnow()
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        logger.exception("could not record the failure of job %s", run_id)


def init_app(app: Flask) -> JobQueue:
    """The app's queue (in ``app.extensions``), listening to ``client_changed``."""
    from atarys.clients.service import client_changed

    queue = JobQueue(app)
    app.extensions[EXTENSION_KEY] = queue
    client_changed.connect(queue.on_client_changed, weak=False)
    return queue


def get_queue(app: Flask) -> JobQueue:
    queue = app.extensions.get(EXTENSION_KEY)
    if not isinstance(queue, JobQueue):
        queue = init_app(app)
    return queue


def shutdown(app: Flask) -> None:
    """Stop the app's worker and stop listening (tests' teardown, process exit)."""
    from atarys.clients.service import client_changed

    queue = app.extensions.pop(EXTENSION_KEY, None)
    if isinstance(queue, JobQueue):
        client_changed.disconnect(queue.on_client_changed)
        queue.close()


def pending_jobs(session: Session, account_id: int | None = None) -> list[SyncRun]:
    """Jobs queued or running (one account, or all): what a worker still has to do."""
    query = select(SyncRun).where(SyncRun.status.in_(("queued", "running")))
    if account_id is not None:
        query = query.where(SyncRun.account_id == account_id)
    return list(session.scalars(query.order_by(SyncRun.id)))
