"""The link and status store: links, runs and their items, conflicts, duplicates, the lock.

Everything the engine remembers between runs lives in the ``sync_*`` tables and the
``google_accounts`` row; this module is the only one writing them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy import false as sa_false
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from atarys.models import (
    Client,
    GoogleAccount,
    SyncConflict,
    SyncDuplicate,
    SyncExclusion,
    SyncLink,
    SyncPending,
    SyncRun,
    SyncRunItem,
    SyncTrash,
    utcnow,
)
from atarys.sync.core.actions import Conflict as FieldConflict
from atarys.sync.core.actions import Duplicate
from atarys.sync.core.errors import AccountBusyError
from atarys.sync.core.records import Record, name_key

LOCK_STALE_AFTER = timedelta(seconds=30)  # SQLite: a lock not refreshed for this long is dead
TRASH_DAYS = 30  # how long the sync keeps what it deleted
HEARTBEAT_EVERY = 5.0  # seconds between two refreshes of a held lock (SQLite)
# A create whose answer was lost holds its client back this long (Google's listings may
# not show the new contact yet); after it, a full listing without the contact proves it
# was never made.
IN_DOUBT_HOLD = timedelta(minutes=10)
RETRY_BACKOFF_MAX = timedelta(hours=6)
# The exclusion reason of a client outside the account's filter (a cache of the filter's
# verdict: an incremental run does not read those clients again until they change).
FILTER_REASON = "hors du filtre du compte"

logger = logging.getLogger("atarys.sync.store")


class EmailHolders(NamedTuple):
    """The linked pairs whose live client holds some e-mails (lower case)."""

    links: dict[str, SyncLink]
    """E-mail → a link holding it."""
    names: dict[str, frozenset[str]]
    """E-mail → who holds it: the ``name_key`` of each linked pair's snapshot."""
    ids: dict[str, dict[str, str]]
    """E-mail → the linked clients holding it: client id → ``name_key`` of its snapshot."""


def new_lock_owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lock_key(owner: str) -> int:
    """A signed 64-bit advisory-lock key for an owner."""
    digest = hashlib.blake2b(owner.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Liveness:
    """Proof that a lock's owner is alive, held for as long as it runs."""

    def __init__(self, conn: Connection | None, thread: threading.Thread | None) -> None:
        self.conn = conn
        self.thread = thread
        self.stopped = threading.Event()

    @classmethod
    def start(cls, bind: Engine | Connection, owner: str, account_id: int) -> _Liveness:
        engine = bind.engine
        if engine.dialect.name == "postgresql":
            conn = engine.connect()
            conn.detach()  # its own session for the run's whole life, closed (not pooled) at stop
            # never waits: owners are unique (host, pid, random); a key already held means
            # this owner's liveness is proven by another connection
            conn.execute(select(func.pg_try_advisory_lock(_lock_key(owner))))
            conn.commit()
            return cls(conn, None)
        live = cls(None, None)

        def beat() -> None:
            while not live.stopped.wait(HEARTBEAT_EVERY):
                try:
                    with engine.begin() as conn:
                        conn.execute(
                            update(GoogleAccount)
                            .where(
                                GoogleAccount.id == account_id, GoogleAccount.lock_owner == owner
                            )
                            .values(lock_heartbeat=utcnow())
                        )
                except SQLAlchemyError:  # busy database: the next beat tries again
                    logger.warning("run lock heartbeat missed", exc_info=False)

        live.thread = threading.Thread(target=beat, name=f"lock-{owner}", daemon=True)
        live.thread.start()
        return live

    def stop(self) -> None:
        self.stopped.set()
        if self.conn is not None:
            try:
                self.conn.execute(select(func.pg_advisory_unlock_all()))
                self.conn.commit()
            finally:
                self.conn.close()


_LIVE: dict[str, _Liveness] = {}  # lock owner → its liveness, in this process


def stop_all_liveness() -> None:
    """Stop proving every lock owner of this process alive (shutdown, tests' teardown)."""
    while _LIVE:
        _, live = _LIVE.popitem()
        live.stop()


class Store:
    """The sync tables of one account, through the engine's session."""

    def __init__(
        self, session: Session, account: GoogleAccount, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.session = session
        self.account = account
        # read once: the account object expires at every commit (one per batch), and
        # reading its id again would load its row again
        self.account_id: int = account.id
        self.clock = clock
        self._items: list[dict[str, Any]] = []  # journal rows not inserted yet

    # --- lock -------------------------------------------------------------------------

    def acquire_lock(self, owner: str) -> None:
        """Take the account's run lock (committed) or raise ``AccountBusyError``.

        The lock is the account row's ``lock_owner``, taken by a conditional UPDATE
        (atomic on SQLite and PostgreSQL alike). It stays held while its owner lives:
        on PostgreSQL the owner holds a session advisory lock on a connection of its
        own (freed by the server when the process dies, so a crashed run's lock is
        taken over at once); on SQLite a thread refreshes ``lock_heartbeat`` every
        ``HEARTBEAT_EVERY`` and a lock older than ``LOCK_STALE_AFTER`` belonged to a
        dead process. Runs a dead process left ``running`` are marked ``interrupted``.
        """
        now = self.clock()
        row = self.session.execute(
            select(GoogleAccount.lock_owner, GoogleAccount.lock_heartbeat).where(
                GoogleAccount.id == self.account_id
            )
        ).one()
        holder, beat = row
        stale = holder is not None and (
            self._holder_dead(holder)
            if self._postgres
            else beat is None or beat < now - LOCK_STALE_AFTER
        )
        condition = (
            GoogleAccount.lock_owner.is_(None)
            if holder is None
            else GoogleAccount.lock_owner == holder
            if stale
            else sa_false()
        )
        # Prove this owner alive *before* its name is on the row: a competitor that reads
        # the row must never find the owner's advisory lock free (and take over).
        previous = _LIVE.pop(owner, None)
        if previous is not None:
            previous.stop()
        live = _Liveness.start(self.session.get_bind(), owner, self.account_id)
        result = self.session.execute(
            update(GoogleAccount)
            .where(GoogleAccount.id == self.account_id, condition)
            .values(lock_owner=owner, lock_heartbeat=now)
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
        if getattr(result, "rowcount", 0) != 1:
            live.stop()
            raise AccountBusyError()
        _LIVE[owner] = live
        self.session.execute(
            update(SyncRun)
            .where(SyncRun.account_id == self.account_id, SyncRun.status == "running")
            .values(
                status="interrupted",
                finished_at=now,
                error_message="Synchronisation interrompue (arrêt du serveur) : "
                "relancez-la, rien n'a été perdu.",
            )
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
        self.session.refresh(self.account)

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _holder_dead(self, holder: str) -> bool:
        """PostgreSQL: the holder's advisory lock is free, so its session is gone."""
        key = _lock_key(holder)
        got = self.session.scalar(select(func.pg_try_advisory_lock(key)))
        if got:
            self.session.scalar(select(func.pg_advisory_unlock(key)))
        return bool(got)

    def heartbeat(self, owner: str) -> None:
        self.session.execute(
            update(GoogleAccount)
            .where(GoogleAccount.id == self.account_id, GoogleAccount.lock_owner == owner)
            .values(lock_heartbeat=self.clock())
            .execution_options(synchronize_session=False)
        )

    def release_lock(self, owner: str) -> None:
        live = _LIVE.pop(owner, None)
        if live is not None:
            live.stop()
        self.session.rollback()
        self.session.execute(
            update(GoogleAccount)
            .where(GoogleAccount.id == self.account_id, GoogleAccount.lock_owner == owner)
            .values(lock_owner=None, lock_heartbeat=None)
            .execution_options(synchronize_session=False)
        )
        self.session.commit()

    # --- links ------------------------------------------------------------------------

    def links(self) -> list[SyncLink]:
        return list(
            self.session.scalars(select(SyncLink).where(SyncLink.account_id == self.account_id))
        )

    def link_count(self) -> int:
        query = select(func.count()).select_from(SyncLink)
        return self.session.scalar(query.where(SyncLink.account_id == self.account_id)) or 0

    def links_for_clients(self, client_ids: Iterable[str]) -> list[SyncLink]:
        """The links of these clients (an indexed query per 500 ids)."""
        keys = sorted({int(i) for i in client_ids if i.isdigit()})
        return self._links_where(SyncLink.client_id, keys)

    def links_for_contacts(self, resource_names: Iterable[str]) -> list[SyncLink]:
        return self._links_where(SyncLink.resource_name, sorted(set(resource_names)))

    def _links_where(self, column: Any, keys: list[Any]) -> list[SyncLink]:
        found: list[SyncLink] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            found += self.session.scalars(
                select(SyncLink).where(SyncLink.account_id == self.account_id, column.in_(chunk))
            )
        return found

    def links_by_client_email(self, emails: Iterable[str]) -> EmailHolders:
        """The links whose live client holds one of these e-mails, and who holds each
        (several people may share a company's address): one query per 500 e-mails."""
        keys = sorted({e.lower() for e in emails if e})
        links: dict[str, SyncLink] = {}
        names: dict[str, set[str]] = {}
        ids: dict[str, dict[str, str]] = {}
        for start in range(0, len(keys), 500):
            rows = self.session.execute(
                select(func.lower(Client.email), SyncLink)
                .join(SyncLink, SyncLink.client_id == Client.id)
                .where(
                    SyncLink.account_id == self.account_id,
                    Client.deleted_at.is_(None),
                    func.lower(Client.email).in_(keys[start : start + 500]),
                )
            )
            for email, link in rows:
                links[email] = link
                name = name_key(Record.from_dict(link.snapshot or {}))
                names.setdefault(email, set()).add(name)
                ids.setdefault(email, {})[str(link.client_id)] = name
        return EmailHolders(
            links,
            {email: frozenset(n) for email, n in names.items()},
            ids,
        )

    def unlinked_client_ids(self) -> list[str]:
        """Live clients with no link in this account and not excluded (anti-joins)."""
        linked = select(SyncLink.id).where(
            SyncLink.account_id == self.account_id, SyncLink.client_id == Client.id
        )
        excluded = select(SyncExclusion.id).where(
            SyncExclusion.account_id == self.account_id, SyncExclusion.client_id == Client.id
        )
        rows = self.session.scalars(
            select(Client.id).where(
                Client.deleted_at.is_(None), ~linked.exists(), ~excluded.exists()
            )
        )
        return [str(i) for i in rows]

    def exclude(self, client_id: str, reason: str) -> None:
        """Keep a client out of the sync (never re-created in Google) until resumed."""
        if not client_id.isdigit() or self.excluded(int(client_id)):
            return
        self.session.add(
            SyncExclusion(
                account_id=self.account_id,
                client_id=int(client_id),
                reason=reason,
                created_at=self.clock(),
            )
        )

    def excluded(self, client_id: int) -> bool:
        return (
            self.session.scalars(
                select(SyncExclusion.id).where(
                    SyncExclusion.account_id == self.account_id,
                    SyncExclusion.client_id == client_id,
                )
            ).first()
            is not None
        )

    def filter_excluded(self, client_ids: Iterable[str]) -> set[str]:
        """Which of these clients are kept out of this account by its filter."""
        keys = [int(i) for i in client_ids if str(i).isdigit()]
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            rows = self.session.scalars(
                select(SyncExclusion.client_id).where(
                    SyncExclusion.account_id == self.account_id,
                    SyncExclusion.reason == FILTER_REASON,
                    SyncExclusion.client_id.in_(keys[start : start + 500]),
                )
            )
            found |= {str(r) for r in rows if r is not None}
        return found

    def clear_filter_exclusions(self, client_ids: Iterable[str] | None = None) -> None:
        """Forget the filter's verdicts (all of them: the filter changed)."""
        query = delete(SyncExclusion).where(
            SyncExclusion.account_id == self.account_id, SyncExclusion.reason == FILTER_REASON
        )
        if client_ids is not None:
            keys = [int(i) for i in client_ids if str(i).isdigit()]
            if not keys:
                return
            query = query.where(SyncExclusion.client_id.in_(keys))
        self.session.execute(query.execution_options(synchronize_session=False))

    def exclude_contact(self, resource_name: str, reason: str) -> None:
        """Keep a contact out of the sync (never imported again) until resumed."""
        self.session.add(
            SyncExclusion(
                account_id=self.account_id,
                resource_name=resource_name,
                reason=reason,
                created_at=self.clock(),
            )
        )

    def excluded_contacts(self) -> set[str]:
        rows = self.session.scalars(
            select(SyncExclusion.resource_name).where(
                SyncExclusion.account_id == self.account_id,
                SyncExclusion.resource_name.is_not(None),
            )
        )
        return {r for r in rows if r}

    def resume(self, client_id: int) -> bool:
        result = self.session.execute(
            delete(SyncExclusion).where(
                SyncExclusion.account_id == self.account_id,
                SyncExclusion.client_id == client_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def unlinked_client_ids_by_email(self, email: str) -> list[str]:
        linked = select(SyncLink.id).where(
            SyncLink.account_id == self.account_id, SyncLink.client_id == Client.id
        )
        rows = self.session.scalars(
            select(Client.id).where(
                Client.deleted_at.is_(None),
                func.lower(Client.email) == email.lower(),
                ~linked.exists(),
            )
        )
        return [str(i) for i in rows]

    def link_for_client(self, client_id: int) -> SyncLink | None:
        return self.session.scalars(
            select(SyncLink).where(
                SyncLink.account_id == self.account_id, SyncLink.client_id == client_id
            )
        ).first()

    def link_for_contact(self, resource_name: str) -> SyncLink | None:
        return self.session.scalars(
            select(SyncLink).where(
                SyncLink.account_id == self.account_id, SyncLink.resource_name == resource_name
            )
        ).first()

    def add_link(
        self,
        client_id: int,
        resource_name: str,
        etag: str | None,
        snapshot: Record,
        client_version: datetime | None = None,
    ) -> SyncLink:
        now = self.clock()
        link = SyncLink(
            account_id=self.account_id,
            client_id=client_id,
            resource_name=resource_name,
            etag=etag,
            snapshot=snapshot.as_dict(),
            client_version=client_version,
            created_at=now,
            updated_at=now,
            synced_at=now,
        )
        self.session.add(link)
        return link

    def add_links(
        self, links: Iterable[tuple[int, str, str | None, Record, datetime | None]]
    ) -> None:
        """New links in one statement, no ORM object: (client id, contact, etag,
        snapshot, client version). A first sync makes one per client."""
        now = self.clock()
        rows = [
            {
                "account_id": self.account_id,
                "client_id": client_id,
                "resource_name": resource_name,
                "etag": etag,
                "snapshot": snapshot.as_dict(),
                "client_version": version,
                "created_at": now,
                "updated_at": now,
                "synced_at": now,
            }
            for client_id, resource_name, etag, snapshot, version in links
        ]
        if rows:
            # Core executemany (the ORM's bulk insert does per-row work a first sync pays
            # 25,000 times); the table's defaults are the same. Pending objects first.
            self.session.flush()
            self.session.connection().execute(insert(cast(Table, SyncLink.__table__)), rows)

    def move_links(
        self, moves: Iterable[tuple[int, str, str | None, Record, datetime | None]]
    ) -> None:
        """Links made earlier in this run move on, in one statement: (client id, contact,
        etag, snapshot, client version), keyed on the client."""
        now = self.clock()
        rows = [
            {
                "b_client_id": client_id,
                "resource_name": resource_name,
                "etag": etag,
                "snapshot": snapshot.as_dict(),
                "client_version": version,
                "updated_at": now,
                "synced_at": now,
            }
            for client_id, resource_name, etag, snapshot, version in moves
        ]
        if not rows:
            return
        table = cast(Table, SyncLink.__table__)
        statement = (
            update(table)
            .where(
                table.c.account_id == self.account_id,
                table.c.client_id == bindparam("b_client_id"),
            )
            .values(
                resource_name=bindparam("resource_name"),
                etag=func.coalesce(bindparam("etag"), table.c.etag),
                snapshot=bindparam("snapshot", type_=table.c.snapshot.type),
                client_version=func.coalesce(
                    bindparam("client_version", type_=table.c.client_version.type),
                    table.c.client_version,
                ),
                updated_at=bindparam("updated_at"),
                synced_at=bindparam("synced_at"),
            )
        )
        self.session.connection().execute(statement, rows)

    def set_link(
        self,
        link: SyncLink,
        *,
        snapshot: Record | None = None,
        etag: str | None = None,
        resource_name: str | None = None,
        client_id: int | None = None,
        client_version: datetime | None = None,
    ) -> None:
        if client_version is not None and client_version != link.client_version:
            link.client_version = client_version
        if snapshot is not None and snapshot.as_dict() != link.snapshot:
            link.snapshot = snapshot.as_dict()
            link.synced_at = self.clock()
        if etag is not None and etag != link.etag:
            link.etag = etag
        if resource_name is not None and resource_name != link.resource_name:
            link.resource_name = resource_name
        if client_id is not None and client_id != link.client_id:
            link.client_id = client_id

    def drop_link(self, link: SyncLink) -> None:
        self.session.execute(
            update(SyncConflict)
            .where(SyncConflict.link_id == link.id)
            .values(link_id=None)
            .execution_options(synchronize_session=False)
        )
        self.session.delete(link)

    # --- runs -------------------------------------------------------------------------

    def start_run(
        self, *, trigger: str, dry_run: bool, forced: bool, run_id: int | None = None
    ) -> SyncRun:
        """A new run row, ``running`` (or, with ``run_id``, the queued row of a job, taken)."""
        queued = self.session.get(SyncRun, run_id) if run_id is not None else None
        if queued is not None and queued.account_id == self.account_id:
            if queued.status != "queued":  # another worker ran this job meanwhile
                raise AccountBusyError()
            queued.status = "running"
            queued.started_at = self.clock()
            queued.error_message = None
            # what the job was asked (its plan, its debounce times) stays on its row
            job = queued.counts.get("job") if isinstance(queued.counts, dict) else None
            queued.counts = {"job": job} if isinstance(job, dict) else {}
            self.account.last_run_id = queued.id
            self.session.commit()
            return queued
        run = SyncRun(
            account_id=self.account_id,
            trigger=trigger,
            status="running",
            dry_run=dry_run,
            forced=forced,
            full_listing=False,
            started_at=self.clock(),
            counts={},
            conflicts=0,
            duplicates=0,
            errors=0,
            api_calls={},
            progress_done=0,
            progress_total=0,
        )
        self.session.add(run)
        self.session.flush()
        self.account.last_run_id = run.id
        self.session.commit()
        return run

    def add_item(
        self,
        run: SyncRun,
        *,
        direction: str,
        action: str,
        client_id: int | None = None,
        resource_name: str | None = None,
        changes: dict[str, Any] | None = None,
        message: str | None = None,
        name: str | None = None,
    ) -> None:
        """Journal one write; rows are inserted in bulk by ``flush_items`` (each batch's
        commit, the run's end), in the same transaction as the writes they describe."""
        self._items.append(
            {
                "name": name,
                "run_id": _id_of(run),
                "client_id": client_id,
                "resource_name": resource_name,
                "direction": direction,
                "action": action,
                "changes": changes or {},
                "message": message,
                "created_at": self.clock(),
            }
        )

    def flush_items(self) -> None:
        """Insert the journal rows added since the last call (one statement)."""
        if self._items:
            rows, self._items = self._items, []
            self.session.flush()  # the rows they name (run, clients) first
            self.session.connection().execute(insert(cast(Table, SyncRunItem.__table__)), rows)

    def discard_items(self) -> None:
        """The transaction is rolled back: its journal rows go with it."""
        self._items = []

    def finish_run(self, run: SyncRun, *, status: str, error_message: str | None = None) -> None:
        self.flush_items()
        run.status = status
        run.finished_at = self.clock()
        run.duration_seconds = (run.finished_at - run.started_at).total_seconds()
        if error_message:
            run.error_message = error_message
        if status == "success" and not run.dry_run:
            self.account.last_success_run_id = run.id

    def runs(self, limit: int, offset: int) -> tuple[list[SyncRun], int]:
        query = select(SyncRun).where(SyncRun.account_id == self.account_id)
        count = select(func.count()).select_from(SyncRun)
        total = self.session.scalar(count.where(SyncRun.account_id == self.account_id)) or 0
        rows = list(
            self.session.scalars(query.order_by(SyncRun.id.desc()).limit(limit).offset(offset))
        )
        return rows, total

    def run_items(self, run_id: int) -> list[SyncRunItem]:
        self.flush_items()
        return list(
            self.session.scalars(
                select(SyncRunItem).where(SyncRunItem.run_id == run_id).order_by(SyncRunItem.id)
            )
        )

    # --- conflicts and duplicates -----------------------------------------------------

    def record_conflict(
        self,
        run: SyncRun,
        link: SyncLink | None,
        client_id: int,
        resource_name: str,
        conflict: FieldConflict,
    ) -> SyncConflict:
        """Keep a conflict: an open one is updated in place (one per link and field)."""
        existing = None
        if link is not None and link.id is not None:
            existing = self.session.scalars(
                select(SyncConflict).where(
                    SyncConflict.link_id == link.id,
                    SyncConflict.field == conflict.field,
                    SyncConflict.status == "open",
                )
            ).first()
        row = existing or SyncConflict(account_id=self.account_id, created_at=self.clock())
        row.link_id = link.id if link is not None else None
        row.run_id = run.id
        row.client_id = client_id
        row.resource_name = resource_name
        row.field = conflict.field
        row.snapshot_value = conflict.snapshot
        row.atarys_value = conflict.atarys
        row.google_value = conflict.google
        if conflict.winner is None:
            row.status = "open"
        else:
            row.status = "resolved"
            row.resolution = conflict.resolution
            row.resolved_value = conflict.atarys if conflict.winner == "atarys" else conflict.google
            row.resolved_at = self.clock()
        if existing is None:
            self.session.add(row)
        return row

    def open_conflicts_for(self, link_id: int) -> list[SyncConflict]:
        return list(
            self.session.scalars(
                select(SyncConflict).where(
                    SyncConflict.link_id == link_id, SyncConflict.status == "open"
                )
            )
        )

    def conflicts(self, status: str | None) -> list[SyncConflict]:
        query = select(SyncConflict).where(SyncConflict.account_id == self.account_id)
        if status:
            query = query.where(SyncConflict.status == status)
        return list(self.session.scalars(query.order_by(SyncConflict.id)))

    def conflict(self, conflict_id: int) -> SyncConflict | None:
        row = self.session.get(SyncConflict, conflict_id)
        return row if row is not None and row.account_id == self.account_id else None

    def record_duplicates(self, run: SyncRun, duplicates: Iterable[Duplicate]) -> int:
        """Upsert the duplicates seen this run (one row per e-mail and reason).

        A group a person dismissed (« Ce ne sont pas des doublons ») stays dismissed while
        the run sees the same records or fewer; a record it has not seen reopens it.
        """
        n = 0
        now = self.clock()
        for d in duplicates:
            n += 1
            row = self.session.scalars(
                select(SyncDuplicate).where(
                    SyncDuplicate.account_id == self.account_id,
                    SyncDuplicate.email_key == d.email_key,
                    SyncDuplicate.reason == d.reason,
                )
            ).first()
            if row is None:
                row = SyncDuplicate(
                    account_id=self.account_id,
                    email_key=d.email_key,
                    reason=d.reason,
                    first_seen_at=now,
                )
                self.session.add(row)
            known = {*(int(c) for c in row.client_ids or [])}, {*(row.resource_names or [])}
            seen = {int(c) for c in d.client_ids}, set(d.resource_names)
            dismissed = row.status == "dismissed" and seen[0] <= known[0] and seen[1] <= known[1]
            row.client_ids = (
                sorted({*row.client_ids, *(int(c) for c in d.client_ids)})
                if row.client_ids
                else [int(c) for c in d.client_ids]
            )
            row.resource_names = sorted({*(row.resource_names or []), *d.resource_names})
            row.status = "dismissed" if dismissed else "open"
            row.run_id = run.id
            row.last_seen_at = now
        return n

    def duplicates(self, status: str | None = "open") -> list[SyncDuplicate]:
        query = select(SyncDuplicate).where(SyncDuplicate.account_id == self.account_id)
        if status:
            query = query.where(SyncDuplicate.status == status)
        return list(self.session.scalars(query.order_by(SyncDuplicate.id)))

    def duplicate_emails_with_contacts(self) -> set[str]:
        """E-mail keys of open duplicates naming unlinked Google contacts."""
        return {d.email_key for d in self.duplicates("open") if d.resource_names}

    # --- the trash (full copies of contacts the sync deleted) ---------------------------

    def add_trash(
        self,
        run: SyncRun,
        client_id: str | None,
        resource_name: str,
        name: str,
        person: dict[str, Any],
    ) -> SyncTrash:
        row = SyncTrash(
            account_id=self.account_id,
            run_id=run.id,
            client_id=int(client_id) if client_id and client_id.isdigit() else None,
            resource_name=resource_name,
            name=name or None,
            person=person,
            deleted_at=self.clock(),
        )
        self.session.add(row)
        return row

    def trash(self, *, days: int = TRASH_DAYS) -> list[SyncTrash]:
        """Contacts the sync deleted in the last ``days`` days and not restored, newest first."""
        since = self.clock() - timedelta(days=days)
        return list(
            self.session.scalars(
                select(SyncTrash)
                .where(
                    SyncTrash.account_id == self.account_id,
                    SyncTrash.deleted_at >= since,
                    SyncTrash.restored_at.is_(None),
                )
                .order_by(SyncTrash.id.desc())
            )
        )

    def trash_of_run(self, run_id: int) -> dict[str, int]:
        """The trash rows a run made: contact resourceName → trash id."""
        rows = self.session.scalars(
            select(SyncTrash).where(
                SyncTrash.account_id == self.account_id, SyncTrash.run_id == run_id
            )
        )
        return {row.resource_name: row.id for row in rows}

    def trash_item(self, trash_id: int) -> SyncTrash | None:
        row = self.session.get(SyncTrash, trash_id)
        return row if row is not None and row.account_id == self.account_id else None

    def forget_all_links(self) -> None:
        """Test and support helper: wipe the status (links), as a lost database would."""
        self.session.execute(delete(SyncLink).where(SyncLink.account_id == self.account_id))

    # --- items to come back to (creates in doubt, failed items) ---------------------------

    def mark_in_doubt(self, client_id: str, name: str) -> None:
        """A contact create for this client may have been applied (its answer was lost)."""
        if not client_id.isdigit():
            return
        now = self.clock()
        row = self._pending("in_doubt", int(client_id), None)
        if row is None:
            self.session.add(
                SyncPending(
                    account_id=self.account_id,
                    kind="in_doubt",
                    client_id=int(client_id),
                    name=name or None,
                    message="création dans Google sans réponse : vérification en cours",
                    attempts=1,
                    first_at=now,
                    last_at=now,
                    next_at=now + IN_DOUBT_HOLD,
                )
            )
        else:
            row.attempts += 1
            row.last_at = now

    def in_doubt(self) -> dict[str, SyncPending]:
        """Creates in doubt: client id → row (``next_at``: end of the hold)."""
        rows = self.session.scalars(
            select(SyncPending).where(
                SyncPending.account_id == self.account_id, SyncPending.kind == "in_doubt"
            )
        )
        return {str(r.client_id): r for r in rows}

    def clear_in_doubt(self, client_ids: Iterable[str]) -> None:
        keys = sorted({int(i) for i in client_ids if i.isdigit()})
        if keys:
            self.session.execute(
                delete(SyncPending)
                .where(
                    SyncPending.account_id == self.account_id,
                    SyncPending.kind == "in_doubt",
                    SyncPending.client_id.in_(keys),
                )
                .execution_options(synchronize_session=False)
            )

    def _pending(
        self, kind: str, client_id: int | None, resource_name: str | None
    ) -> SyncPending | None:
        query = select(SyncPending).where(
            SyncPending.account_id == self.account_id, SyncPending.kind == kind
        )
        if client_id is not None:
            query = query.where(SyncPending.client_id == client_id)
        else:
            query = query.where(
                SyncPending.client_id.is_(None), SyncPending.resource_name == resource_name
            )
        return self.session.scalars(query).first()

    def add_retry(
        self, client_id: str | None, resource_name: str | None, name: str, message: str
    ) -> SyncPending:
        """An item failed: keep it (with its error) for the next runs, with backoff."""
        cid = int(client_id) if client_id and client_id.isdigit() else None
        now = self.clock()
        row = self._pending("retry", cid, resource_name)
        if row is None:
            row = SyncPending(
                account_id=self.account_id,
                kind="retry",
                client_id=cid,
                attempts=0,
                first_at=now,
            )
            self.session.add(row)
        row.resource_name = resource_name or row.resource_name
        row.name = name or row.name
        row.message = message
        row.attempts = (row.attempts or 0) + 1
        row.last_at = now
        # the next run tries again at once, then 1, 2, 4 … minutes apart (at most 6 hours)
        wait = timedelta(0) if row.attempts <= 1 else timedelta(minutes=2 ** (row.attempts - 2))
        row.next_at = now + min(wait, RETRY_BACKOFF_MAX)
        return row

    def add_reread(self, client_id: str | None, resource_name: str | None, name: str) -> None:
        """An item left alone on purpose (changed since the preview that planned it): the
        next run reads both of its sides again, even though the cursors moved past it
        (a contact made on a phone would otherwise never be listed again)."""
        cid = int(client_id) if client_id and client_id.isdigit() else None
        now = self.clock()
        row = self._pending("reread", cid, resource_name)
        if row is None:
            row = SyncPending(
                account_id=self.account_id, kind="reread", client_id=cid, attempts=0, first_at=now
            )
            self.session.add(row)
        row.resource_name = resource_name or row.resource_name
        row.name = name or row.name
        row.message = "modifié depuis l'aperçu : relu à la prochaine synchronisation"
        row.last_at = now
        row.next_at = now

    def retries(self, *, due: bool = False, rereads: bool = False) -> list[SyncPending]:
        """Failed items kept for the next runs (``due``: those to try in this run);
        ``rereads``: with the items to read again (``add_reread``)."""
        kinds = ("retry", "reread") if rereads else ("retry",)
        query = select(SyncPending).where(
            SyncPending.account_id == self.account_id, SyncPending.kind.in_(kinds)
        )
        if due:
            query = query.where(SyncPending.next_at <= self.clock())
        return list(self.session.scalars(query.order_by(SyncPending.id)))

    def clear_retries(self, client_ids: Iterable[str], resource_names: Iterable[str]) -> None:
        """These items went through: forget their failures (and that they were to be read
        again)."""
        keys = sorted({int(i) for i in client_ids if i and i.isdigit()})
        names = sorted({n for n in resource_names if n})
        for column, values in ((SyncPending.client_id, keys), (SyncPending.resource_name, names)):
            for start in range(0, len(values), 500):
                self.session.execute(
                    delete(SyncPending)
                    .where(
                        SyncPending.account_id == self.account_id,
                        SyncPending.kind.in_(("retry", "reread")),
                        column.in_(values[start : start + 500]),
                    )
                    .execution_options(synchronize_session=False)
                )


def _id_of(row: SyncRun) -> int:
    """A persisted row's id without loading it again (rows expire at every commit)."""
    identity = inspect(row).identity
    return int(identity[0]) if identity else int(row.id)
