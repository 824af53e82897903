"""Background ``sync-all`` runs (``POST /sync-all`` with ``{"async": true}``): the run row is the job.

``start`` runs ``sync_all`` on a worker thread and answers with the id of its ``sync_runs``
row as soon as the engine has committed it (status ``running``); the engine then commits
the row's progress after every batch, and its final status. So ``GET runs/<id>`` answers
from the database, from any process, and a restart loses nothing but the thread.

A run refused before the engine made its row (the account is busy, say) gets a row of its
own, ``failed``. A failed run keeps the synchronous answer's error envelope
(``{status, success, message, data, errors?, reason, retry_after}``) in its
``counts["error"]``, so every process can show why it failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from atarys.extensions import db
from atarys.google_contacts.service import (
    ServiceOpener,
    engine_errors,
    open_service,
    run_sync_all,
)
from atarys.http import ApiError
from atarys.models import GoogleAccount, SyncRun, utcnow
from atarys.sync.core.errors import AccountBusyError
from atarys.sync.service import RunDetail

logger = logging.getLogger("atarys.jobs.background")

TRIGGER = "api-async"
START_TIMEOUT_SECONDS = 30.0
ENVELOPE_GRACE = timedelta(seconds=10)

# The engine's run status → the job's.
JOB_STATUS = {
    "queued": "queued",
    "running": "running",
    "success": "finished",
    "partial": "finished",
    "failed": "failed",
    "refused": "failed",
}
JOB_MESSAGES = {
    "queued": "Synchronisation en attente",
    "running": "Synchronisation en cours",
    "finished": "Synchronisation complète terminée",
    "failed": "La synchronisation a échoué",
}


def error_of(exc: ApiError) -> dict[str, Any]:
    """A failed job's ``error``: the synchronous error envelope, with its HTTP status.

    ``{status, success: false, message, data, errors?}`` where ``data`` keeps what the
    synchronous answer says (``reason``; ``counts``/``reasons`` for the mass-deletion
    breaker) and ``retry_after`` (from the ``Retry-After`` header when only it says it).
    ``reason`` and ``retry_after`` are repeated at the top for a quick look.
    """
    data = dict(exc.data) if isinstance(exc.data, dict) else {}
    retry_after: int | None = None
    raw = data.get("retry_after", exc.headers.get("Retry-After"))
    try:
        retry_after = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        retry_after = None
    if retry_after is not None:
        data["retry_after"] = retry_after
    error: dict[str, Any] = {
        "status": exc.status,
        "success": False,
        "message": exc.message,
        "data": data or exc.data,
        "reason": data.get("reason"),
        "retry_after": retry_after,
    }
    if exc.errors:
        error["errors"] = exc.errors
    return error


T = TypeVar("T")
BUSY_POLL_SECONDS = 0.25


def when_free(
    work: Callable[[], T],
    *,
    timeout: float,
    on_busy: Callable[[], object] | None = None,
    poll: float = BUSY_POLL_SECONDS,
) -> T:
    """``work()``, waiting (at most ``timeout`` seconds) while another run holds the account.

    The seed's synchronous ``sync-all`` gets its result rather than a busy answer when a
    scheduled run is in progress: ``AccountBusyError`` is retried until the deadline, then
    raised. ``on_busy`` runs before each retry (e.g. a session rollback).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return work()
        except AccountBusyError:
            if time.monotonic() + poll > deadline:
                raise
            if on_busy is not None:
                on_busy()
            time.sleep(poll)


def holding_run(session: Session, account: GoogleAccount) -> SyncRun | None:
    """The run that holds the account's run lock now (``None`` when it is free)."""
    session.refresh(account)
    if account.lock_owner is None:
        return None
    return session.scalars(
        select(SyncRun)
        .where(
            SyncRun.account_id == account.id,
            SyncRun.status.in_(("queued", "running")),
        )
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()


def job_of(detail: RunDetail) -> dict[str, Any] | None:
    """A background run as a job (``None`` for a run started otherwise)."""
    if detail.run.trigger != TRIGGER:
        return None
    return job_view(detail)


def job_view(detail: RunDetail) -> dict[str, Any]:
    """Any run as a job: status, progress, and its result or error once over."""
    run = detail.run
    status = JOB_STATUS.get(run.status, run.status)
    counts = run.counts if isinstance(run.counts, dict) else {}
    error = counts.get("error") if status == "failed" else None
    if status == "failed" and not isinstance(error, dict):
        # The engine commits "failed" a moment before the worker adds the error envelope.
        finished = run.finished_at or run.started_at
        if run.trigger == TRIGGER and utcnow() - finished < ENVELOPE_GRACE:
            status = "running"
        else:  # the worker died before writing it: what the row says
            error = {
                "status": 500,
                "success": False,
                "message": run.error_message or "La synchronisation a échoué.",
                "data": None,
                "reason": None,
                "retry_after": None,
            }
    return {
        "run_id": run.id,
        "engine_run_id": run.id,
        "status": status,
        "dry_run": run.dry_run,
        "progress": {"done": run.progress_done, "total": run.progress_total},
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "result": _result_of(run) if status == "finished" else None,
        "error": error if isinstance(error, dict) else None,
        "run": detail.to_dict(),
    }


def _result_of(run: SyncRun) -> dict[str, Any]:
    """A finished run's summary, in ``sync-all``'s synchronous shape (the plan aside)."""
    counts = run.counts if isinstance(run.counts, dict) else {}
    return {
        "run_id": run.id,
        "dry_run": run.dry_run,
        "status": run.status,
        "atarys_to_google": counts.get("atarys_to_google") or {},
        "google_to_atarys": counts.get("google_to_atarys") or {},
        "conflicts": run.conflicts,
        "duplicates": run.duplicates,
        "api_calls": run.api_calls,
        "duration_seconds": run.duration_seconds,
        "full_listing": run.full_listing,
    }


def job_message(job: dict[str, Any]) -> str:
    """The French message of a job's answer."""
    status = str(job["status"])
    return JOB_MESSAGES.get(status, status)


@dataclass(frozen=True)
class _Options:
    dry_run: bool
    force: bool


class _Start:
    """What the request thread waits for: the run's id, or why it could not start."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.run_id: int | None = None
        self.error: ApiError | None = None

    def found(self, run_id: int) -> None:
        if self.run_id is None:
            self.run_id = run_id
        self.ready.set()


def _watch_new_run(session: Session, start: _Start) -> tuple[Any, Any]:
    """Report the id of the first run row this session commits."""
    seen: list[int] = []

    def on_persistent(_session: Session, instance: object) -> None:
        if isinstance(instance, SyncRun) and not seen:
            seen.append(instance.id)

    def on_commit(_session: Session) -> None:
        if seen:
            start.found(seen[0])

    event.listen(session, "pending_to_persistent", on_persistent)
    event.listen(session, "after_commit", on_commit)
    return on_persistent, on_commit


def _record_failure(
    session: Session,
    start: _Start,
    account_id: int | None,
    error: dict[str, Any],
    options: _Options,
) -> None:
    """Keep the error on the run's row (made now when the engine had not made one)."""
    row = session.get(SyncRun, start.run_id) if start.run_id is not None else None
    if row is None:
        if account_id is None:
            return
        row = SyncRun(
            account_id=account_id,
            trigger=TRIGGER,
            status="failed",
            dry_run=options.dry_run,
            forced=options.force,
            started_at=utcnow(),
            counts={},
            api_calls={},
        )
        session.add(row)
    counts = dict(row.counts) if isinstance(row.counts, dict) else {}
    counts["error"] = error
    row.counts = counts
    row.error_message = str(error["message"])
    if row.status in ("queued", "running"):
        row.status = "failed"
    row.finished_at = row.finished_at or utcnow()
    session.commit()
    start.found(row.id)


def _holder_soon(session: Session, account: GoogleAccount, wait: float = 3.0) -> SyncRun | None:
    """The run holding the account; its row is written a moment after it takes the lock."""
    deadline = time.monotonic() + wait
    while True:
        session.rollback()
        holder = holding_run(session, account)
        if holder is not None or time.monotonic() > deadline:
            return holder
        time.sleep(0.05)


def _run(app: Flask, opener: ServiceOpener, options: _Options, start: _Start) -> None:
    with app.app_context():
        session = db.session()
        listeners = _watch_new_run(session, start)
        account_id: int | None = None
        try:
            with engine_errors():
                service = opener(app)
                account_id = service.account.id
                run_sync_all(service, dry_run=options.dry_run, force=options.force, trigger=TRIGGER)
        except ApiError as exc:
            session.rollback()
            holder = None
            if (
                account_id is not None
                and start.run_id is None
                and error_of(exc)["reason"] == "busy"
            ):
                # Lost the race to a run that took the account a moment ago (a double
                # click, two tabs): the caller follows that one, no failed run is recorded.
                holder = _holder_soon(session, service.account)
            if holder is not None:
                start.found(holder.id)
            elif account_id is None and start.run_id is None:
                start.error = exc  # not even an account: the request answers it
            else:
                _record_failure(session, start, account_id, error_of(exc), options)
        except Exception:  # the worker thread's top level: nothing else would see the error
            logger.exception("background sync failed")
            session.rollback()
            internal = ApiError(
                500, "Erreur interne pendant la synchronisation.", data={"reason": "internal"}
            )
            if account_id is None and start.run_id is None:
                start.error = internal
            else:
                _record_failure(session, start, account_id, error_of(internal), options)
        finally:
            event.remove(session, "pending_to_persistent", listeners[0])
            event.remove(session, "after_commit", listeners[1])
            start.ready.set()
            db.session.remove()


def start(app: Flask, *, dry_run: bool, force: bool, opener: ServiceOpener = open_service) -> int:
    """Start a background ``sync_all``; the id of its run row once the row is committed."""
    begun = _Start()
    thread = threading.Thread(
        target=_run,
        args=(app, opener, _Options(dry_run, force), begun),
        name="sync-all",
        daemon=True,
    )
    thread.start()
    if not begun.ready.wait(START_TIMEOUT_SECONDS) or begun.run_id is None:
        if begun.error is not None:
            raise begun.error
        raise ApiError(
            503,
            "La synchronisation n'a pas pu démarrer : réessayez dans un instant.",
            headers={"Retry-After": "10"},
        )
    return begun.run_id
