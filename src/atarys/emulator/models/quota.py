"""Per-user quota buckets: what each method costs, per-minute and per-day windows, 429s.

Costs follow Google's buckets (critical reads, critical writes, writes, reads, daily
contact writes) plus ``full_sync`` for the first page of a full listing. Limits are
fault settings (``Faults.quota``); without a limit a bucket only counts.
"""

from __future__ import annotations

from atarys.emulator.errors import QUOTA_FAILURE_TYPE, ResourceExhaustedError
from atarys.emulator.models.core import StateCore

QUOTA_WINDOW_S = 60.0
DAILY_WINDOW_S = 86_400.0

#: Quota cost of each API method: bucket → units. ``daily_contact_writes`` of a
#: batch is its number of contacts (added by the caller).
METHOD_COSTS: dict[str, dict[str, int]] = {
    "people.get": {"critical_read": 1},
    "people.getBatchGet": {"critical_read": 1},
    "people.connections.list": {"critical_read": 1},
    "people.searchContacts": {"critical_read": 1},
    "people.createContact": {"critical_write": 1, "daily_contact_writes": 1},
    "people.updateContact": {"critical_write": 1, "daily_contact_writes": 1},
    "people.deleteContact": {"write": 1, "daily_contact_writes": 1},
    "people.batchCreateContacts": {"critical_read": 6, "critical_write": 6},
    "people.batchUpdateContacts": {"critical_read": 6, "critical_write": 6},
    "people.batchDeleteContacts": {"write": 10},
    "contactGroups.list": {"read": 1},
    "contactGroups.get": {"read": 1},
    "contactGroups.create": {"write": 1},
    "contactGroups.update": {"write": 1},
    "contactGroups.delete": {"write": 1},
    "contactGroups.members.modify": {"write": 1},
}
QUOTA_BUCKETS = (
    "critical_read",
    "critical_write",
    "write",
    "read",
    "daily_contact_writes",
    "full_sync",
)
_QUOTA_METRICS = {
    "critical_read": "Critical read requests (Contact and Profile Reads)",
    "critical_write": "Critical write requests (Contact and Profile Creates and Updates)",
    "write": "Write requests (Contact Deletes and Group Writes)",
    "read": "Read requests (Contact Group Reads)",
    "daily_contact_writes": "Daily Contact Writes",
    "full_sync": "Full sync requests (first page of connections.list without a sync token)",
}


#: Google's quota metric and limit names per bucket (as in the 429 ErrorInfo metadata).
QUOTA_NAMES: dict[str, tuple[str, str]] = {
    "critical_read": ("critical_read_requests", "CriticalReadsPerMinutePerProjectPerUser"),
    "critical_write": ("critical_write_requests", "CriticalWritesPerMinutePerProjectPerUser"),
    "write": ("write_requests", "WritesPerMinutePerProjectPerUser"),
    "read": ("read_requests", "ReadsPerMinutePerProjectPerUser"),
    "daily_contact_writes": ("daily_contact_writes", "DailyContactWritesPerDayPerProjectPerUser"),
    "full_sync": ("full_sync_requests", "FullSyncRequestsPerMinutePerProjectPerUser"),
}


def quota_error(bucket: str, limit: int, detail: str = "ErrorInfo") -> ResourceExhaustedError:
    """Google's 429 for a full ``bucket``: RESOURCE_EXHAUSTED, reason ``RATE_LIMIT_EXCEEDED``.

    ``detail``: ``ErrorInfo`` (metadata ``quota_metric``, ``quota_limit``,
    ``quota_limit_value``, ``consumer``, ``service``) or ``QuotaFailure`` (one violation).
    """
    metric_label = _QUOTA_METRICS[bucket]
    per = "per day" if bucket == "daily_contact_writes" else "per minute"
    metric, limit_name = QUOTA_NAMES[bucket]
    message = (
        f"Quota exceeded for quota metric '{metric_label}' and limit "
        f"'{metric_label} {per} per user' of service 'people.googleapis.com' "
        "for consumer 'project_number:0'."
    )
    details = None
    if detail == "QuotaFailure":
        details = [
            {
                "@type": QUOTA_FAILURE_TYPE,
                "violations": [
                    {"subject": "project_number:0", "description": message},
                ],
            }
        ]
    return ResourceExhaustedError(
        message,
        metadata={
            "quota_metric": f"people.googleapis.com/{metric}",
            "quota_limit": limit_name,
            "quota_limit_value": str(limit),
            "quota_location": "global",
            "consumer": "projects/0",
        },
        details=details,
    )


class QuotaModel(StateCore):
    """Charging requests to quota buckets."""

    def charge_quota(
        self, email: str, method: str, contacts: int = 0, extra: dict[str, int] | None = None
    ) -> None:
        """Count ``method`` against ``email``'s buckets; 429 when a limit would be passed.

        ``contacts`` adds to ``daily_contact_writes``; ``extra`` adds other units (e.g.
        ``full_sync`` for the first page of a full connections.list).
        """
        user = self.user(email)
        user.stats.methods[method] += 1
        costs = dict(METHOD_COSTS.get(method, {}))
        for bucket, units in (extra or {}).items():
            costs[bucket] = costs.get(bucket, 0) + units
        if contacts:
            costs["daily_contact_writes"] = costs.get("daily_contact_writes", 0) + contacts
        now = self.now()
        limits = self.faults.quota
        for bucket, units in costs.items():
            limit = limits.get(bucket)
            if limit is None:
                continue
            span = DAILY_WINDOW_S if bucket == "daily_contact_writes" else QUOTA_WINDOW_S
            start, used = user.quota_windows.get(bucket, (now, 0))
            if now - start >= span:
                start, used = now, 0
            if used + units > limit:
                user.quota_windows[bucket] = (start, used)
                raise quota_error(bucket, limit, self.faults.quota_detail)
        for bucket, units in costs.items():
            limit = limits.get(bucket)
            if limit is not None:
                span = DAILY_WINDOW_S if bucket == "daily_contact_writes" else QUOTA_WINDOW_S
                start, used = user.quota_windows.get(bucket, (now, 0))
                if now - start >= span:
                    start, used = now, 0
                user.quota_windows[bucket] = (start, used + units)
            user.stats.buckets[bucket] += units
