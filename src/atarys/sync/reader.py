"""Reading a run's state from both sides and the store: what changed, and only that.

An incremental run reads Google's change listing (sync token) and the clients changed
since the ATARYS watermark, then only the links, snapshots and other-side items those
changes name, plus two indexed queries: unlinked live clients (an anti-join) and the
links holding the candidates' e-mails. A full Google listing (first sync, expired
token) compares every link; a contact missing from it is confirmed gone with a batch
get before anything is planned against it. A one-client push reads one client, one
link and one contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from atarys.models import SyncLink
from atarys.sync.core.items import Item, Listing
from atarys.sync.core.planner import LinkState, PairState, RunState
from atarys.sync.core.records import FIELDS, Record, normalize_record
from atarys.sync.sides.atarys_db import AtarysDbSide
from atarys.sync.sides.base import Side
from atarys.sync.store import Store


def link_state(link: SyncLink) -> LinkState:
    return LinkState(
        str(link.client_id), link.resource_name, Record.from_dict(link.snapshot), link.etag
    )


class Reader:
    """Reads one run's ``RunState``; ``links`` keeps the rows the executor will write."""

    def __init__(self, store: Store, atarys: AtarysDbSide, google: Side, region: str) -> None:
        self.store = store
        self.atarys = atarys
        self.google = google
        self.region = region
        self.links: dict[str, SyncLink] = {}  # client id → link row
        self.google_listing: Listing | None = None

    def _changed(self, item: Item | None, snapshot: Record) -> bool:
        return item is not None and normalize_record(item.record, self.region) != snapshot

    def _pairs(
        self,
        links: Iterable[SyncLink],
        a_items: dict[str, Item],
        g_items: dict[str, Item],
        *,
        g_gone: set[str],
    ) -> list[PairState]:
        """Pairs of these links; the other side of a one-sided change is fetched."""
        rows = list(links)
        for link in rows:
            self.links[str(link.client_id)] = link
        need_g = [
            link.resource_name
            for link in rows
            if link.resource_name not in g_items
            and link.resource_name not in g_gone
            and self._changed(a_items.get(str(link.client_id)), Record.from_dict(link.snapshot))
        ]
        if need_g:
            fetched = self.google.get(sorted(need_g))
            g_items.update(fetched)
            g_gone |= set(need_g) - set(fetched)
        need_a = [
            str(link.client_id)
            for link in rows
            if str(link.client_id) not in a_items
            and (
                link.resource_name in g_gone
                or self._changed(g_items.get(link.resource_name), Record.from_dict(link.snapshot))
            )
        ]
        if need_a:
            a_items.update(self.atarys.get_any(sorted(need_a)))
        pairs: list[PairState] = []
        for link in rows:
            cid = str(link.client_id)
            a_item = a_items.get(cid)
            g_item = g_items.get(link.resource_name)
            a_deleted = a_item is not None and a_item.deleted
            g_deleted = link.resource_name in g_gone or (g_item is not None and g_item.deleted)
            if g_item is not None and not g_deleted:
                g_item = self._google_times(link, g_item)
            pairs.append(
                PairState(
                    link_state(link),
                    atarys=None if a_deleted else a_item,
                    google=None if g_deleted else g_item,
                    atarys_deleted=a_deleted,
                    google_deleted=g_deleted,
                )
            )
        return pairs

    def _google_times(self, link: SyncLink, item: Item) -> Item:
        """When each Google field took its value: Google gives one time per contact (which
        a touch or an unrelated edit moves), so a field's time is the earliest of that and
        the run that first saw the value; first sightings are kept on the link."""
        record = normalize_record(item.record, self.region)
        snapshot = Record.from_dict(link.snapshot)
        seen: dict[str, Any] = dict(link.google_seen or {})
        now = self.store.clock()
        kept: dict[str, Any] = {}
        times: dict[str, datetime] = {}
        for name in FIELDS:
            value = record.get(name)
            if value == snapshot.get(name):
                continue  # unchanged since the last sync: no time needed
            entry = seen.get(name)
            first = (
                datetime.fromisoformat(entry[1])
                if isinstance(entry, list) and len(entry) == 2 and entry[0] == value
                else now
            )
            kept[name] = [value, first.isoformat()]
            times[name] = min(first, item.updated) if item.updated else first
        if kept != (link.google_seen or {}):
            link.google_seen = kept or None
        return replace(item, field_times=times) if times else item

    def _emails(self, items: Iterable[Item]) -> dict[str, LinkState]:
        emails = {
            e for it in items if (e := normalize_record(it.record, self.region).email) is not None
        }
        found = self.store.links_by_client_email(emails)
        return {email: link_state(link) for email, link in found.items()}

    def read_all(self) -> RunState:
        """Everything changed since the cursors, both ways."""
        account = self.store.account
        watermark = account.atarys_watermark.isoformat() if account.atarys_watermark else None
        g_listing = self.google.list_changes(account.sync_token)
        self.google_listing = g_listing
        a_listing = self.atarys.list_changes(watermark, account_id=account.id)
        a_items = {i.id: i for i in a_listing.items}
        g_items = {i.id: i for i in g_listing.items if not i.deleted}
        g_gone = {i.id for i in g_listing.items if i.deleted}

        if g_listing.full:
            links = self.store.links()
        else:
            named = {i.id for i in g_listing.items} | {
                old for i in g_listing.items for old in i.previous_ids
            }
            by_id = {link.id: link for link in self.store.links_for_contacts(named)}
            by_id.update({link.id: link for link in self.store.links_for_clients(a_items)})
            links = list(by_id.values())
        by_contact = {link.resource_name: link for link in links}
        for item in g_listing.items:
            for old in item.previous_ids:
                link = by_contact.get(old)
                if link is not None and item.id not in by_contact:
                    # Google renamed the contact: follow it
                    self.store.set_link(link, resource_name=item.id)
                    by_contact[item.id] = by_contact.pop(old)
        if g_listing.full:
            # absent from a full listing is not proof: confirm with a batch get
            absent = sorted(rn for rn in by_contact if rn not in g_items and rn not in g_gone)
            if absent:
                found = self.google.get(absent)
                g_items.update(found)
                g_gone |= set(absent) - set(found)
        # Contacts named by open duplicates, so a person's fix is seen.
        extra = {
            rn
            for d in self.store.duplicates("open")
            for rn in d.resource_names
            if rn not in g_items and rn not in by_contact
        }
        if extra:
            g_items.update(self.google.get(sorted(extra)))

        if g_listing.full or watermark is None:
            # a full comparison: a linked client deleted before the watermark counts too
            live = self.atarys.ids()
            dead = [str(lk.client_id) for lk in links if str(lk.client_id) not in live]
            a_items.update(self.atarys.get_any([i for i in dead if i not in a_items]))
        pairs = self._pairs(links, a_items, g_items, g_gone=g_gone)
        linked_rns = {link.resource_name for link in links}
        linked_cids = {str(link.client_id) for link in links}
        unlinked = [i for i in self.store.unlinked_client_ids() if i not in linked_cids]
        missing = [i for i in unlinked if i not in a_items]
        if missing:
            a_items.update(self.atarys.get(missing))
        clients = [a_items[i] for i in sorted(unlinked) if i in a_items and not a_items[i].deleted]
        excluded = self.store.excluded_contacts()
        contacts = [
            it
            for rn, it in sorted(g_items.items())
            if rn not in linked_rns and not it.deleted and rn not in excluded
        ]
        hints = {c.hint for c in contacts if c.hint}
        linked_hints = {str(link.client_id) for link in self.store.links_for_clients(hints)}
        listed = sum(1 for i in g_listing.items if not i.deleted)
        return RunState(
            pairs=pairs,
            clients=clients,
            contacts=contacts,
            linked_emails=self._emails([*clients, *contacts]),
            linked_client_ids=frozenset(linked_hints),
            linked=len(links) if g_listing.full else self.store.link_count(),
            full_listing=g_listing.full,
            listed=listed,
            expected=g_listing.expected,
            google_cursor=g_listing.cursor,
            atarys_cursor=a_listing.cursor,
        )

    def read_client(self, client_id: str) -> RunState:
        """One client and, if linked, its contact."""
        link = self.store.link_for_client(int(client_id)) if client_id.isdigit() else None
        a_items = self.atarys.get_any([client_id])
        if link is not None:
            rn = link.resource_name
            g_items = self.google.get([rn])
            g_gone = {rn} - set(g_items)
            pairs = self._pairs([link], a_items, g_items, g_gone=g_gone)
            return RunState(pairs=pairs, linked=1, focus_client=client_id)
        clients = [
            i for i in a_items.values() if not i.deleted and not self.store.excluded(int(i.id))
        ]
        return RunState(
            clients=clients,
            linked_emails=self._emails(clients),
            linked=self.store.link_count(),
            focus_client=client_id,
        )

    def read_contact(self, resource_name: str) -> RunState:
        """One contact and, if linked, its client; unlinked: the clients it may match."""
        link = self.store.link_for_contact(resource_name)
        g_items = self.google.get([resource_name])
        if link is not None:
            a_items = self.atarys.get_any([str(link.client_id)])
            g_gone = {resource_name} - set(g_items)
            pairs = self._pairs([link], a_items, g_items, g_gone=g_gone)
            return RunState(pairs=pairs, linked=1, focus_contact=resource_name)
        contacts = [i for i in g_items.values() if not i.deleted]
        ids: set[str] = set()
        for contact in contacts:
            if contact.hint:
                ids.add(contact.hint)
            email = normalize_record(contact.record, self.region).email
            if email:
                ids |= set(self.store.unlinked_client_ids_by_email(email))
        linked_cids = {str(lk.client_id) for lk in self.store.links_for_clients(ids)}
        a_items = self.atarys.get(sorted(ids - linked_cids))
        clients = list(a_items.values())
        return RunState(
            clients=clients,
            contacts=contacts,
            linked_emails=self._emails([*clients, *contacts]),
            linked_client_ids=frozenset(linked_cids),
            linked=self.store.link_count(),
            focus_contact=resource_name,
        )
