"""The change log of each account: seqs, sync tokens, incremental and full listings, tombstones.

Every change of a contact (create, update, delete, touch, membership change, rename)
gives it a new state-wide *seq* and appends ``(seq, resource name)`` to its user's
log. A sync token holds the seq it was issued at; an incremental list returns every
contact whose current seq is greater, found by bisecting the log (O(changes), not
O(contacts)). With a propagation delay a change becomes *visible* to lists only at
``visible_at``; sync tokens never move past an invisible change.
"""

from __future__ import annotations

import bisect

from atarys.emulator.errors import ExpiredSyncTokenError
from atarys.emulator.models.core import StateCore
from atarys.emulator.models.records import Contact, Page, UserState


class ChangeLogModel(StateCore):
    """Recording changes and reading them back as pages of contacts."""

    def record_change(self, user: UserState, contact: Contact) -> None:
        """Give ``contact`` a new seq and version and log it."""
        now = self.now()
        contact.seq = self._next_seq()
        contact.version += 1
        contact.update_time = now
        contact.visible_at = now + self.faults.propagation_delay_s
        contact.history += (contact.seq,)
        contact.encoded = None
        user.log_seqs.append(contact.seq)
        user.log_names.append(contact.resource_name)
        self.mark_changed()
        if len(user.log_seqs) > 4 * len(user.contacts) + 10_000:
            self._compact(user)

    def _compact(self, user: UserState) -> None:
        """Drop log entries superseded by a later change of the same contact."""
        seqs: list[int] = []
        names: list[str] = []
        for seq, name in zip(user.log_seqs, user.log_names, strict=True):
            contact = user.contacts.get(name)
            if contact is not None and contact.seq == seq:
                seqs.append(seq)
                names.append(name)
        user.log_seqs, user.log_names = seqs, names
        for contact in user.contacts.values():
            contact.history = contact.history[-1:]

    def visible_high_water(self, user: UserState) -> int:
        """The greatest seq such that every change of ``user`` up to it is visible."""
        if not user.log_seqs:
            return self.seq
        now = self.now()
        index = len(user.log_seqs) - 1
        high = self.seq
        while index >= 0:
            contact = user.contacts.get(user.log_names[index])
            if contact is not None and contact.seq == user.log_seqs[index]:
                if contact.visible_at <= now:
                    break
                high = user.log_seqs[index] - 1
            index -= 1
        return high

    def list_full_by_seq(
        self, email: str, *, after: int, high_water: int, size: int, descending: bool = False
    ) -> Page:
        """One page of live contacts as they were at ``high_water``, by last modification.

        ``after`` is the position to continue from (a seq; 0 or, descending,
        ``high_water + 1`` for the first page). A contact changed after ``high_water`` is
        listed at its last position up to ``high_water`` (so no live contact is skipped);
        one created after it is not listed (the next incremental sync reports it).
        """
        user = self.user(email)
        seqs, names = user.log_seqs, user.log_names
        found: list[Contact] = []
        if descending:
            index = bisect.bisect_left(seqs, min(after, high_water + 1)) - 1
            step = -1
        else:
            index = bisect.bisect_right(seqs, after)
            step = 1
        last = after
        while 0 <= index < len(seqs) and len(found) < size:
            seq = seqs[index]
            if not descending and seq > high_water:
                break
            contact = user.contacts.get(names[index])
            index += step
            if contact is None or contact.deleted:
                continue
            if contact.seq != seq:
                if contact.seq <= high_water:
                    continue
                at = bisect.bisect_right(contact.history, high_water) - 1
                if at < 0 or contact.history[at] != seq:
                    continue
            found.append(contact)
            last = seq
        more = 0 <= index < len(seqs) and (descending or seqs[index] <= high_water)
        return Page(found, last if more else None, user.live_count, high_water)

    def list_changes(self, email: str, *, after: int, high_water: int, size: int) -> Page:
        """Contacts (tombstones included) whose last change is in ``(after, high_water]``."""
        user = self.user(email)
        seqs, names = user.log_seqs, user.log_names
        index = bisect.bisect_right(seqs, after)
        found: list[Contact] = []
        last = after
        while index < len(seqs) and len(found) < size:
            seq = seqs[index]
            if seq > high_water:
                break
            contact = user.contacts.get(names[index])
            index += 1
            if contact is None or contact.seq != seq:
                continue
            found.append(contact)
            last = seq
        more = index < len(seqs) and seqs[index] <= high_water
        return Page(found, last if more else None, user.live_count, high_water)

    def check_sync_token(self, email: str, seq: int, issued_at: float) -> None:
        """Raise ``ExpiredSyncTokenError`` when a sync token issued at ``issued_at`` is expired."""
        user = self.user(email)
        if (
            self.now() - issued_at > self.faults.sync_token_ttl_s
            or issued_at < user.tokens_expired_before
            or seq < user.pruned_seq
        ):
            raise ExpiredSyncTokenError()

    def expire_sync_tokens(self, email: str) -> None:
        """Make every sync token issued so far for ``email`` expired."""
        user = self.user(email)
        user.tokens_expired_before = self.now() + 1e-6
        self.mark_changed()

    def prune_tombstones(self, email: str, older_than_s: float | None = None) -> int:
        """Forget tombstones older than ``older_than_s`` (default: the sync token TTL).

        Sync tokens issued before the newest pruned change become expired. Returns the
        number of tombstones dropped.
        """
        user = self.user(email)
        limit = self.now() - (
            self.faults.sync_token_ttl_s if older_than_s is None else older_than_s
        )
        dropped = [c for c in user.contacts.values() if c.deleted and c.update_time <= limit]
        for contact in dropped:
            del user.contacts[contact.resource_name]
            user.pruned_seq = max(user.pruned_seq, contact.seq)
        if dropped:
            self._compact(user)
            self.mark_changed()
        return len(dropped)
