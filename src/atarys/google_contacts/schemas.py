"""Pydantic models of ``/api/google-contacts/*``: request bodies and queries, answers' ``data``.

The same models validate the requests (``atarys.validation``) and make the OpenAPI
document (``atarys.openapi``). The sync options' enumerations come from
``atarys.sync.core.options`` (written once), so they show as enums in the document and
in the front end's generated constants.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from atarys.sync.core.options import ConflictPolicy, DeletionSetting, ImportScope

MAX_PAGE_SIZE = 1000
MAX_RUNS_LIMIT = 200
MAX_RUNS_OFFSET = 1_000_000
MAX_LINK_IDS = 200
MAX_DUPLICATES_LIMIT = 500
MAX_AUTO_SYNC_MINUTES = 7 * 24 * 60


# --- requests -----------------------------------------------------------------------------------


class SyncAllIn(BaseModel):
    """``POST sync-all``: a dry run (the plan only), past the breaker, in the background."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    dry_run: StrictBool = False
    force: StrictBool = False
    run_async: StrictBool = Field(default=False, alias="async")


class ResolveIn(BaseModel):
    """``POST conflicts/<id>/resolve``: keep ATARYS' value, Google's, or ``value``."""

    model_config = ConfigDict(extra="forbid")

    choice: Literal["atarys", "google", "value"]
    value: str | None = Field(default=None, max_length=200)


class SettingsIn(BaseModel):
    """``PUT settings``: the settings to change (the others are kept)."""

    model_config = ConfigDict(extra="forbid")

    conflict_policy: ConflictPolicy | None = None
    google_deletions: DeletionSetting | None = None
    atarys_deletions: DeletionSetting | None = None
    import_scope: ImportScope | None = None
    auto_sync_minutes: int | None = Field(default=None, ge=0, le=MAX_AUTO_SYNC_MINUTES)
    phone_region: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")


class ListContactsQuery(BaseModel):
    """``GET list-contacts``: one page of Google contacts."""

    page_size: int = Field(default=100, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = Field(default=None, max_length=2000)


class RunsQuery(BaseModel):
    """``GET runs``: a page of the run history, newest first."""

    limit: int = Field(default=20, ge=1, le=MAX_RUNS_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_RUNS_OFFSET)
    # false: real runs only (the history); true: previews only; absent: both.
    dry_run: bool | None = None


class DuplicatesQuery(BaseModel):
    """``GET duplicates``: a page of the open duplicates."""

    limit: int = Field(default=MAX_DUPLICATES_LIMIT, ge=1, le=MAX_DUPLICATES_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_RUNS_OFFSET)


class LinksQuery(BaseModel):
    """``GET links``: comma-separated client ids (at most 200)."""

    client_ids: str = Field(pattern=r"^\s*[0-9]{1,10}(\s*,\s*[0-9]{1,10})*\s*$")


# --- answers' data ------------------------------------------------------------------------------


class AuthData(BaseModel):
    authenticated: bool
    service_available: bool
    account: str | None = None
    authorization_url: str | None = None
    redirect_uri: str | None = None
    reason: str | None = None


class StatusData(BaseModel):
    authenticated: bool
    service_available: bool
    credentials_file_exists: bool
    token_file_exists: bool
    token_valid: bool
    token_revoked: bool
    legacy_token_file_exists: bool
    google_reachable: bool | None
    account: str | None
    reason: str | None
    last_run: dict[str, Any] | None
    next_run: dict[str, Any] | None
    first_sync_pending: bool = Field(
        default=False, description="connected, but no person has applied the first sync yet"
    )
    accounts: list[AccountData] = Field(
        default_factory=list, description="every linked Google account (staff phones)"
    )


class ContactSummary(BaseModel):
    """A Google contact in the seed's list shape (ATARYS field names)."""

    google_id: str | None
    nom: str | None
    prenom: str | None
    email: str | None
    telephone: str | None
    adresse: str | None
    ville: str | None
    code_postal: str | None
    entreprise: str | None
    fonction: str | None
    etag: str | None
    account: str | None = Field(
        default=None, description="whose phone (several accounts and no ?account=)"
    )


class SetupStep(BaseModel):
    step: int
    title: str
    description: str
    url: str | None


class SetupData(BaseModel):
    steps: list[SetupStep]
    required_files: list[str]
    scopes: list[str]
    redirect_uri: str
    missing: list[str]
    ready: bool


class SyncToGoogleData(BaseModel):
    google_id: str | None
    action: str


class SyncFromGoogleData(BaseModel):
    client_id: int | None
    action: str
    google_id: str


class DirectionCounts(BaseModel):
    success: int
    errors: int
    created: int | None = None
    updated: int | None = None
    deleted: int | None = None
    linked: int | None = None


class RunResultData(BaseModel):
    """What ``sync-all`` did (or, for a dry run, would do: ``plan``)."""

    run_id: int
    dry_run: bool
    status: str
    atarys_to_google: DirectionCounts
    google_to_atarys: DirectionCounts
    conflicts: int
    duplicates: int
    plan: list[dict[str, Any]]
    breaker: list[str]
    errors: list[str]
    plan_id: str | None = Field(
        default=None, description="a dry run's plan, to apply exactly as previewed"
    )
    plan_expires_at: str | None = None
    changed_since_preview: list[dict[str, Any]] = Field(
        default_factory=list, description="items not applied: changed since the preview"
    )
    skipped: list[dict[str, Any]] = Field(
        default_factory=list, description="an undo's items left alone (changed since the run)"
    )


class MergeIn(BaseModel):
    """``POST duplicates/<id>/merge``: the record kept and each field's chosen value."""

    model_config = ConfigDict(extra="forbid")

    keep_client_id: int | None = Field(default=None, ge=1)
    keep_resource_name: str | None = Field(default=None, max_length=200)
    values: dict[str, str | None] = Field(default_factory=dict)


class UndoIn(BaseModel):
    """``POST runs/<run_id>/undo``: ``dry_run`` previews the undo as a plan to apply."""

    model_config = ConfigDict(extra="forbid")

    dry_run: StrictBool = False


class ApplyIn(BaseModel):
    """``POST plans/<plan_id>/apply``: write the previewed plan (``force`` past the breaker;
    ``async``: as a job, answered at once with the run to follow)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    force: StrictBool = False
    run_async: StrictBool = Field(default=False, alias="async")


class JobStatus(StrEnum):
    """A background run's state."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class Progress(BaseModel):
    done: int
    total: int | None


class JobError(BaseModel):
    """The synchronous error envelope of a failed background run, with its HTTP status."""

    status: int
    success: Literal[False]
    message: str
    data: Any = None
    errors: dict[str, str] | None = None
    reason: str | None = None
    retry_after: int | None = None


class JobData(BaseModel):
    """A background run (``{"async": true}``): its run row, read from the database."""

    run_id: int
    status: JobStatus
    dry_run: bool
    progress: Progress
    started_at: str
    finished_at: str | None
    result: dict[str, Any] | None = None
    error: JobError | None
    run: dict[str, Any] | None


class RunData(BaseModel):
    """One run of the history (``items``: its per-item changes, in the detail)."""

    run_id: int
    status: str
    trigger: str | None = None
    dry_run: bool
    progress: Progress | None = None


class LinkStatus(StrEnum):
    """A client's sync badge (the first that applies, in this order)."""

    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    ERROR = "error"
    EXCLUDED = "excluded"  # its contact was deleted on a phone: kept out until resumed
    DISCONNECTED = "disconnected"  # linked, but its Google account is disconnected
    PENDING = "pending"
    LINKED = "linked"
    UNLINKED = "unlinked"


class LinkState(BaseModel):
    client_id: int
    resource_name: str | None
    status: LinkStatus
    synced_at: str | None
    error: str | None = None


class SettingsData(BaseModel):
    account: str | None
    conflict_policy: ConflictPolicy
    google_deletions: DeletionSetting
    atarys_deletions: DeletionSetting
    import_scope: ImportScope
    auto_sync_minutes: int
    phone_region: str


class DisconnectData(BaseModel):
    disconnected: bool
    revoked: bool
    account: str | None = None


class ConflictData(BaseModel):
    id: int


class DuplicateRecord(BaseModel):
    """One record of a duplicate group, by name, with its fields."""

    side: Literal["atarys", "google"]
    client_id: int | None = None
    resource_name: str | None = None
    name: str
    fields: dict[str, str | None]


class DuplicateData(BaseModel):
    id: int
    records: list[DuplicateRecord] | None = None


class RetryData(BaseModel):
    """An item that failed and that the next synchronisations try again (with backoff)."""

    id: int
    client_id: int | None = None
    google_id: str | None = None
    name: str | None = None
    message: str | None = None
    attempts: int
    first_failed_at: str | None = None
    last_failed_at: str | None = None
    next_attempt_at: str | None = None


# --- several accounts ---------------------------------------------------------------------------


class AuthIn(BaseModel):
    """``POST auth``: the Google account to connect (pre-filled on Google's consent page)."""

    model_config = ConfigDict(extra="forbid")

    login_hint: str | None = Field(
        default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )


class ClientFilterIn(BaseModel):
    """Which clients go to an account's phone: every given criterion must match.

    ``ville``, ``entreprise``, ``tag``: equal, ignoring case and accents; ``code_postal``:
    a prefix ("69" takes every postal code starting with 69).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ville: str | None = Field(default=None, max_length=100)
    code_postal: str | None = Field(default=None, max_length=10, pattern=r"^[0-9A-Za-z ]*$")
    entreprise: str | None = Field(default=None, max_length=200)
    tag: str | None = Field(default=None, max_length=100)


class AccountIn(SettingsIn):
    """``PUT accounts/<id>``: settings to change and the client filter (``null``: all clients;
    absent: unchanged)."""

    client_filter: ClientFilterIn | None = None
    # a filter that takes contacts off this phone is only saved once a person confirmed it
    confirm_removals: bool = False


class LastRun(BaseModel):
    id: int
    status: str
    started_at: str | None
    finished_at: str | None
    message: str | None


class AccountData(BaseModel):
    """One Google account linked to ATARYS (a staff member's phone)."""

    id: int
    email: str
    mode: Literal["oauth", "workspace"]
    state: Literal["connected", "disconnected", "first_sync_pending"]
    connected: bool
    first_sync_pending: bool
    last_run: LastRun | None
    next_run: str | None
    last_error: str | None
    settings: dict[str, Any]
    client_filter: dict[str, str] | None
    linked_count: int


class AccountsData(BaseModel):
    accounts: list[AccountData]


class AccountRunData(BaseModel):
    """One account's part of a ``sync-all`` over every connected account."""

    account: str
    success: bool
    message: str
    result: dict[str, Any] | None = None


StatusData.model_rebuild()
