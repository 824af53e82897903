"""Contact groups of an account: system groups, user groups, memberships.

System groups exist in every account (``records.SYSTEM_GROUPS``); only ``myContacts``
and ``starred`` take members from clients. User group names are unique (case-folded).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atarys.emulator.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from atarys.emulator.models.people import PeopleModel
from atarys.emulator.models.records import MODIFIABLE_SYSTEM_GROUPS, Group, UserState


class GroupsModel(PeopleModel):
    """Contact groups and their members."""

    def get_group(self, email: str, resource_name: str) -> Group:
        """A contact group by resource name; 404 when unknown."""
        gid = resource_name.removeprefix("contactGroups/")
        group = self.user(email).groups.get(gid)
        if group is None:
            raise NotFoundError()
        return group

    def _check_group_name(self, user: UserState, name: str, exclude: str | None = None) -> str:
        name = name.strip()
        if not name:
            raise InvalidArgumentError("Contact group name must not be empty.")
        folded = name.casefold()
        for group in user.groups.values():
            if group.gid != exclude and not group.system and group.name.casefold() == folded:
                raise AlreadyExistsError()
        return name

    def create_group(
        self, email: str, name: str, client_data: list[dict[str, Any]] | None = None
    ) -> Group:
        """A new user contact group; 409 when the name is taken."""
        user = self.user(email)
        name = self._check_group_name(user, name)
        gid = format(self.rng.getrandbits(60), "x")
        group = Group(gid, name, False, 1, self.now(), client_data=list(client_data or []))
        user.groups[gid] = group
        self.mark_changed()
        return group

    def update_group(
        self,
        email: str,
        resource_name: str,
        *,
        etag: str | None,
        name: str | None,
        client_data: list[dict[str, Any]] | None,
    ) -> Group:
        """Rename a user group and/or replace its client data (etag checked when given)."""
        user = self.user(email)
        group = self.get_group(email, resource_name)
        if group.system:
            raise FailedPreconditionError("Cannot update a system contact group.")
        if etag and etag != group.etag:
            raise FailedPreconditionError(
                "Request contactGroup.etag is different than the current contactGroup.etag. "
                "Clear local cache and get the latest contact group."
            )
        if name is not None:
            group.name = self._check_group_name(user, name, exclude=group.gid)
        if client_data is not None:
            group.client_data = list(client_data)
        group.version += 1
        group.update_time = self.now()
        self.mark_changed()
        return group

    def delete_group(self, email: str, resource_name: str, *, delete_contacts: bool) -> None:
        """Delete a user group (and its members when ``delete_contacts``)."""
        user = self.user(email)
        group = self.get_group(email, resource_name)
        if group.system:
            raise FailedPreconditionError("Cannot delete a system contact group.")
        members = list(group.members)
        if delete_contacts:
            self.delete_contacts(email, members)
        else:
            for name in members:
                contact = user.contacts[name]
                self._set_groups(user, contact, [g for g in contact.groups if g != group.gid])
                self.record_change(user, contact)
        del user.groups[group.gid]
        self.mark_changed()

    def modify_members(
        self, email: str, resource_name: str, add: Sequence[str], remove: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """Add/remove contacts to/from a group; returns (not found, cannot remove last)."""
        user = self.user(email)
        group = self.get_group(email, resource_name)
        if group.system and group.gid not in MODIFIABLE_SYSTEM_GROUPS:
            raise FailedPreconditionError(f"Cannot modify members of system group {resource_name}.")
        not_found: list[str] = []
        cannot_remove: list[str] = []
        for name in add:
            contact = user.contacts.get(name)
            if contact is None or contact.deleted:
                not_found.append(name)
            elif group.gid not in contact.groups:
                self._set_groups(user, contact, [*contact.groups, group.gid])
                self.record_change(user, contact)
        for name in remove:
            contact = user.contacts.get(name)
            if contact is None or contact.deleted:
                not_found.append(name)
            elif group.gid in contact.groups:
                if contact.groups == (group.gid,) and group.gid != "myContacts":
                    cannot_remove.append(name)
                    continue
                self._set_groups(user, contact, [g for g in contact.groups if g != group.gid])
                self.record_change(user, contact)
        return not_found, cannot_remove
