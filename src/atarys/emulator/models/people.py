"""Contacts of an account: create, update (etag-checked), delete to tombstones, touch, rename.

People-named operations with Google's rules (all-or-none batches, ``myContacts``
always joined on create, the 25,000 contacts cap, stale etags); every change goes
through ``ChangeLogModel.record_change``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from typing import Any

import phonenumbers

from atarys.emulator.errors import (
    ContactLimitReachedError,
    InvalidArgumentError,
    NotFoundError,
    StaleEtagError,
)
from atarys.emulator.models.changelog import ChangeLogModel
from atarys.emulator.models.records import MODIFIABLE_SYSTEM_GROUPS, Contact, UserState

MAX_CONTACTS = 25_000
#: After this many new contacts, long-lived state is moved out of the garbage
#: collector's reach (``gc.freeze``): a full collection otherwise rescans every
#: stored contact again and again, which dominates the cost of big imports.
GC_FREEZE_EVERY = 2_000


def reformat_phone(value: str, style: str) -> str:
    """``value`` as Google may store it: ``E164``, ``INTERNATIONAL`` or ``NATIONAL`` (region FR)."""
    try:
        parsed = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(parsed):
        return value
    fmt = getattr(phonenumbers.PhoneNumberFormat, style.upper())
    return str(phonenumbers.format_number(parsed, fmt))


class PeopleModel(ChangeLogModel):
    """The contacts of every account."""

    def _new_number(self, user: UserState) -> int:
        while True:
            number = self.rng.getrandbits(61) | (1 << 61)
            if f"people/c{number}" not in user.contacts:
                return number

    def get_contact(self, email: str, resource_name: str) -> Contact:
        """A live contact; 404 when unknown or deleted."""
        contact = self.user(email).contacts.get(resource_name)
        if contact is None or contact.deleted:
            raise NotFoundError()
        return contact

    def _prepare_groups(self, user: UserState, groups: Sequence[str] | None) -> list[str]:
        if groups is None:
            return ["myContacts"]
        result: list[str] = []
        for gid in groups:
            group = user.groups.get(gid)
            if group is None:
                raise InvalidArgumentError(f"Contact group contactGroups/{gid} does not exist.")
            if group.system and gid not in MODIFIABLE_SYSTEM_GROUPS:
                raise InvalidArgumentError(
                    f"Cannot add contacts to system group contactGroups/{gid}."
                )
            if gid not in result:
                result.append(gid)
        return result

    def _store_phones(self, fields: dict[str, list[dict[str, Any]]]) -> None:
        style = self.faults.phone_format
        if style and "phoneNumbers" in fields:
            for entry in fields["phoneNumbers"]:
                if "value" in entry:
                    entry["value"] = reformat_phone(entry["value"], style)

    def create_contacts(
        self,
        email: str,
        people: Sequence[tuple[dict[str, list[dict[str, Any]]], Sequence[str] | None]],
    ) -> list[Contact]:
        """Create contacts (``(fields, group ids or None)`` each): all or none.

        A new contact always joins ``myContacts``. Raises ``ContactLimitReachedError`` when
        the account would hold more than 25,000 contacts.
        """
        user = self.user(email)
        if user.live_count + len(people) > MAX_CONTACTS:
            raise ContactLimitReachedError()
        prepared = []
        for fields, groups in people:
            gids = self._prepare_groups(user, groups)
            if "myContacts" not in gids:
                gids.insert(0, "myContacts")
            prepared.append((fields, gids))
        created = []
        for fields, gids in prepared:
            self._store_phones(fields)
            stored = {name: tuple(entries) for name, entries in fields.items()}
            contact = Contact(self._new_number(user), stored, tuple(gids), 0, 0, 0.0, 0.0)
            user.contacts[contact.resource_name] = contact
            user.live_count += 1
            for gid in gids:
                user.groups[gid].members[contact.resource_name] = None
            self.record_change(user, contact)
            created.append(contact)
        self.created_since_freeze += len(created)
        if self.created_since_freeze >= GC_FREEZE_EVERY:
            self.created_since_freeze = 0
            gc.freeze()
        return created

    def check_etag(self, contact: Contact, etag: str | None) -> None:
        """Raise the error Google gives for a missing or stale etag on update."""
        if not etag:
            raise InvalidArgumentError(
                "Request must set person.etag or person.metadata.sources.etag "
                "for the source that is being updated."
            )
        if etag not in (contact.etag, contact.source_etag):
            raise StaleEtagError()

    def update_contacts(
        self,
        email: str,
        updates: Sequence[
            tuple[str, str | None, dict[str, list[dict[str, Any]]], list[str] | None]
        ],
        mask: Iterable[str],
    ) -> list[Contact]:
        """Update contacts (``(resource name, etag, fields, group ids or None)``): all or none.

        Each field named in ``mask`` is replaced whole (absent from ``fields`` → cleared);
        ``memberships`` in the mask replaces the contact's groups with ``group ids``.
        """
        user = self.user(email)
        mask = list(mask)
        checked = []
        for resource_name, etag, fields, groups in updates:
            contact = self.get_contact(email, resource_name)
            self.check_etag(contact, etag)
            gids = self._prepare_groups(user, groups or []) if "memberships" in mask else None
            checked.append((contact, fields, gids))
        for contact, fields, gids in checked:
            self._store_phones(fields)
            for name in mask:
                if name == "memberships":
                    continue
                if fields.get(name):
                    contact.fields[name] = tuple(fields[name])
                else:
                    contact.fields.pop(name, None)
            if gids is not None:
                self._set_groups(user, contact, gids)
            self.record_change(user, contact)
        return [contact for contact, _, _ in checked]

    def _set_groups(self, user: UserState, contact: Contact, gids: list[str]) -> None:
        for gid in contact.groups:
            group = user.groups.get(gid)
            if group is not None:
                group.members.pop(contact.resource_name, None)
        contact.groups = tuple(gids)
        for gid in gids:
            user.groups[gid].members[contact.resource_name] = None

    def delete_contacts(self, email: str, resource_names: Sequence[str]) -> None:
        """Delete contacts (all or none; 404 if one is unknown), keeping tombstones."""
        user = self.user(email)
        contacts = [self.get_contact(email, name) for name in dict.fromkeys(resource_names)]
        for contact in contacts:
            self._set_groups(user, contact, [])
            contact.fields = {}
            contact.deleted = True
            user.live_count -= 1
            self.record_change(user, contact)

    def touch(self, email: str, resource_name: str) -> Contact:
        """Bump updateTime and etag with no content change (as Google does after an e-mail)."""
        contact = self.get_contact(email, resource_name)
        self.record_change(self.user(email), contact)
        return contact

    def admin_patch(
        self, email: str, resource_name: str, fields: dict[str, list[dict[str, Any]]]
    ) -> Contact:
        """Edit a contact as a phone would: listed fields replaced, new etag and updateTime."""
        contact = self.get_contact(email, resource_name)
        return self.update_contacts(email, [(resource_name, contact.etag, fields, None)], fields)[0]

    def rename_contact(self, email: str, resource_name: str) -> Contact:
        """Give a contact a new resource name, the old one kept in ``previousResourceNames``."""
        user = self.user(email)
        old = self.get_contact(email, resource_name)
        number = self.rng.getrandbits(61) | (1 << 61)
        renamed = Contact(
            number,
            old.fields,
            old.groups,
            0,
            old.version,
            0.0,
            0.0,
            previous_resource_names=(*old.previous_resource_names, old.resource_name),
        )
        del user.contacts[old.resource_name]
        for gid in old.groups:
            group = user.groups[gid]
            group.members.pop(old.resource_name, None)
            group.members[renamed.resource_name] = None
        user.contacts[renamed.resource_name] = renamed
        self.record_change(user, renamed)
        return renamed
