"""Background sync runs started by ``POST /sync-all`` with ``{"async": true}``.

The request answers 202 at once with a job id (``job-…``); a worker thread runs
``sync_all`` in its own app context and database session, reporting ``done/total``
through the engine's ``progress`` callback. ``GET /runs/<job id>`` reads the job here
while it runs and keeps answering with the final result afterwards (jobs live in the
server process: ``atarys serve`` is one process with threads).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask

from atarys.api import engine
from atarys.extensions import db
from atarys.http import ApiError
from atarys.models import utcnow

logger = logging.getLogger("atarys.api.jobs")

MAX_KEPT = 200


@dataclass
class Job:
    """One background run and what is known of it so far."""

    id: str
    dry_run: bool
    force: bool
    status: str = "queued"  # queued, running, finished, failed
    done: int = 0
    total: int | None = None
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    run_id: Any = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.id,
            "engine_run_id": self.run_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "progress": {"done": self.done, "total": self.total},
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "result": self.result,
            "error": self.error,
        }


_jobs: dict[str, Job] = {}
_lock = threading.Lock()


def get(job_id: str) -> Job | None:
    with _lock:
        return _jobs.get(job_id)


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


def _progress(job: Job) -> Any:
    def report(*args: Any, **kwargs: Any) -> None:
        done = kwargs.get("done", args[0] if args else None)
        total = kwargs.get("total", args[1] if len(args) > 1 else None)
        if isinstance(done, int):
            job.done = done
        if isinstance(total, int):
            job.total = total

    return report


def _run(app: Flask, job: Job) -> None:
    status = "failed"
    with app.app_context():
        job.status = "running"
        try:
            with engine.engine_errors():
                service = engine.open_service(app)
                result = engine.run_sync_all(
                    service,
                    dry_run=job.dry_run,
                    force=job.force,
                    trigger="api-async",
                    progress=_progress(job),
                )
            job.result = result
            job.run_id = result.get("run_id")
            if job.total is None:
                job.total = job.done
            status = "finished"
        except ApiError as exc:
            job.error = error_of(exc)
        except Exception:  # the worker thread's top level: nothing else would see the error
            logger.exception("background sync %s failed", job.id)
            job.error = error_of(
                ApiError(
                    500, "Erreur interne pendant la synchronisation.", data={"reason": "internal"}
                )
            )
        finally:
            db.session.remove()
    # Published last, once the database connection is back in the pool.
    job.finished_at = utcnow()
    job.status = status


def start(app: Flask, *, dry_run: bool, force: bool) -> Job:
    """Start a background ``sync_all`` and return its job."""
    job = Job(id=f"job-{uuid.uuid4().hex[:16]}", dry_run=dry_run, force=force)
    with _lock:
        _jobs[job.id] = job
        if len(_jobs) > MAX_KEPT:
            for old in sorted(_jobs.values(), key=lambda j: j.started_at)[: len(_jobs) - MAX_KEPT]:
                if old.status in ("finished", "failed"):
                    _jobs.pop(old.id, None)
    thread = threading.Thread(target=_run, args=(app, job), name=job.id, daemon=True)
    thread.start()
    return job
