"""Contacts of an account: create, update (etag-checked), delete to tombstones, touch, rename.

People-named operations with Google's rules (all-or-none batches, ``myContacts``
always joined on create, the 25,000 contacts cap, stale etags); every change goes
through ``ChangeLogModel.record_change``.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Iterable, Sequence
from typing import Any

import phonenumbers

from atarys.emulator.errors import (
    BatchContactsError,
    ContactLimitReachedError,
    GoogleApiError,
    InvalidArgumentError,
    NotFoundError,
    StaleEtagError,
)
from atarys.emulator.models.changelog import ChangeLogModel
from atarys.emulator.models.records import MODIFIABLE_SYSTEM_GROUPS, Contact, UserState

MAX_CONTACTS = 25_000
#: Fields a contact holds at most one value of (a merge keeps the survivor's).
SINGLETON_FIELDS = frozenset({"names", "biographies", "birthdays", "genders"})
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
        *,
        batch: bool = False,
    ) -> list[Contact]:
        """Create contacts (``(fields, group ids or None)`` each): all or none.

        A new contact joins ``myContacts`` (with ``strict_my_contacts``, only when its
        memberships do not name another group). Raises ``ContactLimitReachedError`` when
        the account would hold more than 25,000 contacts; with ``batch``, per-contact
        errors come together in one ``BatchContactsError`` keyed by index.
        """
        user = self.user(email)
        if user.live_count + len(people) > MAX_CONTACTS:
            raise ContactLimitReachedError()
        prepared = []
        errors: dict[str, GoogleApiError] = {}
        for index, (fields, groups) in enumerate(people):
            try:
                self._check_marker(fields)
                gids = self._prepare_groups(user, groups)
            except GoogleApiError as exc:
                if not batch:
                    raise
                errors[str(index)] = exc
                continue
            if not gids or ("myContacts" not in gids and not self.faults.strict_my_contacts):
                gids.insert(0, "myContacts")
            prepared.append((fields, gids))
        if errors:
            raise BatchContactsError("create", errors)
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

    def _check_marker(self, fields: dict[str, list[dict[str, Any]]]) -> None:
        """The ``reject_marker`` fault: 400 for a contact holding a value that contains it."""
        marker = self.faults.reject_marker
        if marker and marker in json.dumps(fields, ensure_ascii=False):
            raise InvalidArgumentError("Invalid person: a field value was rejected by the server.")

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
        *,
        batch: bool = False,
    ) -> list[Contact]:
        """Update contacts (``(resource name, etag, fields, group ids or None)``): all or none.

        Each field named in ``mask`` is replaced whole (absent from ``fields`` → cleared);
        ``memberships`` in the mask replaces the contact's groups with ``group ids`` (at
        least one). Returns the contacts in request order (under a new resource name
        when the ``rename_on_update`` fault renames them). With ``batch``, per-contact
        errors come together in one ``BatchContactsError`` keyed by resource name.
        """
        user = self.user(email)
        mask = list(mask)
        checked = []
        errors: dict[str, GoogleApiError] = {}
        for resource_name, etag, fields, groups in updates:
            try:
                contact = self.get_contact(email, resource_name)
                self.check_etag(contact, etag)
                self._check_marker(fields)
                gids = None
                if "memberships" in mask:
                    gids = self._prepare_groups(user, groups or [])
                    if not gids:
                        raise InvalidArgumentError(
                            "A contact must always have at least one contact group membership."
                        )
            except GoogleApiError as exc:
                if not batch:
                    raise
                errors[resource_name] = exc
                continue
            checked.append((contact, fields, gids))
        if errors:
            raise BatchContactsError("update", errors)
        stale_s = self.faults.stale_read_s
        results = []
        for contact, fields, gids in checked:
            before = self._snapshot(contact) if stale_s > 0 else None
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
            result = contact
            if self.faults.rename_on_update > 0:
                self.faults.rename_on_update -= 1
                result = self.rename_contact(email, contact.resource_name)
            if before is not None:
                result.stale = before
                result.stale_until = self.now() + stale_s
            results.append(result)
        return results

    @staticmethod
    def _snapshot(contact: Contact) -> Contact:
        return dataclasses.replace(contact, fields=dict(contact.fields), stale=None, encoded=None)

    def read_contact(self, email: str, resource_name: str) -> Contact:
        """A live contact as people.get sees it: its previous version while a stale read lasts."""
        contact = self.get_contact(email, resource_name)
        if contact.stale is not None:
            if self.now() < contact.stale_until:
                return contact.stale
            contact.stale = None
        return contact

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
        renamed = dataclasses.replace(
            old,
            number=self._new_number(user),
            seq=0,
            update_time=0.0,
            visible_at=0.0,
            history=(),
            previous_resource_names=(*old.previous_resource_names, old.resource_name),
            stale=None,
            encoded=None,
        )
        del user.contacts[old.resource_name]
        for gid in old.groups:
            group = user.groups[gid]
            group.members.pop(old.resource_name, None)
            group.members[renamed.resource_name] = None
        user.contacts[renamed.resource_name] = renamed
        self.record_change(user, renamed)
        return renamed

    def merge_contacts(self, email: str, survivor_name: str, other_name: str) -> Contact:
        """Merge ``other`` into ``survivor`` as the Contacts app does ("merge duplicates").

        The survivor keeps its singleton fields (names, birthdays...) and gains the other's
        entries of every other field (``clientData`` included, so two entries may share a
        key) and its groups; the other becomes a tombstone and its resource name is listed
        in the survivor's ``previousResourceNames``.
        """
        user = self.user(email)
        survivor = self.get_contact(email, survivor_name)
        other = self.get_contact(email, other_name)
        if survivor is other:
            raise InvalidArgumentError("Cannot merge a contact with itself.")
        for name, entries in other.fields.items():
            mine = survivor.fields.get(name, ())
            if name in SINGLETON_FIELDS and mine:
                continue
            survivor.fields[name] = mine + tuple(e for e in entries if e not in mine)
        groups = list(dict.fromkeys((*survivor.groups, *other.groups)))
        survivor.previous_resource_names = tuple(
            dict.fromkeys(
                (
                    *survivor.previous_resource_names,
                    other.resource_name,
                    *other.previous_resource_names,
                )
            )
        )
        self.delete_contacts(email, [other.resource_name])
        self._set_groups(user, survivor, groups)
        self.record_change(user, survivor)
        return survivor

    def attach_profile(
        self, email: str, resource_name: str, profile: dict[str, list[dict[str, Any]]] | None
    ) -> Contact:
        """Link a contact to a Google profile whose values Google merges into its answers.

        ``profile`` holds PROFILE-source ``names``, ``emailAddresses``, ``phoneNumbers``...
        (None: unlink). A change of the contact (new etag and seq), not of its own data.
        """
        user = self.user(email)
        contact = self.get_contact(email, resource_name)
        if profile:
            contact.profile = {name: tuple(entries) for name, entries in profile.items()}
            contact.profile_number = contact.profile_number or self.rng.randrange(10**20, 10**21)
        else:
            contact.profile, contact.profile_number = None, 0
        self.record_change(user, contact)
        return contact
