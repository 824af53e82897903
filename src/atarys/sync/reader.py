"""Reading a run's state from both sides and the store: what changed, and only that.

An incremental run reads Google's change listing (sync token) and the clients changed
since the ATARYS watermark, then only the links, snapshots and other-side items those
changes name, plus two indexed queries: unlinked live clients (an anti-join) and the
links holding the candidates' e-mails. A full Google listing (first sync, expired
token) compares every link; a contact missing from it is confirmed gone with a batch
get before anything is planned against it. A one-client push reads one client, one
link and one contact.

Surviving Google (issue 12): a linked contact that answers 404 may have been renamed;
the reader looks for its new name (a sync-token listing's ``previousResourceNames``
without moving the stored cursor, else a full listing by ``clientData``) before
concluding anything. A client whose create answer was lost ("in doubt") is not created
again until a listing shows its contact or, after a hold, a full listing proves it was
never made. A contact carrying the client id of a linked client, with the same mapped
fields, is our own extra copy (``extra_copies``: the executor deletes it, keeping it in
the trash). Items that failed in earlier runs (the retry list) are read again when due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypedDict

from atarys.models import SyncLink, SyncPending
from atarys.sync.core.filters import ClientFilter
from atarys.sync.core.items import Item, Listing
from atarys.sync.core.planner import LinkState, PairState, RunState, outside_filter
from atarys.sync.core.records import FIELDS, Record, normalize_record, normalize_value
from atarys.sync.sides.atarys_db import AtarysDbSide
from atarys.sync.sides.base import Side
from atarys.sync.store import FILTER_REASON, Store


def link_state(link: SyncLink) -> LinkState:
    return LinkState(
        str(link.client_id), link.resource_name, Record.from_dict(link.snapshot), link.etag
    )


class _LinkedByEmail(TypedDict):
    linked_emails: dict[str, LinkState]
    linked_names: dict[str, frozenset[str]]
    linked_holders: dict[str, dict[str, str]]


@dataclass(frozen=True)
class ExtraCopy:
    """A contact we created twice for one client: ``item`` is the copy to delete."""

    client_id: str
    item: Item
    kept: str  # the linked contact that stays


class Reader:
    """Reads one run's ``RunState``; ``links`` keeps the rows the executor will write."""

    def __init__(
        self,
        store: Store,
        atarys: AtarysDbSide,
        google: Side,
        region: str,
        client_filter: ClientFilter | None = None,
    ) -> None:
        self.store = store
        self.client_filter = client_filter
        self.atarys = atarys
        self.google = google
        self.region = region
        self.links: dict[str, SyncLink] = {}  # client id → link row
        self.extra_copies: list[ExtraCopy] = []
        self.retried: list[SyncPending] = []  # retry-list rows read again in this run
        self._full: Listing | None = None
        self._found_in_full: list[Item] = []

    # --- surviving Google: renames, lost creates, our own copies, the retry list ---------

    def _full_listing(self) -> Listing:
        """Every contact (once per run), to find contacts by their ``clientData``."""
        if self._full is None:
            self._full = self.google.list_changes(None)
        return self._full

    def _by_hint(self, listing: Listing, client_id: str) -> list[Item]:
        return sorted(
            (i for i in listing.items if not i.deleted and i.hint == client_id),
            key=lambda i: i.id,
        )

    def _renamed(self, link: SyncLink) -> str | None:
        """The new resourceName of a linked contact that answers 404, if it was renamed;
        the link follows it (``_move`` when found by clientData alone).

        A sync-token listing names renames (``previousResourceNames``); it is read from
        the stored cursor, which does not move. Without a token (or when the rename is
        not in it), a full listing finds the contact by the client id in its clientData.
        """
        cid = str(link.client_id)
        taken = {lk.resource_name for lk in self.store.links() if lk.id != link.id}
        cursor = self.store.account.sync_token
        if cursor:
            changes = self.google.list_changes(cursor)
            for item in changes.items:
                if link.resource_name in item.previous_ids and not item.deleted:
                    self.store.set_link(link, resource_name=item.id)  # Google's own word
                    return item.id
            if changes.full:
                self._full = changes
        for item in self._by_hint(self._full_listing(), cid):
            if item.id not in taken:
                self._move(link, item)
                return item.id
        return None

    def _move(self, link: SyncLink, item: Item) -> None:
        """The link follows its client's id to another contact (no rename notice from
        Google: found by its clientData). Holding other values than the last synchronised
        ones, that contact may be an older copy rather than the same one renamed: it is
        then compared as a newly linked contact (no snapshot), so a differing field is a
        conflict a person sees, never an edit that silently overwrites the client."""
        same = normalize_record(item.record, self.region) == Record.from_dict(link.snapshot)
        if same:
            self.store.set_link(link, resource_name=item.id)
        else:
            self.store.set_link(link, resource_name=item.id, snapshot=Record())

    def _follow_renames(
        self,
        by_contact: dict[str, SyncLink],
        g_items: dict[str, Item],
        g_gone: set[str],
    ) -> None:
        """Full listing: a linked contact gone from it but present under another name
        with the same client id in its clientData was renamed: follow it."""
        candidates: dict[str, list[str]] = {}
        for rn, item in sorted(g_items.items()):
            if item.hint and rn not in by_contact and not item.deleted:
                candidates.setdefault(item.hint, []).append(rn)
        for old in sorted(g_gone & set(by_contact)):
            link = by_contact[old]
            found = candidates.get(str(link.client_id))
            if not found:
                continue
            new = found.pop(0)
            self._move(link, g_items[new])
            self.store.session.commit()  # a fact; no write lock across the next calls
            by_contact[new] = by_contact.pop(old)
            g_gone.discard(old)

    def _extra_copies(
        self, contacts: list[Item], g_items: dict[str, Item], links: dict[str, SyncLink]
    ) -> list[Item]:
        """Contacts that are our own second copy of a linked client (same client id, same
        mapped fields as the linked contact); they are set apart for deletion."""
        copies = {c.id: c for c in contacts if c.hint and c.hint in links and len(c.hints) <= 1}
        if not copies:
            return contacts
        kept_rns = {links[c.hint].resource_name for c in copies.values() if c.hint}
        missing = sorted(rn for rn in kept_rns if rn not in g_items)
        if missing:
            g_items.update(self.google.get(missing))
        for item in copies.values():
            assert item.hint is not None
            kept = g_items.get(links[item.hint].resource_name)
            if kept is None or kept.deleted:
                continue
            same = normalize_record(item.record, self.region) == normalize_record(
                kept.record, self.region
            )
            if same:
                self.extra_copies.append(ExtraCopy(item.hint, item, kept.id))
        extra = {e.item.id for e in self.extra_copies}
        return [c for c in contacts if c.id not in extra]

    def _held(self, clients: list[Item], contacts: Iterable[Item], *, full: bool) -> list[Item]:
        """Clients whose create answer was lost are not created again while in doubt.

        A contact carrying the client id settles it (the planner links it); after the
        hold, a full listing without such a contact proves the create never happened.
        """
        doubt = self.store.in_doubt()
        if not doubt:
            return clients
        seen = {c.hint for c in contacts if c.hint}
        linked = {str(lk.client_id) for lk in self.store.links_for_clients(doubt)}
        settled = {cid for cid in doubt if cid in seen or cid in linked}
        now = self.store.clock()
        expired = {cid for cid, row in doubt.items() if cid not in settled and row.next_at <= now}
        if expired and not full:
            listing = self._full_listing()
            found = {i.hint for i in listing.items if not i.deleted and i.hint in expired}
            settled |= found
            self._found_in_full = [i for i in listing.items if not i.deleted and i.hint in found]
        settled |= expired  # found (linked below) or proven never made: create again
        if settled:
            self.store.clear_in_doubt(settled)
            self.store.session.commit()  # no write lock across the next network calls
        held = set(doubt) - settled
        return [c for c in clients if c.id not in held]

    def _retry_due(self) -> tuple[set[str], set[str]]:
        """Client ids and contacts of the retry list due in this run."""
        rows = self.store.retries(rereads=True)
        now = self.store.clock()
        self.retried = [r for r in rows if r.next_at <= now]
        # not due yet (backoff): not read again on purpose; an unlinked client is still
        # offered to every run (its create is cheap to retry and must not wait)
        cids = {str(r.client_id) for r in self.retried if r.client_id is not None}
        # the contact of a row, linked or not (a contact to link to an unlinked client
        # left alone since its preview is read again too)
        rns = {r.resource_name for r in self.retried if r.resource_name}
        return cids, rns

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

    def _by_email(self, items: Iterable[Item]) -> _LinkedByEmail:
        """The linked pairs holding the candidates' e-mails, and who holds each (shared
        addresses): one query."""
        emails = {
            e
            for it in items
            if (e := normalize_value("email", it.record.email, self.region)) is not None
        }
        found = self.store.links_by_client_email(emails)
        return {
            "linked_emails": {email: link_state(link) for email, link in found.links.items()},
            "linked_names": found.names,
            "linked_holders": found.ids,
        }

    # --- the account's client filter ----------------------------------------------------

    def _refilter(self, items: dict[str, Item]) -> None:
        """Clients read in this run that match the filter again lose their exclusion."""
        if self.client_filter is None:
            return
        live = {i: it for i, it in items.items() if not it.deleted}
        was_out = self.store.filter_excluded(live)
        back = [i for i in sorted(was_out) if not outside_filter(live[i], self.client_filter)]
        if back:
            self.store.clear_filter_exclusions(back)

    def _keep_out(self, clients: Iterable[Item]) -> None:
        """Remember the unlinked clients the filter keeps off this phone: an incremental
        run does not read them again until they change (or the filter does)."""
        for item in clients:
            if outside_filter(item, self.client_filter):
                self.store.exclude(item.id, FILTER_REASON)

    def _filtered_by_email(self, contacts: Iterable[Item], known: set[str]) -> list[Item]:
        """Clients kept off this phone by the filter that carry a new contact's e-mail:
        matched (linked), never imported a second time."""
        if self.client_filter is None:
            return []
        ids: set[str] = set()
        for contact in contacts:
            email = normalize_record(contact.record, self.region).email
            if email:
                ids |= set(self.store.unlinked_client_ids_by_email(email))
        wanted = sorted(self.store.filter_excluded(ids - known))
        return list(self.atarys.get(wanted).values()) if wanted else []

    def read_all(self) -> RunState:
        """Everything changed since the cursors, both ways."""
        account = self.store.account
        watermark = account.atarys_watermark.isoformat() if account.atarys_watermark else None
        g_listing = self.google.list_changes(account.sync_token)
        a_listing = self.atarys.list_changes(watermark, account_id=account.id)
        a_items = {i.id: i for i in a_listing.items}
        g_items = {i.id: i for i in g_listing.items if not i.deleted}
        g_gone = {i.id for i in g_listing.items if i.deleted}
        retry_cids, retry_rns = self._retry_due()
        self._found_in_full = []

        if g_listing.full:
            links = self.store.links()
        else:
            named = {i.id for i in g_listing.items} | {
                old for i in g_listing.items for old in i.previous_ids
            }
            by_id = {link.id: link for link in self.store.links_for_contacts(named)}
            by_id.update({link.id: link for link in self.store.links_for_clients(a_items)})
            by_id.update({lk.id: lk for lk in self.store.links_for_clients(retry_cids)})
            by_id.update({lk.id: lk for lk in self.store.links_for_contacts(retry_rns)})
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
            self._follow_renames(by_contact, g_items, g_gone)
        # items that failed in earlier runs: read both sides again
        retry_links = [lk for lk in links if str(lk.client_id) in retry_cids]
        again = sorted(
            ({lk.resource_name for lk in retry_links} | retry_rns) - set(g_items) - g_gone
        )
        if again:
            g_items.update(self.google.get(again))
        need = sorted(retry_cids - set(a_items))
        if need:
            a_items.update(self.atarys.get_any(need))
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
        self._refilter(a_items)
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
        self._keep_out(clients)
        clients += self._filtered_by_email(contacts, {c.id for c in clients} | linked_cids)
        clients = self._held(clients, contacts, full=g_listing.full)
        for item in self._found_in_full:  # a lost create found in a full listing
            if item.id not in g_items and item.id not in linked_rns:
                g_items[item.id] = item
                contacts.append(item)
        hints = {c.hint for c in contacts if c.hint}
        hint_links = self.store.links_for_clients(hints)
        linked_hints = {str(link.client_id) for link in hint_links}
        contacts = self._extra_copies(
            contacts, g_items, {str(lk.client_id): lk for lk in hint_links}
        )
        listed = sum(1 for i in g_listing.items if not i.deleted)
        return RunState(
            pairs=pairs,
            clients=clients,
            contacts=contacts,
            **self._by_email([*clients, *contacts]),
            linked_client_ids=frozenset(linked_hints),
            linked=len(links) if g_listing.full else self.store.link_count(),
            full_listing=g_listing.full,
            listed=listed,
            expected=g_listing.expected,
            google_cursor=g_listing.cursor,
            atarys_cursor=a_listing.cursor,
            client_filter=self.client_filter,
        )

    def read_pushed(self, limit: int) -> RunState | None:
        """A push: the linked clients edited since the watermark and their contacts only.

        Two calls for an edit (a batch get of the contacts, then the write), no listing:
        Google's other changes wait for the next scheduled run. ``None`` when a push
        must be a whole incremental run: no cursor yet, more than ``limit`` clients, or
        an unlinked client among them (its contact may have been made on a phone a
        moment ago: only the listing tells). The cursors do not move.
        """
        account = self.store.account
        if account.atarys_watermark is None or not account.sync_token:
            return None
        a_listing = self.atarys.list_changes(
            account.atarys_watermark.isoformat(), account_id=account.id
        )
        a_items = {i.id: i for i in a_listing.items}
        if not a_items or len(a_items) > limit:
            return None
        links = self.store.links_for_clients(a_items)
        if len(links) != len(a_items):
            return None
        g_items = self.google.get(sorted(link.resource_name for link in links))
        for link in links:
            if link.resource_name in g_items:
                continue
            # 404: renamed, or deleted? proof first (as for one client)
            new = self._renamed(link)
            if new is not None:
                self.store.session.commit()  # a fact; no write lock across the next call
                g_items.update(self.google.get([new]))
        g_gone = {link.resource_name for link in links} - set(g_items)
        self._refilter(a_items)
        return RunState(
            pairs=self._pairs(links, a_items, g_items, g_gone=g_gone),
            linked=self.store.link_count(),
            pushed=True,
            client_filter=self.client_filter,
        )

    def read_client(self, client_id: str) -> RunState:
        """One client and, if linked, its contact."""
        link = self.store.link_for_client(int(client_id)) if client_id.isdigit() else None
        a_items = self.atarys.get_any([client_id])
        if link is not None:
            rn = link.resource_name
            g_items = self.google.get([rn])
            if rn not in g_items:
                # 404: renamed, or deleted? proof first
                new = self._renamed(link)
                if new is not None:
                    self.store.session.commit()  # a fact; no write lock across the next call
                    rn = new
                    g_items = self.google.get([rn])
            g_gone = {rn} - set(g_items)
            pairs = self._pairs([link], a_items, g_items, g_gone=g_gone)
            return RunState(
                pairs=pairs, linked=1, focus_client=client_id, client_filter=self.client_filter
            )
        self._refilter(a_items)
        clients = [
            i for i in a_items.values() if not i.deleted and not self.store.excluded(int(i.id))
        ]
        contacts: list[Item] = []
        if client_id in self.store.in_doubt():
            # a create of this client may have been applied: look for it first
            contacts = self._by_hint(self._full_listing(), client_id)[:1]
            self._found_in_full = []
            clients = self._held(clients, contacts, full=True)
        self._keep_out(clients)
        return RunState(
            clients=clients,
            contacts=contacts,
            **self._by_email([*clients, *contacts]),
            linked=self.store.link_count(),
            focus_client=client_id,
            client_filter=self.client_filter,
        )

    def read_contact(self, resource_name: str) -> RunState:
        """One contact and, if linked, its client; unlinked: the clients it may match."""
        link = self.store.link_for_contact(resource_name)
        g_items = self.google.get([resource_name])
        if link is not None:
            a_items = self.atarys.get_any([str(link.client_id)])
            g_gone = {resource_name} - set(g_items)
            pairs = self._pairs([link], a_items, g_items, g_gone=g_gone)
            return RunState(
                pairs=pairs,
                linked=1,
                focus_contact=resource_name,
                client_filter=self.client_filter,
            )
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
            **self._by_email([*clients, *contacts]),
            linked_client_ids=frozenset(linked_cids),
            linked=self.store.link_count(),
            focus_contact=resource_name,
            client_filter=self.client_filter,
        )
