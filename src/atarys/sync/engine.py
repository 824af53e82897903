"""One sync run: read what changed, plan (pure core), check the breaker, execute.

``Engine.run`` is the whole algorithm in four steps, each in its own module:

1. ``reader.Reader`` reads the run's state from both sides and the store (cost grows
   with what changed, not with the size of the account);
2. ``core.planner.plan_run`` turns it into a typed ``Plan`` (pure; a dry run stops
   here and returns it);
3. the breaker verdict in the plan refuses a plan that deletes too much unless forced;
4. ``executor.Executor`` carries the plan out, batch by batch, checking each action's
   precondition, journaling every write; cursors (Google's sync token, the ATARYS
   watermark) move at the end of every run that was not interrupted: an item that
   failed goes to the retry list (``sync_pending``, with its error and attempts) and is
   read again by the next runs, so one failing item never freezes the cursors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from atarys.models import SyncRun
from atarys.sync.core.actions import A2G, G2A, Conflict, Duplicate, Plan
from atarys.sync.core.errors import MassDeletionError, SyncError
from atarys.sync.core.filters import ClientFilter
from atarys.sync.core.plan import PlanSettings
from atarys.sync.core.planner import RunState, plan_run
from atarys.sync.core.records import display_name, normalize_record
from atarys.sync.executor import DirectionCounts, Executor, Results
from atarys.sync.reader import ExtraCopy, Reader
from atarys.sync.sides.atarys_db import AtarysDbSide
from atarys.sync.sides.base import Side
from atarys.sync.store import Store

logger = logging.getLogger("atarys.sync.engine")

# A push of more edited clients than one update batch is a whole incremental run.
PUSH_LIMIT = 200


@dataclass
class Outcome:
    """The result of one engine run: the plan and what became of each action."""

    run: SyncRun
    plan: Plan = field(default_factory=Plan)
    results: Results = field(default_factory=Results)
    extra_copies: list[ExtraCopy] = field(default_factory=list)

    @property
    def a2g(self) -> DirectionCounts:
        return self.results.a2g

    @property
    def g2a(self) -> DirectionCounts:
        return self.results.g2a

    @property
    def errors(self) -> list[str]:
        return self.results.errors

    @property
    def conflicts(self) -> list[Conflict]:
        return self.results.conflicts if not self.run.dry_run else self.plan.conflicts()

    @property
    def duplicates(self) -> list[Duplicate]:
        return list(self.plan.duplicates)

    @property
    def breaker(self) -> list[str]:
        return list(self.plan.breaker)

    @property
    def planned(self) -> list[dict[str, object]]:
        """The plan's items as a person reads them: shown for a dry run only (an applied
        first sync would build one dict per client for nobody)."""
        return self.plan.items() if self.run.dry_run else []


class Engine:
    """Runs one sync of an account between the ATARYS database and a Google side."""

    def __init__(
        self,
        session: Session,
        store: Store,
        atarys: AtarysDbSide,
        google: Side,
        settings: PlanSettings,
        *,
        actions: logging.Logger,
        progress: Callable[[int, int], None] | None = None,
        lock_owner: str | None = None,
    ) -> None:
        self.session = session
        self.store = store
        self.atarys = atarys
        self.google = google
        self.settings = settings
        self.actions = actions
        self.progress_cb = progress
        self.lock_owner = lock_owner
        self._reader: Reader | None = None
        self._done = 0  # actions carried out, of ``_total`` (the run's progress)
        self._total = 0

    def _progress(self, out: Outcome, n: int) -> None:
        # counted here, not read back from the run row (it expires at every commit)
        self._done = min(self._done + n, self._total)
        out.run.progress_done = self._done
        if self.lock_owner:
            self.store.heartbeat(self.lock_owner)
        self.session.commit()
        if self.progress_cb is not None:
            self.progress_cb(self._done, self._total)

    def plan(
        self,
        out: Outcome,
        *,
        focus_client: str | None = None,
        focus_contact: str | None = None,
        push: bool = False,
    ) -> Reader:
        """Read and plan (steps 1 and 2); the plan lands in ``out.plan``. A ``push`` reads
        only the edited linked clients when it can (``Reader.read_pushed``)."""
        self.session.commit()  # no transaction held across the listing's network calls
        reader = Reader(
            self.store,
            self.atarys,
            self.google,
            self.settings.phone_region,
            ClientFilter.of(self.store.account.client_filter),
        )
        state: RunState | None = None
        if focus_client is not None:
            state = reader.read_client(focus_client)
        elif focus_contact is not None:
            state = reader.read_contact(focus_contact)
        elif push:
            state = reader.read_pushed(PUSH_LIMIT)
        if state is None:
            state = reader.read_all()
        if self.lock_owner:  # a long listing: show the run is alive
            self.store.heartbeat(self.lock_owner)
        out.plan = plan_run(state, self.settings)
        out.run.full_listing = out.plan.full_listing
        out.extra_copies = list(reader.extra_copies)
        self._reader = reader
        return reader

    def run(
        self,
        out: Outcome,
        *,
        dry_run: bool,
        force: bool,
        focus_client: str | None = None,
        focus_contact: str | None = None,
        plan: Plan | None = None,
        push: bool = False,
    ) -> Outcome:
        """Read, plan and execute; with ``plan`` (a previewed one), execute exactly it:
        an action whose side changed since the preview is reported, not re-planned."""
        applying = plan is not None
        self._reader = None
        if plan is None:
            reader = self.plan(
                out, focus_client=focus_client, focus_contact=focus_contact, push=push
            )
            links = reader.links
        else:
            out.plan = plan
            ids = [a.client_id for a in plan.actions if a.client_id]
            links = {str(lk.client_id): lk for lk in self.store.links_for_clients(ids)}
        plan = out.plan
        if dry_run:
            return out
        strict = applying
        if plan.breaker and not force:
            counts = {**plan.deletions, "linked": plan.linked}
            raise MassDeletionError(counts, list(plan.breaker))
        out.run.progress_total = self._total = len(plan.work)
        self._done = out.run.progress_done or 0
        self.session.commit()
        executor = Executor(
            self.session,
            self.store,
            self.atarys,
            self.google,
            self.settings,
            run=out.run,
            links=links,
            actions_log=self.actions,
            progress=lambda n: self._progress(out, n),
            strict=strict,
        )
        out.results = executor.execute(plan)
        if out.extra_copies:
            region = self.settings.phone_region
            executor.delete_extra_copies(
                [
                    (e.client_id, e.item.id, display_name(normalize_record(e.item.record, region)))
                    for e in out.extra_copies
                ]
            )
        self._keep_retries(out)
        duplicates = out.duplicates
        if duplicates or not plan.focused:
            self.store.record_duplicates(out.run, duplicates)
            out.run.duplicates = len(duplicates)
        if not plan.focused:
            seen = {(d.email_key, d.reason) for d in duplicates}
            for row in self.store.duplicates("open"):
                if (row.email_key, row.reason) not in seen:
                    row.status = "resolved"
            # the cursors move on: items that failed are in the retry list
            account = self.store.account
            if plan.google_cursor:
                account.sync_token = plan.google_cursor
            if plan.atarys_cursor is not None:
                account.atarys_watermark = datetime.fromisoformat(plan.atarys_cursor)
        self.store.flush_items()
        self.session.commit()
        return out

    def _keep_retries(self, out: Outcome) -> None:
        """Failed items go to the retry list (attempts counted); items written, or read
        again from the list without failing, leave it."""
        failed: set[tuple[str | None, str | None]] = set()
        done_c: set[str] = set()
        done_r: set[str] = set()
        for r in out.results.items:
            cid = r.client_id or r.action.client_id
            rn = r.resource_name or r.action.resource_name
            if r.status == "error":
                failed.add((cid, rn))
                self.store.add_retry(cid, rn, r.action.name, r.message or "")
            elif r.status == "changed":
                # left alone since the preview: the cursors move on, both sides are read
                # again by the next run (as the journal promises)
                failed.add((cid, rn))
                self.store.add_reread(cid, rn, r.action.name)
            elif r.status == "done":
                done_c |= {cid} if cid else set()
                done_r |= {rn} if rn else set()
        failed_c = {c for c, _ in failed if c}
        failed_r = {n for _, n in failed if n}
        done_c -= failed_c
        done_r -= failed_r
        reader = self._reader
        for row in reader.retried if reader is not None else []:
            cid = str(row.client_id) if row.client_id is not None else None
            if cid not in failed_c and row.resource_name not in failed_r:
                if cid:
                    done_c.add(cid)
                elif row.resource_name:
                    done_r.add(row.resource_name)
        self.store.clear_retries(done_c, done_r)


def summarize_calls(google: Any) -> dict[str, int]:
    counter = getattr(google, "counter", None)
    calls = getattr(counter, "calls", None)
    return dict(calls) if isinstance(calls, dict) else {}


__all__ = ["A2G", "G2A", "DirectionCounts", "Engine", "Outcome", "SyncError", "summarize_calls"]
