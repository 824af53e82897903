"""Background ``sync-all`` runs (``POST /sync-all`` with ``{"async": true}``): the run row is the job.

``start`` queues a job (``atarys.jobs.queue``) and answers with the id of its ``sync_runs``
row, committed ``queued``; a worker's engine makes it ``running`` and commits its progress
after every batch, and its final status. So ``GET runs/<id>`` answers from the database,
from any process, and a restart loses nothing.

A failed run keeps the synchronous answer's error envelope
(``{status, success, message, data, errors?, reason, retry_after}``) in its
``counts["error"]``, so every process can show why it failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from atarys.google_contacts.service import (
    ServiceOpener,
    engine_errors,
    open_service,
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


# Every run the queue carries is a job: a person's background run, and the scheduled,
# polling and push runs a person may find holding the account and follow.
JOB_TRIGGERS = frozenset({TRIGGER, "schedule", "poll", "push"})


def job_of(detail: RunDetail) -> dict[str, Any] | None:
    """A queued run as a job (``None`` for a run started otherwise): a sync's job, or a
    previewed plan applied in the background (its row keeps ``counts["job"]``)."""
    counts = detail.run.counts if isinstance(detail.run.counts, dict) else {}
    if detail.run.trigger not in JOB_TRIGGERS and not isinstance(counts.get("job"), dict):
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
        queued = run.trigger == TRIGGER or isinstance(counts.get("job"), dict)
        if queued and utcnow() - finished < ENVELOPE_GRACE:
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
        # an applied preview: the items left alone because they changed since
        "changed_since_preview": counts.get("changed_since_preview") or [],
    }


def job_message(job: dict[str, Any]) -> str:
    """The French message of a job's answer."""
    status = str(job["status"])
    return JOB_MESSAGES.get(status, status)


@dataclass(frozen=True)
class Started:
    """A background run asked for: the run row the person follows."""

    run_id: int
    account: str
    """The account's e-mail."""
    joined: bool
    """Another run already held the account: the person follows that one."""


def start(
    app: Flask,
    *,
    dry_run: bool,
    force: bool,
    opener: ServiceOpener = open_service,
    account: str | None = None,
) -> Started:
    """Queue a ``sync_all`` job (``api-async``) for the account; the run row to follow.

    The row is committed ``queued`` before this returns; a worker (``atarys worker``, or the
    embedded one) makes it ``running``. A run already holding the account, or a job of this
    account already waiting, is returned instead of a second one.
    """
    from atarys.jobs.queue import get_queue

    with engine_errors():  # fail now (503…) rather than in the worker
        service = opener(app) if account is None else open_service(app, account)
    email = service.account.email
    # A run already holds the account (a double click, two tabs, a scheduled run):
    # the person follows that run and gets its result, rather than a second one.
    holder = holding_run(service.session, service.account)
    if holder is not None:
        return Started(holder.id, email, joined=True)
    run_id, _new = get_queue(app).enqueue(service.account, TRIGGER, dry_run=dry_run, force=force)
    return Started(run_id, email, joined=False)


def start_apply(app: Flask, plan_id: str, *, force: bool, account: str | None = None) -> Started:
    """Queue the job that applies a previewed plan (once: a second click joins it).

    The plan is checked first (unknown, applied, expired: the same French answer as a
    synchronous apply, nothing queued); a worker then writes it, with its progress on the
    run row, however long a first sync of the whole account takes.
    """
    from atarys.jobs.queue import get_queue

    with engine_errors():
        service = open_service(app, account)
        trigger = service.plan_trigger(plan_id)
    run_id, new = get_queue(app).enqueue(service.account, trigger, force=force, plan_id=plan_id)
    return Started(run_id, service.account.email, joined=not new)
