"""People API ``contactGroups.*`` handlers (no sync tokens for groups; no batchGet)."""

from __future__ import annotations

from typing import Any

from atarys.emulator import render, wire
from atarys.emulator.errors import InvalidArgumentError
from atarys.emulator.models import EmulatorState
from atarys.emulator.responses.common import (
    MEMBERS_MODIFY_MAX,
    PAGE_PREFIX,
    Call,
    bool_param,
    int_param,
    object_body,
    page_size,
)


class GroupResponses:
    """Handlers of the ``contactGroups.*`` methods, bound to one ``EmulatorState``."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def groups_list(self, call: Call) -> Any:
        """contactGroups.list (system and user groups; no sync tokens)."""
        args = call.args
        fields = _group_fields(args.get("groupFields"))
        size = page_size(args, 30, 1000)
        start = 0
        if args.get("pageToken"):
            start = int(wire.decode_token(PAGE_PREFIX, args["pageToken"], what="page token")[0])
        groups = list(self.state.user(call.user).groups.values())
        answer: dict[str, Any] = {
            "contactGroups": [render.render_group(g, fields) for g in groups[start : start + size]],
            "totalItems": len(groups),
        }
        if start + size < len(groups):
            answer["nextPageToken"] = wire.encode_token(PAGE_PREFIX, [start + size])
        return answer

    def group_get(self, call: Call) -> Any:
        """contactGroups.get."""
        group = self.state.get_group(call.user, call.path["group"])
        fields = _group_fields(call.args.get("groupFields"), default=wire.GROUP_FIELDS)
        max_members = int_param(call.args, "maxMembers", 0)
        return render.render_group(group, fields, max_members=max_members)

    def group_create(self, call: Call) -> Any:
        """contactGroups.create; 409 for a name already used."""
        body = object_body(call.body)
        group_body = object_body(body.get("contactGroup"))
        fields = _group_fields(body.get("readGroupFields"), default=wire.GROUP_FIELDS)
        group = self.state.create_group(
            call.user, str(group_body.get("name") or ""), _client_data(group_body)
        )
        return render.render_group(group, fields)

    def group_update(self, call: Call) -> Any:
        """contactGroups.update (``updateGroupFields`` default ``name``)."""
        body = object_body(call.body)
        group_body = object_body(body.get("contactGroup"))
        update_fields = _group_fields(body.get("updateGroupFields") or "name", default=frozenset())
        read_fields = _group_fields(body.get("readGroupFields"), default=wire.GROUP_FIELDS)
        group = self.state.update_group(
            call.user,
            call.path["group"],
            etag=group_body.get("etag"),
            name=str(group_body.get("name") or "") if "name" in update_fields else None,
            client_data=_client_data(group_body) if "clientData" in update_fields else None,
        )
        return render.render_group(group, read_fields)

    def group_delete(self, call: Call) -> Any:
        """contactGroups.delete (``deleteContacts`` also deletes the members)."""
        self.state.delete_group(
            call.user, call.path["group"], delete_contacts=bool_param(call.args, "deleteContacts")
        )
        return {}

    def members_modify(self, call: Call) -> Any:
        """contactGroups.members.modify (at most 1000 names each way)."""
        body = object_body(call.body)
        add = [str(n) for n in body.get("resourceNamesToAdd") or []]
        remove = [str(n) for n in body.get("resourceNamesToRemove") or []]
        if len(add) > MEMBERS_MODIFY_MAX or len(remove) > MEMBERS_MODIFY_MAX:
            raise InvalidArgumentError(
                f"At most {MEMBERS_MODIFY_MAX} resource names to add or remove."
            )
        not_found, cannot_remove = self.state.modify_members(
            call.user, call.path["group"], add, remove
        )
        answer: dict[str, Any] = {}
        if not_found:
            answer["notFoundResourceNames"] = not_found
        if cannot_remove:
            answer["canNotRemoveLastContactGroupResourceNames"] = cannot_remove
        return answer


def _client_data(group_body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = group_body.get("clientData") or []
    return [
        {k: v for k, v in item.items() if k in ("key", "value")}
        for item in raw
        if isinstance(item, dict)
    ]


def _group_fields(raw: Any, default: frozenset[str] = wire.DEFAULT_GROUP_FIELDS) -> frozenset[str]:
    if not raw:
        return default
    return wire.parse_mask(str(raw), param="groupFields", allowed=wire.GROUP_FIELDS)
