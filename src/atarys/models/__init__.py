"""Database models (SQLAlchemy 2.0 typed declarative). Tables are created only by migrations."""

from atarys.models.base import Base, UTCDateTime, utcnow
from atarys.models.client import CLIENT_FIELDS, Client
from atarys.models.sync import (
    GoogleAccount,
    SyncConflict,
    SyncDuplicate,
    SyncExclusion,
    SyncLink,
    SyncPlan,
    SyncRun,
    SyncRunItem,
    SyncTrash,
)
from atarys.models.sync2 import SyncPending
from atarys.models.user import ApiToken, OAuthState, ScheduledJob, User

__all__ = [
    "CLIENT_FIELDS",
    "ApiToken",
    "Base",
    "Client",
    "GoogleAccount",
    "OAuthState",
    "ScheduledJob",
    "SyncConflict",
    "SyncDuplicate",
    "SyncExclusion",
    "SyncLink",
    "SyncPending",
    "SyncPlan",
    "SyncRun",
    "SyncRunItem",
    "SyncTrash",
    "UTCDateTime",
    "User",
    "utcnow",
]
