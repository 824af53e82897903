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
            job.error = {"status": exc.status, "message": exc.message}
        except Exception:
            logger.exception("background sync failed")
            job.error = {"status": 500, "message": "Erreur interne pendant la synchronisation."}
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
