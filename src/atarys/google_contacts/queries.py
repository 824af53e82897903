"""Read-only queries of the Google Contacts feature: each client's sync state (the badges).

Kept here, next to its only caller (``GET /api/google-contacts/links``), until the sync
store offers it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, or_, select

from atarys.extensions import session as db_session
from atarys.google_contacts.service import is_connected, resolve_account
from atarys.models import (
    Client,
    SyncConflict,
    SyncDuplicate,
    SyncExclusion,
    SyncLink,
    SyncRun,
    SyncRunItem,
)
from atarys.sync.core.records import Record, normalize_record
from atarys.sync.sides.atarys_db import client_record


def client_link_states(
    app: Flask, client_ids: list[int], email: str | None = None
) -> list[dict[str, Any]]:
    """The sync state of each of these clients, for the clients page's badges.

    One entry per existing (not deleted) client, in the order asked:
    ``{client_id, resource_name, status, synced_at}`` plus ``error`` when the last
    journal item about it failed. ``status`` is, first that applies: ``conflict`` (an
    open conflict on its link), ``duplicate`` (listed in an open duplicate), ``error``
    (its newest journal item in a real run failed, and no sync of the link since),
    ``excluded`` (kept out of the sync since its contact was deleted in Google, until a
    person turns it back on: ``links/<id>/resume``), ``disconnected`` (linked, but the
    account is disconnected: nothing syncs until it is connected again), ``pending`` (its mapped fields differ from the link's last synchronised snapshot,
    or it was never synced while Google is connected), ``linked``, else ``unlinked``.
    """
    session = db_session()
    wanted = list(dict.fromkeys(client_ids))
    clients = {
        c.id: c
        for c in session.scalars(
            select(Client).where(Client.id.in_(wanted), Client.deleted_at.is_(None))
        )
    }
    account = resolve_account(app, session, email)
    connected = is_connected(app, account)
    links: dict[int, SyncLink] = {}
    conflicted: set[int] = set()
    duplicated: set[int] = set()
    failures: dict[int, SyncRunItem] = {}
    excluded: set[int] = set()
    if account is not None and clients:
        ids = list(clients)
        excluded = {
            int(client_id)
            for client_id in session.scalars(
                select(SyncExclusion.client_id).where(
                    SyncExclusion.account_id == account.id, SyncExclusion.client_id.in_(ids)
                )
            )
            if client_id is not None
        }
        links = {
            link.client_id: link
            for link in session.scalars(
                select(SyncLink).where(
                    SyncLink.account_id == account.id, SyncLink.client_id.in_(ids)
                )
            )
        }
        by_link = {link.id: link.client_id for link in links.values()}
        for conflict in session.scalars(
            select(SyncConflict).where(
                SyncConflict.account_id == account.id,
                SyncConflict.status == "open",
                or_(SyncConflict.link_id.in_(list(by_link)), SyncConflict.client_id.in_(ids)),
            )
        ):
            owner = by_link.get(conflict.link_id) if conflict.link_id else None
            conflicted.add(owner if owner is not None else int(conflict.client_id or 0))
        for duplicate in session.scalars(
            select(SyncDuplicate).where(
                SyncDuplicate.account_id == account.id, SyncDuplicate.status == "open"
            )
        ):
            duplicated.update(int(i) for i in duplicate.client_ids or [] if i in clients)
        newest = (
            select(func.max(SyncRunItem.id))
            .join(SyncRun, SyncRun.id == SyncRunItem.run_id)
            .where(
                SyncRun.account_id == account.id,
                SyncRun.dry_run.is_(False),
                SyncRunItem.client_id.in_(ids),
            )
            .group_by(SyncRunItem.client_id)
        )
        for item in session.scalars(select(SyncRunItem).where(SyncRunItem.id.in_(newest))):
            link = links.get(int(item.client_id or 0))
            superseded = link is not None and link.synced_at > item.created_at
            if item.action == "error" and not superseded:
                failures[int(item.client_id or 0)] = item
    region = (account.phone_region if account is not None else None) or "FR"
    answer: list[dict[str, Any]] = []
    for client_id in wanted:
        client = clients.get(client_id)
        if client is None:
            continue
        link = links.get(client_id)
        changed = link is None or normalize_record(
            client_record(client), region
        ) != normalize_record(Record.from_dict(link.snapshot or {}), region)
        if client_id in conflicted:
            status = "conflict"
        elif client_id in duplicated:
            status = "duplicate"
        elif client_id in failures:
            status = "error"
        elif client_id in excluded and link is None:
            status = "excluded"
        elif link is not None and not connected:
            status = "disconnected"  # kept for a reconnection, but nothing syncs now
        elif link is not None:
            status = "pending" if changed else "linked"
        else:
            status = "pending" if connected else "unlinked"
        entry: dict[str, Any] = {
            "client_id": client_id,
            "resource_name": link.resource_name if link is not None else None,
            "status": status,
            "synced_at": link.synced_at.isoformat() if link is not None else None,
        }
        failure = failures.get(client_id)
        if failure is not None:
            entry["error"] = failure.message or "La synchronisation de ce client a échoué."
        answer.append(entry)
    return answer
