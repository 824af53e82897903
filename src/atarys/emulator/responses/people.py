"""People API ``people.*`` handlers: parse the request, call the model, answer Google-shaped JSON.

Accepted but without effect: ``alt=json``; ``requestMask.includeField`` stands in
for a missing ``personFields``. searchContacts has no warm-up lag and scans all
contacts. Not implemented: otherContacts.*, directory methods, photos.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

from atarys.emulator import render, wire
from atarys.emulator.errors import RPC_CODES, GoogleApiError, InvalidArgumentError
from atarys.emulator.models import Contact, EmulatorState, UserState
from atarys.emulator.responses.common import (
    ALL_FIELDS,
    BATCH_CREATE_MAX,
    BATCH_DELETE_MAX,
    BATCH_GET_MAX,
    BATCH_UPDATE_MAX,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PAGE_PREFIX,
    SEARCH_MAX,
    SYNC_PREFIX,
    Call,
    bool_param,
    object_body,
    page_size,
    person_fields,
    read_sources,
)


class PeopleResponses:
    """Handlers of the ``people.*`` methods, bound to one ``EmulatorState``."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def connections_list(self, call: Call) -> Any:
        """people.connections.list (``people/me`` only)."""
        if call.path["person"] != "me":
            raise InvalidArgumentError("Must be 'people/me'.")
        args = call.args
        fields = person_fields(args)
        size = page_size(args, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        sort_order = args.get("sortOrder") or "LAST_MODIFIED_ASCENDING"
        if sort_order not in wire.SORT_ORDERS:
            raise InvalidArgumentError(f"Invalid value at 'sort_order', \"{sort_order}\"")
        sources = read_sources(args)
        request_sync = bool_param(args, "requestSyncToken")
        sync_token = args.get("syncToken") or None
        page_token = args.get("pageToken") or None
        state = self.state
        user = state.user(call.user)
        sync_print = [sorted(fields), sort_order, sources]
        page_print = [*sync_print, size, request_sync, sync_token or ""]
        now = state.now()

        from_seq: int | None = None
        if sync_token:
            payload = wire.decode_token(SYNC_PREFIX, sync_token, what="sync token")
            try:
                owner, token_seq, issued, token_print = payload
            except ValueError as exc:
                raise InvalidArgumentError("Invalid sync token.") from exc
            if owner != call.user:
                raise InvalidArgumentError("Sync token does not belong to the authenticated user.")
            if token_print != sync_print:
                raise InvalidArgumentError(
                    "Parameters provided to people.connections.list must match the first "
                    "call that provided the sync token."
                )
            state.check_sync_token(call.user, int(token_seq), float(issued))
            from_seq = int(token_seq)

        mode = (
            "I" if from_seq is not None else ("N" if sort_order.endswith("NAME_ASCENDING") else "F")
        )
        if page_token:
            payload = wire.decode_token(PAGE_PREFIX, page_token, what="page token")
            try:
                owner, page_mode, token_print, position, high_water = payload
            except ValueError as exc:
                raise InvalidArgumentError("Invalid page token.") from exc
            if owner != call.user or page_mode != mode or token_print != page_print:
                raise InvalidArgumentError(
                    "Parameters provided to people.connections.list must match the first "
                    "call that provided the page token."
                )
        else:
            high_water = state.visible_high_water(user)
            if mode == "I":
                position = from_seq
            elif mode == "N":
                position = 0
            else:
                position = high_water + 1 if sort_order == "LAST_MODIFIED_DESCENDING" else 0

        answer: dict[str, Any] = {}
        if mode == "I":
            assert from_seq is not None
            page = state.list_changes(
                call.user, after=int(position), high_water=int(high_water), size=size
            )
            people = page.contacts
            next_position = page.next_position
        elif mode == "F":
            page = state.list_full_by_seq(
                call.user,
                after=int(position),
                high_water=int(high_water),
                size=size,
                descending=sort_order == "LAST_MODIFIED_DESCENDING",
            )
            people = page.contacts
            next_position = page.next_position
            if page.total_items:
                answer["totalPeople"] = page.total_items
                answer["totalItems"] = page.total_items
        else:
            ordered = _sorted_by_name(user, family_first=sort_order == "LAST_NAME_ASCENDING")
            start = int(position)
            people = ordered[start : start + size]
            next_position = start + size if start + size < len(ordered) else None
            if ordered:
                answer["totalPeople"] = len(ordered)
                answer["totalItems"] = len(ordered)
        if next_position is not None:
            answer["nextPageToken"] = wire.encode_token(
                PAGE_PREFIX, [call.user, mode, page_print, next_position, high_water]
            )
        elif request_sync:
            answer["nextSyncToken"] = wire.encode_token(
                SYNC_PREFIX, [call.user, int(high_water), now, sync_print]
            )
        faults = state.faults
        if mode != "I" and faults.full_list_omit:
            omitted = set(faults.full_list_omit)
            people = [c for c in people if c.resource_name not in omitted]
        if faults.strict_my_contacts:
            people = [c for c in people if c.deleted or "myContacts" in c.groups]
        read = frozenset(sources) or render.CONTACT_AND_PROFILE
        if people:
            items = [
                render.person_json(c, fields, in_list=True, sources=read, sync_listing=mode == "I")
                for c in people
            ]
            return render.with_items("connections", items, answer)
        return answer

    def get(self, call: Call) -> Any:
        """people.get (``people/me`` gives the token owner's profile)."""
        fields = person_fields(call.args)
        read = _read_sources(call.args.getlist("sources"))
        return self._get_one(call.user, "people/" + call.path["person"], fields, read)

    def _get_one(
        self, email: str, name: str, fields: frozenset[str], read: frozenset[str]
    ) -> dict[str, Any]:
        if name == "people/me":
            return render.render_profile(self.state.user(email), fields)
        wire.check_resource_name(name)
        return render.render_person(self.state.read_contact(email, name), fields, sources=read)

    def get_batch(self, call: Call) -> Any:
        """people.getBatchGet (at most 200 resource names)."""
        names = call.args.getlist("resourceNames")
        if not names:
            raise InvalidArgumentError("At least one resourceNames must be specified.")
        if len(names) > BATCH_GET_MAX:
            raise InvalidArgumentError(
                f"Too many resource names: at most {BATCH_GET_MAX} are allowed."
            )
        fields = wire.parse_mask(
            call.args.get("personFields"), param="personFields", allowed=wire.PERSON_FIELDS
        )
        read = _read_sources(call.args.getlist("sources"))
        responses = []
        for name in names:
            try:
                person = self._get_one(call.user, name, fields, read)
            except GoogleApiError as exc:
                responses.append(
                    {
                        "requestedResourceName": name,
                        "httpStatusCode": exc.code,
                        "status": {"code": RPC_CODES[exc.status], "message": exc.message},
                    }
                )
            else:
                responses.append(
                    {
                        "requestedResourceName": name,
                        "httpStatusCode": 200,
                        "person": person,
                        "status": {},
                    }
                )
        return {"responses": responses}

    def search(self, call: Call) -> Any:
        """people.searchContacts: prefix match on names, e-mails, phones, organizations."""
        args = call.args
        fields = wire.parse_mask(args.get("readMask"), param="readMask", allowed=wire.PERSON_FIELDS)
        size = page_size(args, 10, SEARCH_MAX)
        query = (args.get("query") or "").strip().casefold()
        read = _read_sources(args.getlist("sources"), default=render.CONTACT_ONLY)
        if not query:
            return {}
        results = []
        digits = re.sub(r"\D", "", query)
        for contact in self.state.user(call.user).live_contacts():
            if _matches(contact, query, digits):
                results.append({"person": render.render_person(contact, fields, sources=read)})
                if len(results) >= size:
                    break
        return {"results": results} if results else {}

    # ----------------------------------------------------------------- people: writes

    def _read_mask(self, raw: str | None, param: str) -> frozenset[str]:
        if raw is None:
            return ALL_FIELDS
        return wire.parse_mask(raw, param=param, allowed=wire.PERSON_FIELDS)

    def create(self, call: Call) -> Any:
        """people.createContact."""
        fields = self._read_mask(call.args.get("personFields"), "personFields")
        read = _read_sources(call.args.getlist("sources"))
        stored, groups, _ = wire.parse_person(call.body or {})
        contact = self.state.create_contacts(call.user, [(stored, groups)])[0]
        return render.render_person(contact, fields, sources=read)

    def update(self, call: Call) -> Any:
        """people.updateContact: each field of ``updatePersonFields`` is replaced whole."""
        name = wire.check_resource_name("people/" + call.path["person"])
        mask = wire.parse_mask(
            call.args.get("updatePersonFields"),
            param="updatePersonFields",
            allowed=wire.UPDATABLE_FIELDS,
        )
        fields = self._read_mask(call.args.get("personFields"), "personFields")
        body = call.body or {}
        if isinstance(body, dict) and body.get("resourceName") not in (None, name):
            raise InvalidArgumentError(
                "person.resourceName must match the resource name in the URL."
            )
        read = _read_sources(call.args.getlist("sources"))
        stored, groups, etag = wire.parse_person(body)
        contact = self.state.update_contacts(call.user, [(name, etag, stored, groups)], mask)[0]
        return render.render_person(contact, fields, sources=read)

    def delete(self, call: Call) -> Any:
        """people.deleteContact."""
        name = wire.check_resource_name("people/" + call.path["person"])
        self.state.delete_contacts(call.user, [name])
        return {}

    def batch_create(self, call: Call) -> Any:
        """people.batchCreateContacts (at most 200)."""
        body = object_body(call.body)
        fields = wire.parse_mask(body.get("readMask"), param="readMask", allowed=wire.PERSON_FIELDS)
        contacts = body.get("contacts") or []
        if not isinstance(contacts, list) or not contacts:
            raise InvalidArgumentError("contacts must not be empty.")
        if len(contacts) > BATCH_CREATE_MAX:
            raise InvalidArgumentError(f"Too many contacts: at most {BATCH_CREATE_MAX} per batch.")
        people = []
        for item in contacts:
            stored, groups, _ = wire.parse_person(object_body(item).get("contactPerson") or {})
            people.append((stored, groups))
        read = _read_sources(body.get("sources") or [])
        created = self.state.create_contacts(call.user, people, batch=True)
        items = [
            b'{"httpStatusCode":200,"person":'
            + render.person_json(c, fields, sources=read)
            + b',"status":{}}'
            for c in created
        ]
        return render.with_items("createdPeople", items, {})

    def batch_update(self, call: Call) -> Any:
        """people.batchUpdateContacts (at most 200; all or none)."""
        body = object_body(call.body)
        fields = wire.parse_mask(body.get("readMask"), param="readMask", allowed=wire.PERSON_FIELDS)
        mask = wire.parse_mask(
            body.get("updateMask"), param="updateMask", allowed=wire.UPDATABLE_FIELDS
        )
        contacts = body.get("contacts") or {}
        if not isinstance(contacts, dict) or not contacts:
            raise InvalidArgumentError("contacts must not be empty.")
        if len(contacts) > BATCH_UPDATE_MAX:
            raise InvalidArgumentError(f"Too many contacts: at most {BATCH_UPDATE_MAX} per batch.")
        updates = []
        for name, person in contacts.items():
            wire.check_resource_name(name)
            stored, groups, etag = wire.parse_person(person)
            updates.append((name, etag, stored, groups))
        read = _read_sources(body.get("sources") or [])
        updated = self.state.update_contacts(call.user, updates, mask, batch=True)
        return {
            "updateResult": {
                requested: {
                    "requestedResourceName": requested,
                    "httpStatusCode": 200,
                    "person": render.render_person(c, fields, sources=read),
                    "status": {},
                }
                for (requested, _, _, _), c in zip(updates, updated, strict=True)
            }
        }

    def batch_delete(self, call: Call) -> Any:
        """people.batchDeleteContacts (at most 500; all or none)."""
        names = object_body(call.body).get("resourceNames") or []
        if not isinstance(names, list) or not names:
            raise InvalidArgumentError("resourceNames must not be empty.")
        if len(names) > BATCH_DELETE_MAX:
            raise InvalidArgumentError(
                f"Too many resource names: at most {BATCH_DELETE_MAX} per batch."
            )
        for name in names:
            wire.check_resource_name(str(name))
        self.state.delete_contacts(call.user, [str(n) for n in names])
        return {}

    # ----------------------------------------------------------------- contact groups


def _read_sources(
    raw: list[str], default: frozenset[str] = render.CONTACT_AND_PROFILE
) -> frozenset[str]:
    """The ``sources`` asked (400 for an unknown one), or the method's default."""
    checked = read_sources(MultiDict([("sources", str(s)) for s in raw]))
    return frozenset(checked) or default


def _sorted_by_name(user: UserState, *, family_first: bool) -> list[Contact]:
    def key(contact: Contact) -> tuple[str, str, int]:
        name = (contact.fields.get("names") or [{}])[0]
        given = str(name.get("givenName") or "").casefold()
        family = str(name.get("familyName") or "").casefold()
        first, second = (family, given) if family_first else (given, family)
        return (first, second, contact.number)

    return sorted(user.live_contacts(), key=key)


def _matches(contact: Contact, query: str, digits: str) -> bool:
    words: list[str] = []
    for name in contact.fields.get("names", []):
        words += [str(v) for k, v in name.items() if isinstance(v, str)]
    for org in contact.fields.get("organizations", []):
        words.append(str(org.get("name") or ""))
    for email in contact.fields.get("emailAddresses", []):
        words.append(str(email.get("value") or ""))
    for word in words:
        folded = word.casefold()
        if folded.startswith(query) or any(part.startswith(query) for part in folded.split()):
            return True
    if digits and len(digits) >= 3:
        for phone in contact.fields.get("phoneNumbers", []):
            value = re.sub(r"\D", "", str(phone.get("value") or ""))
            canonical = re.sub(
                r"\D", "", render.canonical_phone(str(phone.get("value") or "")) or ""
            )
            if value.startswith(digits) or canonical.startswith(digits):
                return True
    return False
