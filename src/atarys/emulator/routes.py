"""The emulator's WSGI app: the People API v1 route table and its handlers.

Paths are the ones google-api-python-client sends (``/v1/people/me/connections``,
``/v1/people/c1:updateContact``, ``/v1/people:batchGet?resourceNames=...``). Each API
request: bearer token (401) → scope (403) → injected latency → quota (429) →
injected error (500/503) → the state call → "fail after apply" (503). OAuth2
(``oauth.py``) and the admin API (``admin.py``) are mounted beside it.

Not implemented (answer 404 "Method not found"): otherContacts.*, directory
methods, photos, contactGroups.batchGet. Accepted but without effect: ``sources``,
``alt=json``; ``requestMask.includeField`` stands in for a missing ``personFields``.
contactGroups.list has no sync tokens; searchContacts has no warm-up lag and scans
all contacts.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from atarys.emulator import wire
from atarys.emulator.errors import (
    GoogleApiError,
    InvalidArgumentError,
    MethodNotFoundError,
    UnavailableError,
)
from atarys.emulator.state import AccessToken, Contact, EmulatorState, UserState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger("atarys.emulator.routes")

JSON_TYPE = "application/json; charset=UTF-8"
SYNC_PREFIX = "EmuSync."
PAGE_PREFIX = "EmuPage."
ALL_FIELDS = frozenset(wire.PERSON_FIELDS)
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
BATCH_GET_MAX = 200
BATCH_CREATE_MAX = 200
BATCH_UPDATE_MAX = 200
BATCH_DELETE_MAX = 500
SEARCH_MAX = 30
MEMBERS_MODIFY_MAX = 1000


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer with Google's content type (``body`` may be already encoded bytes)."""
    data = body if isinstance(body, bytes) else wire.dumps(body)
    return Response(data, status=status, content_type=JSON_TYPE)


@dataclass
class Call:
    """One API request as a handler sees it."""

    request: Request
    args: MultiDict[str, str]
    body: Any
    user: str
    token: AccessToken
    path: dict[str, str]


Handler = Callable[["PeopleApi", Call], Any]


@dataclass(frozen=True)
class ApiRoute:
    """A People API method: HTTP method, path pattern, handler, whether it writes."""

    http_method: str
    pattern: re.Pattern[str]
    name: str
    handler: Handler
    write: bool


def _int_param(args: MultiDict[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidArgumentError(f"Invalid value at '{name}' (TYPE_INT32), \"{raw}\"") from exc


def _bool_param(args: MultiDict[str, str], name: str) -> bool:
    raw = (args.get(name) or "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise InvalidArgumentError(f"Invalid value at '{name}' (TYPE_BOOL), \"{raw}\"")
    return raw in ("true", "1")


def _page_size(args: MultiDict[str, str], default: int, maximum: int) -> int:
    size = _int_param(args, "pageSize", 0)
    if size < 0 or size > maximum:
        raise InvalidArgumentError(f"pageSize must be between 0 and {maximum}, got {size}.")
    return size or default


def _sources(args: MultiDict[str, str]) -> list[str]:
    sources = sorted(args.getlist("sources"))
    for source in sources:
        if source not in wire.READ_SOURCES:
            raise InvalidArgumentError(
                f"Invalid value at 'sources' (type.googleapis.com/google.people.v1.ReadSourceType), \"{source}\""
            )
    return sources


class PeopleApi:
    """Handlers of the People API methods, bound to one ``EmulatorState``."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # ----------------------------------------------------------------- people: reads

    def connections_list(self, call: Call) -> Any:
        """people.connections.list (``people/me`` only)."""
        if call.path["person"] != "me":
            raise InvalidArgumentError("Must be 'people/me'.")
        args = call.args
        fields = _person_fields(args)
        size = _page_size(args, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        sort_order = args.get("sortOrder") or "LAST_MODIFIED_ASCENDING"
        if sort_order not in wire.SORT_ORDERS:
            raise InvalidArgumentError(f"Invalid value at 'sort_order', \"{sort_order}\"")
        sources = _sources(args)
        request_sync = _bool_param(args, "requestSyncToken")
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
        if people:
            items = [wire.person_json(c, fields, in_list=True) for c in people]
            return wire.with_items("connections", items, answer)
        return answer

    def get(self, call: Call) -> Any:
        """people.get (``people/me`` gives the token owner's profile)."""
        fields = _person_fields(call.args)
        _sources(call.args)
        return self._get_one(call.user, "people/" + call.path["person"], fields)

    def _get_one(self, email: str, name: str, fields: frozenset[str]) -> dict[str, Any]:
        if name == "people/me":
            return wire.render_profile(self.state.user(email), fields)
        wire.check_resource_name(name)
        return wire.render_person(self.state.get_contact(email, name), fields)

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
        responses = []
        for name in names:
            try:
                person = self._get_one(call.user, name, fields)
            except GoogleApiError as exc:
                responses.append(
                    {
                        "requestedResourceName": name,
                        "httpStatusCode": exc.code,
                        "status": {"code": _RPC_CODES[exc.status], "message": exc.message},
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
        size = _page_size(args, 10, SEARCH_MAX)
        query = (args.get("query") or "").strip().casefold()
        _sources(args)
        if not query:
            return {}
        results = []
        digits = re.sub(r"\D", "", query)
        for contact in self.state.user(call.user).live_contacts():
            if _matches(contact, query, digits):
                results.append({"person": wire.render_person(contact, fields)})
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
        stored, groups, _ = wire.parse_person(call.body or {})
        contact = self.state.create_contacts(call.user, [(stored, groups)])[0]
        return wire.render_person(contact, fields)

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
        stored, groups, etag = wire.parse_person(body)
        contact = self.state.update_contacts(call.user, [(name, etag, stored, groups)], mask)[0]
        return wire.render_person(contact, fields)

    def delete(self, call: Call) -> Any:
        """people.deleteContact."""
        name = wire.check_resource_name("people/" + call.path["person"])
        self.state.delete_contacts(call.user, [name])
        return {}

    def batch_create(self, call: Call) -> Any:
        """people.batchCreateContacts (at most 200)."""
        body = _object(call.body)
        fields = wire.parse_mask(body.get("readMask"), param="readMask", allowed=wire.PERSON_FIELDS)
        contacts = body.get("contacts") or []
        if not isinstance(contacts, list) or not contacts:
            raise InvalidArgumentError("contacts must not be empty.")
        if len(contacts) > BATCH_CREATE_MAX:
            raise InvalidArgumentError(f"Too many contacts: at most {BATCH_CREATE_MAX} per batch.")
        people = []
        for item in contacts:
            stored, groups, _ = wire.parse_person(_object(item).get("contactPerson") or {})
            people.append((stored, groups))
        created = self.state.create_contacts(call.user, people)
        items = [
            b'{"httpStatusCode":200,"person":' + wire.person_json(c, fields) + b',"status":{}}'
            for c in created
        ]
        return wire.with_items("createdPeople", items, {})

    def batch_update(self, call: Call) -> Any:
        """people.batchUpdateContacts (at most 200; all or none)."""
        body = _object(call.body)
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
        updated = self.state.update_contacts(call.user, updates, mask)
        return {
            "updateResult": {
                c.resource_name: {
                    "requestedResourceName": c.resource_name,
                    "httpStatusCode": 200,
                    "person": wire.render_person(c, fields),
                    "status": {},
                }
                for c in updated
            }
        }

    def batch_delete(self, call: Call) -> Any:
        """people.batchDeleteContacts (at most 500; all or none)."""
        names = _object(call.body).get("resourceNames") or []
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

    def groups_list(self, call: Call) -> Any:
        """contactGroups.list (system and user groups; no sync tokens)."""
        args = call.args
        fields = _group_fields(args.get("groupFields"))
        size = _page_size(args, 30, 1000)
        start = 0
        if args.get("pageToken"):
            start = int(wire.decode_token(PAGE_PREFIX, args["pageToken"], what="page token")[0])
        groups = list(self.state.user(call.user).groups.values())
        answer: dict[str, Any] = {
            "contactGroups": [wire.render_group(g, fields) for g in groups[start : start + size]],
            "totalItems": len(groups),
        }
        if start + size < len(groups):
            answer["nextPageToken"] = wire.encode_token(PAGE_PREFIX, [start + size])
        return answer

    def group_get(self, call: Call) -> Any:
        """contactGroups.get."""
        group = self.state.get_group(call.user, call.path["group"])
        fields = _group_fields(call.args.get("groupFields"), default=wire.GROUP_FIELDS)
        max_members = _int_param(call.args, "maxMembers", 0)
        return wire.render_group(group, fields, max_members=max_members)

    def group_create(self, call: Call) -> Any:
        """contactGroups.create; 409 for a name already used."""
        body = _object(call.body)
        group_body = _object(body.get("contactGroup"))
        fields = _group_fields(body.get("readGroupFields"), default=wire.GROUP_FIELDS)
        group = self.state.create_group(
            call.user, str(group_body.get("name") or ""), _client_data(group_body)
        )
        return wire.render_group(group, fields)

    def group_update(self, call: Call) -> Any:
        """contactGroups.update (``updateGroupFields`` default ``name``)."""
        body = _object(call.body)
        group_body = _object(body.get("contactGroup"))
        update_fields = _group_fields(body.get("updateGroupFields") or "name", default=frozenset())
        read_fields = _group_fields(body.get("readGroupFields"), default=wire.GROUP_FIELDS)
        group = self.state.update_group(
            call.user,
            call.path["group"],
            etag=group_body.get("etag"),
            name=str(group_body.get("name") or "") if "name" in update_fields else None,
            client_data=_client_data(group_body) if "clientData" in update_fields else None,
        )
        return wire.render_group(group, read_fields)

    def group_delete(self, call: Call) -> Any:
        """contactGroups.delete (``deleteContacts`` also deletes the members)."""
        self.state.delete_group(
            call.user, call.path["group"], delete_contacts=_bool_param(call.args, "deleteContacts")
        )
        return {}

    def members_modify(self, call: Call) -> Any:
        """contactGroups.members.modify (at most 1000 names each way)."""
        body = _object(call.body)
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


_RPC_CODES = {
    "INVALID_ARGUMENT": 3,
    "FAILED_PRECONDITION": 9,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "UNAUTHENTICATED": 16,
    "RESOURCE_EXHAUSTED": 8,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
}


def _person_fields(args: MultiDict[str, str]) -> frozenset[str]:
    """``personFields`` (or the deprecated ``requestMask.includeField``); 400 when neither."""
    raw = args.get("personFields") or args.get("requestMask.includeField")
    return wire.parse_mask(raw, param="personFields", allowed=wire.PERSON_FIELDS)


def _object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgumentError("Invalid JSON payload received. Expected an object.")
    return value


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
            canonical = re.sub(r"\D", "", wire.canonical_phone(str(phone.get("value") or "")) or "")
            if value.startswith(digits) or canonical.startswith(digits):
                return True
    return False


def _route(method: str, path: str, name: str, handler: Handler, *, write: bool = False) -> ApiRoute:
    pattern = re.compile("^" + path + "$")
    return ApiRoute(method, pattern, name, handler, write)


_ID = r"(?P<person>c\d+|me|\d+)"
_GROUP = r"(?P<group>contactGroups/[A-Za-z0-9]+)"
API_ROUTES: tuple[ApiRoute, ...] = (
    _route(
        "GET",
        r"/v1/people/(?P<person>me)/connections",
        "people.connections.list",
        PeopleApi.connections_list,
    ),
    _route("GET", r"/v1/people:batchGet", "people.getBatchGet", PeopleApi.get_batch),
    _route("GET", r"/v1/people:searchContacts", "people.searchContacts", PeopleApi.search),
    _route(
        "POST", r"/v1/people:createContact", "people.createContact", PeopleApi.create, write=True
    ),
    _route(
        "POST",
        r"/v1/people:batchCreateContacts",
        "people.batchCreateContacts",
        PeopleApi.batch_create,
        write=True,
    ),
    _route(
        "POST",
        r"/v1/people:batchUpdateContacts",
        "people.batchUpdateContacts",
        PeopleApi.batch_update,
        write=True,
    ),
    _route(
        "POST",
        r"/v1/people:batchDeleteContacts",
        "people.batchDeleteContacts",
        PeopleApi.batch_delete,
        write=True,
    ),
    _route(
        "PATCH",
        rf"/v1/people/{_ID}:updateContact",
        "people.updateContact",
        PeopleApi.update,
        write=True,
    ),
    _route(
        "DELETE",
        rf"/v1/people/{_ID}:deleteContact",
        "people.deleteContact",
        PeopleApi.delete,
        write=True,
    ),
    _route("GET", rf"/v1/people/{_ID}", "people.get", PeopleApi.get),
    _route("GET", r"/v1/contactGroups", "contactGroups.list", PeopleApi.groups_list),
    _route(
        "POST", r"/v1/contactGroups", "contactGroups.create", PeopleApi.group_create, write=True
    ),
    _route(
        "POST",
        rf"/v1/{_GROUP}/members:modify",
        "contactGroups.members.modify",
        PeopleApi.members_modify,
        write=True,
    ),
    _route("GET", rf"/v1/{_GROUP}", "contactGroups.get", PeopleApi.group_get),
    _route("PUT", rf"/v1/{_GROUP}", "contactGroups.update", PeopleApi.group_update, write=True),
    _route("DELETE", rf"/v1/{_GROUP}", "contactGroups.delete", PeopleApi.group_delete, write=True),
)
_BATCH_SIZES: dict[str, Callable[[Any], int]] = {
    "people.batchCreateContacts": lambda b: len(b.get("contacts") or []),
    "people.batchUpdateContacts": lambda b: len(b.get("contacts") or {}),
    "people.batchDeleteContacts": lambda b: len(b.get("resourceNames") or []),
}


def find_route(method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
    """The API route serving ``method path`` and its path parameters."""
    for route in API_ROUTES:
        if route.http_method != method:
            continue
        match = route.pattern.match(path)
        if match:
            return route, match.groupdict()
    return None


def handle_api(api: PeopleApi, request: Request) -> Response:
    """Serve one People API request (Google error body on failure)."""
    state = api.state
    http_method = request.method
    args = request.args
    override = request.headers.get("X-HTTP-Method-Override")
    if http_method == "POST" and override:
        # googleapiclient turns a GET whose URL passes 2,048 characters into such a POST.
        http_method = override.upper()
        args = MultiDict([*request.args.items(multi=True), *request.form.items(multi=True)])
    found = find_route(http_method, request.path)
    method_name = found[0].name if found else None
    started = time.perf_counter()
    started_cpu = time.thread_time()
    user: str | None = None
    try:
        if found is None:
            raise MethodNotFoundError(f"Method not found: {http_method} {request.path}")
        route, path = found
        raw = b"" if override else request.get_data(cache=False)
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError as exc:
            raise InvalidArgumentError("Invalid JSON payload received.") from exc
        with state.lock:
            token = state.authenticate(request.headers.get("Authorization"))
            user = token.user
            if path.get("person") != "me" or route.name != "people.get":
                state.require_scope(token, write=route.write)
            latency = state.faults.latency_ms
        if latency > 0:
            time.sleep(latency / 1000)
            started = time.perf_counter()
            started_cpu = time.thread_time()
        with state.lock:
            size_of = _BATCH_SIZES.get(route.name)
            contacts = size_of(body) if size_of and isinstance(body, dict) else 0
            if route.write and not size_of:
                contacts = 1 if route.name.startswith("people.") else 0
            extra = None
            if route.name == "people.connections.list" and not (
                args.get("pageToken") or args.get("syncToken")
            ):
                extra = {"full_sync": 1}
            state.charge_quota(user, route.name, contacts, extra)
            injected = state.draw_error()
            if injected is not None:
                raise injected
            call = Call(request, args, body, user, token, path)
            answer = route.handler(api, call)
            if route.write and state.draw_fail_after_apply():
                raise UnavailableError("The service is currently unavailable.")
            response = json_response(answer)
            state.user(user).stats.record_time(
                route.name, time.perf_counter() - started, time.thread_time() - started_cpu
            )
            return response
    except GoogleApiError as exc:
        with state.lock:
            if user is not None:
                stats = state.user(user).stats
                stats.errors[exc.status] += 1
                if method_name:
                    stats.record_time(
                        method_name,
                        time.perf_counter() - started,
                        time.thread_time() - started_cpu,
                    )
        if exc.code >= 500:
            logger.info("%s %s → %s (%s)", request.method, request.path, exc.code, exc.message)
        return json_response(exc.to_body(method_name), exc.code)


class EmulatorApp:
    """The whole emulator as one WSGI app: People API, OAuth2 and admin API."""

    def __init__(self, state: EmulatorState, *, auto_approve: bool = False) -> None:
        from atarys.emulator.admin import AdminApi
        from atarys.emulator.oauth import OAuthServer

        self.state = state
        self.api = PeopleApi(state)
        self.oauth = OAuthServer(state, auto_approve=auto_approve)
        self.admin = AdminApi(state)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        if path.startswith("/_emulator/"):
            response = self.admin.handle(request)
        elif path.startswith(("/o/oauth2/", "/token", "/revoke")):
            response = self.oauth.handle(request)
        else:
            response = handle_api(self.api, request)
        return response(environ, start_response)
