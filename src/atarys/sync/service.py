"""The sync's entry points for the API, the scheduler and the CLI: ``SyncService``.

Every method returns a typed result with ``to_dict()`` (JSON-serialisable) or raises a
``atarys.sync.errors`` error; translating those for HTTP or a terminal is the caller's job.
"""

from __future__ import annotations

import gc
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from atarys.google.connection import NotConnectedError as GoogleNotConnectedError
from atarys.models import (
    Client,
    GoogleAccount,
    SyncConflict,
    SyncDuplicate,
    SyncPlan,
    SyncRun,
    SyncRunItem,
    SyncTrash,
    utcnow,
)
from atarys.sync.core.actions import (
    CreateClient,
    CreateContact,
    DeleteClient,
    DeleteContact,
    Link,
    Plan,
    Unlink,
    Update,
    changes_between,
    format_plan,
)
from atarys.sync.core.errors import (
    AccountBusyError,
    ClientNotFound,
    ConflictNotFound,
    ContactNotFound,
    DuplicateNotFound,
    FirstSyncPendingError,
    InvalidChoiceError,
    MassDeletionError,
    NotConnectedError,
    PlanAlreadyApplied,
    PlanExpired,
    PlanNotFound,
    RunNotFound,
    SyncError,
    TrashItemNotFound,
)
from atarys.sync.core.options import (
    CONFLICT_POLICIES as POLICIES,
)
from atarys.sync.core.options import (
    DELETION_SETTINGS,
    ConflictPolicy,
    DeletionSetting,
    ImportScope,
)
from atarys.sync.core.plan import PlanSettings
from atarys.sync.core.records import (
    FIELDS,
    Record,
    display_name,
    normalize_record,
    normalize_value,
)
from atarys.sync.core.undo import JournalEntry, UndoState, plan_undo
from atarys.sync.engine import A2G, G2A, DirectionCounts, Engine, Outcome, summarize_calls
from atarys.sync.log import action_logger
from atarys.sync.reader import link_state
from atarys.sync.sides.atarys_db import AtarysDbSide
from atarys.sync.sides.base import Change, Side
from atarys.sync.sides.google import GoogleSide
from atarys.sync.signals import clients_written
from atarys.sync.store import Store, new_lock_owner

logger = logging.getLogger("atarys.sync.service")

PLAN_TTL = timedelta(minutes=30)  # a preview can be applied this long
AUTOMATIC_TRIGGERS = frozenset({"schedule", "poll", "push"})
SWITCH_DAYS = 30  # a decided conflict can be switched to the other value this long


def get_or_create_account(session: Session, email: str) -> GoogleAccount:
    """The account row for ``email`` (case-insensitive), added (flushed) when new."""
    key = email.strip().lower()
    account = session.scalars(
        select(GoogleAccount).where(func.lower(GoogleAccount.email) == key)
    ).first()
    if account is None:
        # Safe defaults for a new account: only the "ATARYS" label comes in; a contact
        # deleted on a phone keeps its client (excluded from the sync, never re-created);
        # a client deleted in ATARYS deletes its contact, a full copy kept in the trash.
        account = GoogleAccount(
            email=key,
            conflict_policy=ConflictPolicy.NEWEST,
            google_deletions=DeletionSetting.UNLINK,
            atarys_deletions=DeletionSetting.PROPAGATE,
            import_scope=ImportScope.GROUP,
            auto_sync_minutes=60,
            phone_region="FR",
            breaker_ratio=0.2,
            breaker_min=10,
        )
        session.add(account)
        session.flush()
    return account


def default_account(session: Session) -> GoogleAccount | None:
    """The first account ever connected, or ``None``."""
    return session.scalars(select(GoogleAccount).order_by(GoogleAccount.id)).first()


def plan_settings(account: GoogleAccount) -> PlanSettings:
    """The pure core's view of an account's settings (invalid values refused)."""
    if account.conflict_policy not in POLICIES:
        raise InvalidChoiceError(f"Politique de conflit inconnue : {account.conflict_policy}.")
    for value in (account.google_deletions, account.atarys_deletions):
        if value not in DELETION_SETTINGS:
            raise InvalidChoiceError(f"Réglage de suppression inconnu : {value}.")
    return PlanSettings(
        conflict_policy=ConflictPolicy(account.conflict_policy),
        google_deletions=DeletionSetting(account.google_deletions),
        atarys_deletions=DeletionSetting(account.atarys_deletions),
        phone_region=account.phone_region or "FR",
        breaker_ratio=account.breaker_ratio,
        breaker_min=account.breaker_min,
    )


@dataclass
class RunResult:
    """What ``sync_all`` did (or, in a dry run, would do)."""

    run_id: int
    dry_run: bool
    status: str
    atarys_to_google: DirectionCounts
    google_to_atarys: DirectionCounts
    conflicts: int
    open_conflicts: int
    duplicates: int
    plan: list[dict[str, Any]] = field(default_factory=list)
    breaker: list[str] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    duration_seconds: float | None = None
    full_listing: bool = False
    plan_id: str | None = None  # a dry run's plan, kept to be applied as previewed
    plan_expires_at: datetime | None = None
    changed_since_preview: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # left alone on purpose

    @property
    def text(self) -> str:
        """The plan as printable text (dry runs)."""
        return format_plan(self.plan)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "status": self.status,
            "atarys_to_google": self.atarys_to_google.to_dict(),
            "google_to_atarys": self.google_to_atarys.to_dict(),
            "conflicts": self.conflicts,
            "open_conflicts": self.open_conflicts,
            "duplicates": self.duplicates,
            "plan": self.plan if self.dry_run else [],
            "breaker": self.breaker,
            "api_calls": self.api_calls,
            "errors": self.errors[:50],
            "duration_seconds": self.duration_seconds,
            "full_listing": self.full_listing,
            "plan_id": self.plan_id,
            "plan_expires_at": self.plan_expires_at.isoformat() if self.plan_expires_at else None,
            "changed_since_preview": self.changed_since_preview,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class ItemResult:
    """What a one-item sync did: ``action`` is created/updated/unchanged/deleted/linked/conflict/..."""

    action: str
    client_id: int | None
    google_id: str | None
    run_id: int
    message: str = ""
    changes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "client_id": self.client_id,
            "google_id": self.google_id,
            "run_id": self.run_id,
            "message": self.message,
            "changes": self.changes,
        }


@dataclass(frozen=True)
class RunPage:
    items: list[SyncRun]
    total: int
    limit: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [r.to_dict() for r in self.items],
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
        }


@dataclass(frozen=True)
class RunDetail:
    run: SyncRun
    items: list[SyncRunItem]

    def to_dict(self) -> dict[str, Any]:
        data = self.run.to_dict()
        data["items"] = [i.to_dict() for i in self.items]
        return data


# A run that created or linked this many pairs refreshes PostgreSQL's statistics.
ANALYZE_AFTER_ROWS = 1000
_GC_LOCK = threading.Lock()
_GC_RUNS = 0  # runs of this process inside ``bulk_allocations``
_GC_SAVED: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def bulk_allocations() -> Iterator[None]:
    """The garbage collector tuned for a run: a first sync allocates millions of objects
    that live until its end (persons, items, actions), which the default thresholds scan
    again and again (about a quarter of its CPU). Objects older than the run are frozen
    out of the scans, and young collections wait for 50,000 allocations. Process-wide:
    the first run in sets it, the last one out puts the defaults back.
    """
    global _GC_RUNS, _GC_SAVED
    with _GC_LOCK:
        if _GC_RUNS == 0:
            _GC_SAVED = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(50_000, 20, 10)
        _GC_RUNS += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_RUNS -= 1
            if _GC_RUNS == 0:
                gc.set_threshold(*_GC_SAVED)
                gc.unfreeze()


class SyncService:
    """Sync of one Google account with ATARYS, through a session and a People API service.

    ``people`` may be ``None`` for reading runs, conflicts and duplicates; anything that
    needs Google then raises ``atarys.google.connection.NotConnectedError``. Tests may pass ``google_side`` (any
    ``Side``) instead of a People service.
    """

    def __init__(
        self,
        session: Session,
        account: GoogleAccount,
        people: Any,
        *,
        clock: Callable[[], datetime] = utcnow,
        log_dir: Path | None = None,
        google_side: Side | None = None,
        google_options: dict[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.account = account
        self.people = people
        self.clock = clock
        self.store = Store(session, account, clock=clock)
        self.actions = action_logger(log_dir)
        self._google_side = google_side
        self.google_options = dict(google_options or {})

    # --- sides ------------------------------------------------------------------------

    def google(self) -> Side:
        """The Google side (built once)."""
        if self._google_side is None:
            if self.people is None:
                # the connection's own error: the API edge already answers it (409)
                raise GoogleNotConnectedError()
            self._google_side = GoogleSide(
                self.people,
                region=self.account.phone_region or "FR",
                import_scope=self.account.import_scope,
                group=self.account.group_resource_name,
                budget=self.account.quota_per_minute,
                **self.google_options,
            )
        return self._google_side

    def atarys(self) -> AtarysDbSide:
        return AtarysDbSide(
            self.session, region=self.account.phone_region or "FR", clock=self.clock
        )

    def _prepare_google(self, *, create_group: bool) -> Side:
        google = self.google()
        if isinstance(google, GoogleSide) and google.group is None:
            group = google.ensure_group(create=create_group)
            if group and self.account.group_resource_name != group:
                self.account.group_resource_name = group
        return google

    # --- runs -------------------------------------------------------------------------

    def _run(
        self,
        *,
        trigger: str,
        dry_run: bool,
        force: bool,
        progress: Callable[[int, int], None] | None,
        focus_client: str | None = None,
        focus_contact: str | None = None,
        plan: Plan | None = None,
        run_id: int | None = None,
    ) -> Outcome:
        with bulk_allocations():
            out = self._run_locked(
                trigger=trigger,
                dry_run=dry_run,
                force=force,
                progress=progress,
                focus_client=focus_client,
                focus_contact=focus_contact,
                plan=plan,
                run_id=run_id,
            )
        if not dry_run:
            self._refresh_statistics(out)
            self._announce(out.results.written_clients)
        return out

    def _refresh_statistics(self, out: Outcome) -> None:
        """After a run that added thousands of rows (a first sync), PostgreSQL's planner
        statistics still describe empty tables: the next incremental run's query then
        took 16 s at 25,000 clients instead of 0.1 s (until autovacuum came round).
        ``ANALYZE`` the tables a run reads; about 0.1 s, and only after such a run."""
        made = sum(c.created + c.linked for c in (out.results.a2g, out.results.g2a))
        if made < ANALYZE_AFTER_ROWS or self.session.get_bind().dialect.name != "postgresql":
            return
        self.session.execute(text("ANALYZE clients, sync_links, sync_exclusions"))
        self.session.commit()

    def _announce(self, written: set[int]) -> None:
        """After commit: the clients this run wrote, for the other accounts to follow."""
        if written:
            clients_written.send(self, client_ids=sorted(written), origin=self.account.email)

    def _run_locked(
        self,
        *,
        trigger: str,
        dry_run: bool,
        force: bool,
        progress: Callable[[int, int], None] | None,
        focus_client: str | None = None,
        focus_contact: str | None = None,
        plan: Plan | None = None,
        run_id: int | None = None,
    ) -> Outcome:
        settings = plan_settings(self.account)
        google = self.google()
        owner = new_lock_owner()
        self.store.acquire_lock(owner)
        self._calls_before = summarize_calls(google)
        try:
            run = self.store.start_run(
                trigger=trigger, dry_run=dry_run, forced=force, run_id=run_id
            )
            out = Outcome(run)
            try:
                google = self._prepare_google(create_group=not dry_run)
                engine = Engine(
                    self.session,
                    self.store,
                    self.atarys(),
                    google,
                    settings,
                    actions=self.actions,
                    progress=progress,
                    lock_owner=owner,
                )
                engine.run(
                    out,
                    dry_run=dry_run,
                    force=force,
                    focus_client=focus_client,
                    focus_contact=focus_contact,
                    plan=plan,
                    push=trigger == "push",
                )
            except MassDeletionError as exc:
                self._finish(out, google, "refused", exc.message)
                raise
            except SyncError as exc:
                self._finish(out, google, "failed", exc.message)
                raise
            except Exception:  # re-raised below, once the run is closed as failed
                # whatever an item raised, the run ends (failed, said so) and the lock is freed
                logger.exception("run %s failed unexpectedly", out.run.id)
                self._finish(
                    out,
                    google,
                    "failed",
                    "Erreur inattendue pendant la synchronisation : rien n'est perdu, "
                    "relancez-la ; si elle échoue encore, transmettez le journal à l'assistance.",
                )
                raise
            status = "partial" if out.errors else "success"
            self._finish(out, google, status, None)
            return out
        finally:
            self.store.release_lock(owner)

    def _finish(self, out: Outcome, google: Side, status: str, message: str | None) -> None:
        if status in ("failed", "refused"):
            self.store.discard_items()
            self.session.rollback()
        if (
            isinstance(google, GoogleSide)
            and google.group
            and self.account.group_resource_name != google.group
        ):
            # the group was found (or created) again during the run
            self.account.group_resource_name = google.group
        run = out.run
        job = run.counts.get("job") if isinstance(run.counts, dict) else None
        run.counts = {A2G: out.a2g.to_dict(), G2A: out.g2a.to_dict()}
        if isinstance(job, dict):
            run.counts["job"] = job  # a job's row: what it was asked stays
        run.conflicts = len(out.conflicts)
        run.duplicates = len(out.duplicates)
        run.errors = out.a2g.errors + out.g2a.errors
        before = getattr(self, "_calls_before", {})
        run.api_calls = {
            k: v - before.get(k, 0)
            for k, v in summarize_calls(google).items()
            if v - before.get(k, 0)
        }
        if status == "success" and not run.dry_run:
            run.progress_done = run.progress_total
            if not out.plan.focused:
                self.account.first_sync_pending = False  # a person's run did the first sync
        self.store.finish_run(run, status=status, error_message=message)
        self.session.commit()
        self.actions.info(
            "run=%s end status=%s a2g=%s g2a=%s calls=%s",
            run.id,
            status,
            out.a2g.to_dict(),
            out.g2a.to_dict(),
            run.api_calls,
        )

    def _result(self, out: Outcome) -> RunResult:
        run = out.run
        return RunResult(
            run_id=run.id,
            dry_run=run.dry_run,
            status=run.status,
            atarys_to_google=out.a2g,
            google_to_atarys=out.g2a,
            conflicts=len(out.conflicts),
            open_conflicts=sum(1 for c in out.conflicts if c.winner is None),
            duplicates=len(out.duplicates),
            plan=out.planned,
            breaker=out.breaker,
            api_calls=dict(run.api_calls or {}),
            errors=list(out.errors),
            duration_seconds=run.duration_seconds,
            full_listing=run.full_listing,
        )

    def sync_all(
        self,
        *,
        dry_run: bool = False,
        force: bool = False,
        trigger: str = "manual",
        progress: Callable[[int, int], None] | None = None,
        run_id: int | None = None,
    ) -> RunResult:
        """Sync every change both ways (a dry run plans and reports without writing).

        ``run_id``: the queued ``sync_runs`` row of a job, which this run takes over.

        A dry run keeps its plan (``plan_id``) so ``apply_plan`` can write exactly it.
        Automatic runs (schedule, poll) refuse an account whose first sync no person has
        applied yet: connecting writes nothing.
        """
        if not dry_run and trigger in AUTOMATIC_TRIGGERS and self.account.first_sync_pending:
            raise FirstSyncPendingError()
        out = self._run(
            trigger=trigger, dry_run=dry_run, force=force, progress=progress, run_id=run_id
        )
        result = self._result(out)
        if dry_run:
            result.plan_id, result.plan_expires_at = self._keep_plan(out.plan)
        return result

    def _keep_plan(
        self, plan: Plan, *, kind: str = "sync", source_run_id: int | None = None
    ) -> tuple[str, datetime]:
        now = self.clock()
        row = SyncPlan(
            id=uuid.uuid4().hex,
            account_id=self.account.id,
            kind=kind,
            source_run_id=source_run_id,
            status="pending",
            plan=plan.model_dump(mode="json"),
            created_at=now,
            expires_at=now + PLAN_TTL,
        )
        self.session.add(row)
        self.session.commit()
        return row.id, row.expires_at

    def plan_trigger(self, plan_id: str) -> str:
        """The run trigger of a previewed plan that may still be applied (``apply``,
        ``undo`` or ``merge``); raises what ``apply_plan`` would."""
        return self._pending_plan(plan_id)[1]

    def _pending_plan(self, plan_id: str) -> tuple[SyncPlan, str]:
        row = self.session.get(SyncPlan, plan_id)
        if row is None or row.account_id != self.account.id:
            raise PlanNotFound()
        if row.status != "pending":
            raise PlanAlreadyApplied()
        if row.expires_at < self.clock():
            raise PlanExpired()
        return row, {"undo": "undo", "merge": "merge"}.get(row.kind, "apply")

    def apply_plan(
        self,
        plan_id: str,
        *,
        force: bool = False,
        progress: Callable[[int, int], None] | None = None,
        run_id: int | None = None,
    ) -> RunResult:
        """Write a previewed plan exactly as shown, once, within 30 minutes.

        An item whose client or contact changed since the preview is not written: it is
        listed in ``changed_since_preview`` (kept on the run row too, for a background
        apply's answer) and the next sync plans it again. ``run_id``: the queued row of a
        job, which the run takes over.
        """
        row, trigger = self._pending_plan(plan_id)
        taken = self.session.execute(
            update(SyncPlan)
            .where(SyncPlan.id == plan_id, SyncPlan.status == "pending")
            .values(status="applied")
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
        if getattr(taken, "rowcount", 0) != 1:
            raise PlanAlreadyApplied()  # a second click won the race
        plan = Plan.model_validate(row.plan)
        try:
            out = self._run(
                trigger=trigger,
                dry_run=False,
                force=force,
                progress=progress,
                plan=plan,
                run_id=run_id,
            )
        except (
            AccountBusyError,
            MassDeletionError,
            NotConnectedError,
            GoogleNotConnectedError,
            FirstSyncPendingError,
        ):
            # nothing was written: the plan can still be applied
            self.session.execute(
                update(SyncPlan).where(SyncPlan.id == plan_id).values(status="pending")
            )
            self.session.commit()
            raise
        self.session.execute(
            update(SyncPlan).where(SyncPlan.id == plan_id).values(applied_run_id=out.run.id)
        )
        self.session.commit()
        result = self._result(out)
        result.changed_since_preview = [
            {**r.action.summary(), "message": r.message}
            for r in out.results.items
            if r.status == "changed"
        ]
        if result.changed_since_preview:
            out.run.counts = {
                **out.run.counts,
                "changed_since_preview": result.changed_since_preview,
            }
            self.session.commit()
        return result

    def _item_result(self, out: Outcome, focus: str, default: str) -> ItemResult:
        run_id = out.run.id
        action = next(
            (a for a in out.plan.actions if focus in (a.client_id, a.resource_name)), None
        )
        if action is None:
            dup = out.duplicates[0] if out.duplicates else None
            if dup is not None:
                return ItemResult("duplicate", None, None, run_id, f"doublon : {dup.email_key}")
            link = (
                self.store.link_for_client(int(focus))
                if focus.isdigit()
                else self.store.link_for_contact(focus)
            )
            if link is not None:
                return ItemResult(default, link.client_id, link.resource_name, run_id)
            return ItemResult(default, None, None, run_id)
        result = next((r for r in out.results.items if r.action.key == action.key), None)
        client_id = (result.client_id if result else None) or action.client_id
        resource_name = (result.resource_name if result else None) or action.resource_name
        changes: dict[str, Any] = {
            "to_atarys": {k: c.model_dump() for k, c in action.to_atarys.items()},
            "to_google": {k: c.model_dump() for k, c in action.to_google.items()},
        }
        verb: str
        if (result is not None and result.status == "error") or (out.errors and result is None):
            verb = "error"
        elif isinstance(action, CreateContact | CreateClient):
            verb = "created"
        elif isinstance(action, Link):
            verb = "linked"
        elif isinstance(action, DeleteContact | DeleteClient):
            verb = "deleted"
        elif isinstance(action, Unlink):
            verb = "unlinked"
        elif any(c.winner is None for c in action.conflicts_of()):
            verb = "conflict"
        elif action.to_google or action.to_atarys:
            verb = "updated"
        else:
            verb = "unchanged"
        return ItemResult(
            verb,
            int(client_id) if client_id and client_id.isdigit() else None,
            resource_name,
            run_id,
            action.comment,
            changes,
        )

    def sync_client_to_google(self, client_id: int) -> ItemResult:
        """Sync one client now (its pair only); ``ClientNotFound`` if it never existed."""
        if self.session.get(Client, client_id) is None:
            raise ClientNotFound(client_id)
        out = self._run(
            trigger="client", dry_run=False, force=True, progress=None, focus_client=str(client_id)
        )
        return self._item_result(out, str(client_id), "unchanged")

    def sync_contact_from_google(self, resource_name: str) -> ItemResult:
        """Sync one contact now (its pair only); ``ContactNotFound`` if Google and we know nothing."""
        known = self.store.link_for_contact(resource_name) is not None
        out = self._run(
            trigger="contact", dry_run=False, force=True, progress=None, focus_contact=resource_name
        )
        found = any(resource_name == a.resource_name for a in out.plan.actions)
        if not found and not out.duplicates and not known:
            raise ContactNotFound(resource_name)
        return self._item_result(out, resource_name, "unchanged")

    # --- undo -------------------------------------------------------------------------

    def undo_run(self, run_id: int, *, dry_run: bool = True) -> RunResult:
        """Undo a run: a preview (``dry_run``, kept as a plan to apply) or at once.

        Every record the run touched goes back to where it was before the change it
        carried, on both sides; what changed since is listed, not overwritten.
        """
        run = self.session.get(SyncRun, run_id)
        if run is None or run.account_id != self.account.id or run.dry_run:
            raise RunNotFound(run_id)
        trash = self.store.trash_of_run(run_id)
        entries = [
            JournalEntry(
                direction=row.direction,
                action=row.action,
                client_id=str(row.client_id) if row.client_id is not None else None,
                resource_name=row.resource_name,
                name=row.name or "",
                changes={
                    k: (v.get("before"), v.get("after"))
                    for k, v in (row.changes or {}).items()
                    if isinstance(v, dict)
                },
                trash_id=trash.get(row.resource_name or "")
                if row.action == "deleted" and row.direction == A2G
                else None,
            )
            for row in self.store.run_items(run_id)
        ]
        cids = sorted({e.client_id for e in entries if e.client_id})
        links = {str(lk.client_id): lk for lk in self.store.links_for_clients(cids)}
        rns = sorted(
            {e.resource_name for e in entries if e.resource_name}
            | {lk.resource_name for lk in links.values()}
        )
        google = self._prepare_google(create_group=False)
        state = UndoState(
            clients=self.atarys().get_any(cids),
            contacts=google.get(rns) if rns else {},
            links={cid: link_state(lk) for cid, lk in links.items()},
        )
        plan = plan_undo(entries, state, region=self.account.phone_region or "FR")
        plan_id, expires = self._keep_plan(plan, kind="undo", source_run_id=run_id)
        if not dry_run:
            result = self.apply_plan(plan_id)
        else:
            preview = self.store.start_run(trigger="undo", dry_run=True, forced=False)
            self.store.finish_run(preview, status="success")
            self.session.commit()
            result = RunResult(
                run_id=preview.id,
                dry_run=True,
                status="success",
                atarys_to_google=DirectionCounts(),
                google_to_atarys=DirectionCounts(),
                conflicts=0,
                open_conflicts=0,
                duplicates=0,
                plan=plan.items(),
                plan_id=plan_id,
                plan_expires_at=expires,
            )
        result.skipped = [s.summary() for s in plan.skipped]
        return result

    # --- merging a duplicate ---------------------------------------------------------------

    def merge_duplicate(
        self,
        duplicate_id: int,
        *,
        keep_client_id: int | None,
        keep_resource_name: str | None,
        values: dict[str, str | None],
    ) -> RunResult:
        """Merge the records of a reported duplicate into one person, written to both sides.

        The kept client and contact (the one chosen, and its counterpart in the group)
        get the chosen values and are linked; every other record of the group goes to a
        trash (clients soft-deleted, contacts deleted with a full copy kept). The merge is
        a run with a journal, so it can be undone.
        """
        row = self.session.get(SyncDuplicate, duplicate_id)
        if row is None or row.account_id != self.account.id or row.status != "open":
            raise DuplicateNotFound(duplicate_id)
        region = self.account.phone_region or "FR"
        cids = [str(c) for c in row.client_ids or []]
        rns = list(row.resource_names or [])
        keep_c = str(keep_client_id) if keep_client_id is not None else None
        if keep_c is None and len(cids) == 1:
            keep_c = cids[0]
        links = {str(lk.client_id): lk for lk in self.store.links_for_clients(cids)}
        keep_g = keep_resource_name
        if keep_g is None and keep_c is not None and keep_c in links:
            keep_g = links[keep_c].resource_name
        if keep_g is None and rns:
            keep_g = rns[0]
        if (keep_c is not None and keep_c not in cids) or (keep_g is not None and keep_g not in rns
                                                            and not (keep_c in links and links[keep_c].resource_name == keep_g)):  # fmt: skip
            raise InvalidChoiceError("La fiche à garder ne fait pas partie de ce doublon.")
        google = self._prepare_google(create_group=True)
        clients = self.atarys().get_any(cids)
        all_rns = sorted(set(rns) | {lk.resource_name for lk in links.values()})
        contacts = google.get(all_rns) if all_rns else {}
        target = normalize_record(Record.from_dict(values), region)
        actions: list[Any] = []
        for cid in cids:
            item = clients.get(cid)
            if cid == keep_c or item is None or item.deleted:
                continue
            actions.append(
                DeleteClient(
                    client_id=cid,
                    resource_name=links[cid].resource_name if cid in links else None,
                    name=display_name(normalize_record(item.record, region)),
                    comment="fusion : fiche en double",
                    atarys_etag=item.etag,
                    snapshot=normalize_record(item.record, region),
                )
            )
        for rn in rns:
            contact = contacts.get(rn)
            if rn == keep_g or contact is None:
                continue
            owner = next((c for c, lk in links.items() if lk.resource_name == rn), None)
            actions.append(
                DeleteContact(
                    client_id=owner if owner != keep_c else None,
                    resource_name=rn,
                    name=display_name(normalize_record(contact.record, region)),
                    comment="fusion : contact en double",
                    google_etag=contact.etag,
                    snapshot=normalize_record(contact.record, region),
                )
            )
        kept_client = clients.get(keep_c or "")
        kept_contact = contacts.get(keep_g or "")
        if kept_client is not None and kept_contact is not None:
            a = normalize_record(kept_client.record, region)
            g = normalize_record(kept_contact.record, region)
            link = links.get(keep_c or "")
            common: dict[str, Any] = {
                "client_id": keep_c,
                "resource_name": keep_g,
                "name": display_name(target),
                "comment": "fusion : valeurs choisies",
                "atarys_etag": kept_client.etag,
                "atarys_updated": kept_client.updated,
                "google_etag": kept_contact.etag,
                "atarys": a,
                "google": g,
                "merged": target,
                "atarys_changes": changes_between(a, target),
                "google_changes": changes_between(g, target),
                "write_hint": kept_contact.hint != keep_c,
            }
            if link is not None and link.resource_name == keep_g:
                actions.append(Update(**common, snapshot=Record.from_dict(link.snapshot)))
            else:
                if link is not None:  # the kept client leaves its old contact for this one
                    actions.append(
                        Unlink(client_id=keep_c, resource_name=link.resource_name,
                               name=display_name(a), deleted_in="google", exclude=False)
                    )  # fmt: skip
                actions.append(Link(**common, snapshot=Record(), how="email"))
        elif kept_contact is not None:
            # a contact only: it becomes a client with the chosen values, written back too
            actions.append(
                CreateClient(
                    resource_name=keep_g,
                    name=display_name(target),
                    comment="fusion : valeurs choisies",
                    google_etag=kept_contact.etag,
                    record=target,
                    contact=normalize_record(kept_contact.record, region),
                )
            )
        plan = Plan(actions=tuple(actions), focused=True)
        plan_id, _ = self._keep_plan(plan, kind="merge")
        result = self.apply_plan(plan_id)
        row.status = "merged"
        self.session.commit()
        return result

    # --- excluded clients -----------------------------------------------------------------

    def resume_client(self, client_id: int) -> bool:
        """Turn a client's sync back on (it was excluded when its contact was deleted in
        Google); the next sync links or re-creates its contact. False if it was not excluded."""
        if self.session.get(Client, client_id) is None:
            raise ClientNotFound(client_id)
        resumed = self.store.resume(client_id)
        self.session.commit()
        return resumed

    # --- the trash ----------------------------------------------------------------------

    def list_trash(self) -> list[SyncTrash]:
        """Google contacts the sync deleted in the last 30 days (full copies kept)."""
        return self.store.trash()

    def restore_contact(self, trash_id: int) -> ItemResult:
        """Create a deleted contact again from its copy (every field) and link it back to
        its client when that client is live and unlinked; the restore is a run of its own."""
        row = self.store.trash_item(trash_id)
        if row is None or row.restored_at is not None:
            raise TrashItemNotFound(trash_id)
        owner = new_lock_owner()
        self.store.acquire_lock(owner)
        try:
            google = self._prepare_google(create_group=True)
            run = self.store.start_run(trigger="restore", dry_run=False, forced=False)
            client = self.session.get(Client, row.client_id) if row.client_id else None
            linked = client is not None and self.store.link_for_client(client.id) is not None
            live = client is not None and client.deleted_at is None and not linked
            hint = str(row.client_id) if live and row.client_id else None
            item = google.restore(row.person, hint)
            if live and client is not None:
                region = self.account.phone_region or "FR"
                self.store.add_link(
                    client.id, item.id, item.etag, normalize_record(item.record, region),
                    client.updated_at,
                )  # fmt: skip
            row.restored_at = self.clock()
            row.restored_as = item.id
            self.store.add_item(
                run,
                direction=A2G,
                action="created",
                client_id=row.client_id,
                resource_name=item.id,
                message="contact restauré depuis la corbeille",
                name=row.name,
            )
            run.counts = {A2G: {"created": 1, "success": 1}, G2A: {}}
            self.store.finish_run(run, status="success")
            self.session.commit()
        except SyncError:
            self.session.rollback()
            raise
        finally:
            self.store.release_lock(owner)
        return ItemResult("created", row.client_id, item.id, run.id, "contact restauré")

    # --- conflicts, duplicates, runs ----------------------------------------------------

    def list_conflicts(self, status: str | None = "open") -> list[SyncConflict]:
        return self.store.conflicts(status)

    def list_duplicates(self, status: str | None = "open") -> list[SyncDuplicate]:
        return self.store.duplicates(status)

    def list_runs(self, limit: int = 20, offset: int = 0) -> RunPage:
        rows, total = self.store.runs(limit, offset)
        return RunPage(rows, total, limit, offset)

    def get_run(self, run_id: int) -> RunDetail:
        run = self.session.get(SyncRun, run_id)
        if run is None or run.account_id != self.account.id:
            raise RunNotFound(run_id)
        return RunDetail(run, self.store.run_items(run_id))

    def resolve_conflict(
        self, conflict_id: int, *, choice: str, value: str | None = None
    ) -> SyncConflict:
        """Settle a conflict: keep ATARYS' value, Google's, or a given one, on both sides.

        An open conflict, or one a rule decided in the last 30 days: the value it replaced
        is kept, so a person can switch the decision back.
        """
        conflict = self.store.conflict(conflict_id)
        switchable = (
            conflict is not None
            and conflict.status == "resolved"
            and conflict.resolved_at is not None
            and conflict.resolved_at >= self.clock() - timedelta(days=SWITCH_DAYS)
        )
        if conflict is None or (conflict.status != "open" and not switchable):
            raise ConflictNotFound(conflict_id)
        if choice not in ("atarys", "google", "value"):
            raise InvalidChoiceError("Choix invalide : atarys, google ou value.")
        chosen = (
            conflict.atarys_value
            if choice == "atarys"
            else conflict.google_value
            if choice == "google"
            else value
        )
        region = self.account.phone_region or "FR"
        chosen = normalize_value(conflict.field, chosen, region)
        link = (
            self.store.link_for_client(conflict.client_id)
            if conflict.client_id is not None
            else None
        )
        if link is not None:
            owner = new_lock_owner()
            self.store.acquire_lock(owner)
            try:
                google = self.google()
                atarys = self.atarys()
                a_item = atarys.get([str(link.client_id)]).get(str(link.client_id))
                g_item = google.get([link.resource_name]).get(link.resource_name)
                if a_item is not None:
                    target = a_item.record.with_values({conflict.field: chosen})
                    atarys.update([Change(a_item.id, a_item.etag, target)])
                etag = link.etag
                if g_item is not None:
                    target = g_item.record.with_values({conflict.field: chosen})
                    etag = google.update(
                        [Change(g_item.id, g_item.etag, target, hint=str(link.client_id))]
                    )[0].etag
                snapshot = Record.from_dict(link.snapshot).with_values({conflict.field: chosen})
                self.store.set_link(link, snapshot=snapshot, etag=etag)
            except SyncError:
                self.session.rollback()
                raise
            finally:
                self.session.commit()
                self.store.release_lock(owner)
        conflict.status = "resolved"
        conflict.resolution = choice
        conflict.resolved_value = chosen
        conflict.resolved_at = self.clock()
        self.session.commit()
        self.actions.info(
            "conflict=%s resolved choice=%s field=%s", conflict.id, choice, conflict.field
        )
        return conflict


__all__ = [
    "FIELDS",
    "ItemResult",
    "RunDetail",
    "RunPage",
    "RunResult",
    "SyncService",
    "default_account",
    "get_or_create_account",
    "plan_settings",
]
