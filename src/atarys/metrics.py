"""Prometheus metrics: runs, items per action, errors, conflicts, People API calls, pushes.

The counters only (no Flask): ``google/connection.py`` counts API calls here and the
app serves them at ``GET /metrics`` (``app.py``). Metrics are process-wide (the default registry); each server process exposes its own
counters, as Prometheus expects from a multi-process deployment scraped per process.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

SYNC_RUNS = Counter(
    "atarys_sync_runs", "Sync runs finished, by trigger and outcome.", ["trigger", "outcome"]
)
SYNC_ITEMS = Counter(
    "atarys_sync_items", "Items synced, by direction and action.", ["direction", "action"]
)
SYNC_ERRORS = Counter(
    "atarys_sync_errors", "Item errors during sync runs, by direction.", ["direction"]
)
SYNC_CONFLICTS = Counter("atarys_sync_conflicts", "Conflicts detected by sync runs.")
SYNC_DURATION = Histogram(
    "atarys_sync_run_duration_seconds",
    "Duration of sync runs.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
GOOGLE_API_CALLS = Counter(
    "atarys_google_api_calls", "People API calls sent, by API method.", ["method"]
)
GOOGLE_API_ERRORS = Counter(
    "atarys_google_api_errors", "People API calls that failed, by HTTP status.", ["status"]
)
QUOTA_RETRIES = Counter(
    "atarys_google_quota_retries", "People API answers 429 (quota) that were retried or deferred."
)
PUSHES = Counter(
    "atarys_realtime_pushes",
    "Near-real-time pushes of edited clients to Google, by outcome.",
    ["outcome"],
)


def record_run(result: dict[str, Any], *, trigger: str, seconds: float) -> None:
    """Count a finished run from its ``RunResult.to_dict()``."""
    SYNC_RUNS.labels(trigger=trigger, outcome="dry_run" if result.get("dry_run") else "ok").inc()
    SYNC_DURATION.observe(seconds)
    if result.get("dry_run"):
        return
    for direction in ("atarys_to_google", "google_to_atarys"):
        side = result.get(direction) or {}
        if not isinstance(side, dict):
            continue
        for action in ("created", "updated", "deleted", "linked"):
            count = side.get(action)
            if isinstance(count, int) and count:
                SYNC_ITEMS.labels(direction=direction, action=action).inc(count)
        errors = side.get("errors")
        if isinstance(errors, int) and errors:
            SYNC_ERRORS.labels(direction=direction).inc(errors)
    conflicts = result.get("conflicts")
    count = len(conflicts) if isinstance(conflicts, list) else conflicts
    if isinstance(count, int) and count:
        SYNC_CONFLICTS.inc(count)


def record_failed_run(*, trigger: str, reason: str, seconds: float) -> None:
    """Count a run that raised (``reason``: the error's class name)."""
    SYNC_RUNS.labels(trigger=trigger, outcome=reason).inc()
    SYNC_DURATION.observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
