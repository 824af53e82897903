"""The Google side: the People API through google-api-python-client.

Reads use ``connections.list`` with ``requestSyncToken``/``syncToken`` and every page,
asking for the contacts' own data only (``sources=READ_SOURCE_TYPE_CONTACT``). The
stored cursor is the sync token prefixed with a tag of the request it was made with
(person fields, sources): a release that asks for other fields drops the token
deliberately, once, instead of sending it. Any 400 (``EXPIRED_SYNC_TOKEN``, an
``INVALID_ARGUMENT`` for changed parameters) or 410 on a sync-token listing drops the
token and lists everything once. Batch creates/updates refused for some contacts
(``Batch*ContactsErrorDetails.contactErrors``) raise ``ContactsRejectedError`` naming
only those. Writes use the People API's own batch methods
(create/update ≤ 200, delete ≤ 500, get ≤ 200), one call at a time, updates carrying
the contact's etag. 429/500/503 and network errors are retried with exponential
backoff and jitter (tenacity); a client-side per-minute budget per quota bucket keeps
a large first sync under Google's limits. Calls are counted per method.
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from atarys.sync.core.errors import (
    AuthError,
    ContactLimitError,
    GoogleApiError,
    GoogleUnavailableError,
    QuotaExceededError,
    ServiceDisabledError,
    StaleItemError,
    SyncError,
    WriteRejectedError,
)
from atarys.sync.core.mapping import (
    CLIENT_DATA_KEY,
    PERSON_FIELDS,
    Person,
    apply_record,
    client_id_of,
    client_ids_of,
    group_names,
    is_deleted,
    person_emails,
    person_record,
    previous_resource_names,
    record_to_person,
    update_time,
)
from atarys.sync.core.plan import parse_time
from atarys.sync.core.records import Record
from atarys.sync.sides.base import CallCounter, Change, Item, Listing, NewItem

logger = logging.getLogger("atarys.sync.google")

GROUP_NAME = "ATARYS"
# Cost of each method in Google's per-minute quota buckets (see notes/people-api.md).
COSTS: dict[str, dict[str, int]] = {
    "connections.list": {"critical_read": 1},
    "people.get": {"critical_read": 1},
    "people.batchGet": {"critical_read": 1},
    "people.batchCreateContacts": {"critical_read": 6, "critical_write": 6},
    "people.batchUpdateContacts": {"critical_read": 6, "critical_write": 6},
    "people.batchDeleteContacts": {"write": 10},
    "contactGroups.list": {"critical_read": 1},
    "contactGroups.create": {"write": 1},
}
DEFAULT_BUDGET: dict[str, int] = {"critical_read": 90, "critical_write": 90, "write": 90}
RETRYABLE_STATUS = (429, 500, 502, 503, 504)
# ErrorInfo reason of a create refused because the account holds 25,000 contacts.
CONTACT_LIMIT_REASON = "CONTACT_LIMIT_EXCEEDED"


# Only the contact's own data: profile values are not the client's (and never written).
READ_SOURCES = ["READ_SOURCE_TYPE_CONTACT"]
# The request a sync token belongs to: with pageToken/syncToken Google wants the same
# parameters as the first call, so a token is only worth sending with the same tag.
REQUEST_TAG = hashlib.sha1(
    f"{PERSON_FIELDS}|{','.join(READ_SOURCES)}".encode(), usedforsecurity=False
).hexdigest()[:10]
CURSOR_PREFIX = "pf1."


def pack_cursor(token: str | None) -> str | None:
    """The stored cursor: Google's sync token with the tag of the request it was made with."""
    return f"{CURSOR_PREFIX}{REQUEST_TAG}|{token}" if token else None


def unpack_cursor(cursor: str | None) -> str | None:
    """The sync token of a stored cursor, or ``None`` when it was made for another request
    (another release's fields, or a token stored before tags existed)."""
    if not cursor or not cursor.startswith(CURSOR_PREFIX) or "|" not in cursor:
        return None
    tag, token = cursor[len(CURSOR_PREFIX) :].split("|", 1)
    return token if tag == REQUEST_TAG and token else None


class _ExpiredSyncTokenError(Exception):
    """The sync token was refused: list everything again."""


class ContactsRejectedError(WriteRejectedError):
    """Google refused a batch create/update because of some of its contacts only.

    ``ids`` names those (resource names for an update, indices in the batch for a
    create); ``errors`` maps each to Google's reason. Nothing of the batch was written.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(list(errors), "; ".join(sorted(set(errors.values()))))
        self.message = "Google a refusé ce contact (valeur refusée par Google)."
        self.args = (self.message,)


def _contact_errors(exc: BaseException) -> dict[str, tuple[int, str]]:
    """``contactErrors`` of a failed batch create/update: contact key → (code, message)."""
    cause = exc.__cause__ if not isinstance(exc, HttpError) else exc
    if not isinstance(cause, HttpError):
        return {}
    try:
        content = cause.content
        body = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
    except (ValueError, UnicodeDecodeError):
        return {}
    error = body.get("error", {}) if isinstance(body, dict) else {}
    found: dict[str, tuple[int, str]] = {}
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        kind = str(detail.get("@type", ""))
        errors = detail.get("contactErrors")
        if kind.endswith("ContactsErrorDetails") and isinstance(errors, dict):
            for key, status in errors.items():
                status = status if isinstance(status, dict) else {}
                code = status.get("code")
                found[str(key)] = (
                    int(code) if isinstance(code, int) else 400,
                    str(status.get("message") or "refusé"),
                )
    return found


class QuotaBudget:
    """A sliding one-minute window per bucket: waits before a call would exceed it."""

    def __init__(
        self,
        limits: dict[str, int],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = dict(limits)
        self.sleep = sleep
        self.clock = clock
        self.spent: dict[str, deque[tuple[float, int]]] = {}
        self.waited = 0.0

    def take(self, costs: dict[str, int]) -> None:
        for bucket, cost in costs.items():
            limit = self.limits.get(bucket)
            if not limit:
                continue
            window = self.spent.setdefault(bucket, deque())
            while True:
                now = self.clock()
                while window and window[0][0] <= now - 60:
                    window.popleft()
                used = sum(c for _, c in window)
                if used + cost <= limit or not window:
                    break
                pause = window[0][0] + 60 - now
                self.waited += pause
                self.sleep(max(pause, 0.01))
            window.append((self.clock(), cost))


def _error_info(exc: HttpError) -> tuple[int, str, str, str]:
    """(HTTP status, status string, ErrorInfo reason, message) of a Google error."""
    status = int(exc.resp.status)
    try:
        body = json.loads(
            exc.content.decode("utf-8") if isinstance(exc.content, bytes) else exc.content
        )
    except (ValueError, UnicodeDecodeError):
        return status, "", "", str(exc)
    error = body.get("error", {}) if isinstance(body, dict) else {}
    reason = ""
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("reason"):
            reason = str(detail["reason"])
            break
    return status, str(error.get("status", "")), reason, str(error.get("message", ""))


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, HttpError):
        return int(exc.resp.status) in RETRYABLE_STATUS
    return isinstance(exc, (TransportError, httplib2.HttpLib2Error, ConnectionError, TimeoutError))


class PersonCache:
    """Raw persons read in this run, kept for a later update (``apply_record`` sends
    back every entry of a field it touches), serialized: a first sync reads every
    contact of the account, and 25,000 persons as Python dicts would weigh ~200 MB.

    ``marshal`` (what this process wrote, read back by this process): as compact as JSON
    and twice as fast both ways; orjson's output held ~4 KB per person."""

    def __init__(self) -> None:
        # resourceName → (etag, the person serialized, its mapped fields as read)
        self._raw: dict[str, tuple[str, bytes, Record]] = {}

    def __contains__(self, resource_name: object) -> bool:
        return resource_name in self._raw

    def __len__(self) -> int:
        return len(self._raw)

    def put(self, resource_name: str, etag: str, person: Person, record: Record) -> None:
        self._raw[resource_name] = (etag, marshal.dumps(person), record)

    def record(self, resource_name: str) -> Record | None:
        """``person_to_record`` of the kept person (read once, with the listing)."""
        found = self._raw.get(resource_name)
        return found[2] if found is not None else None

    def etag(self, resource_name: str) -> str | None:
        found = self._raw.get(resource_name)
        return found[0] if found is not None else None

    def get(self, resource_name: str) -> Person | None:
        found = self._raw.get(resource_name)
        if found is None:
            return None
        person = marshal.loads(found[1])  # noqa: S302 (bytes this process made)
        return person if isinstance(person, dict) else None

    def pop(self, resource_name: str) -> None:
        self._raw.pop(resource_name, None)


# What an update body carries beside the fields of its mask: the contact's version.
_UPDATE_KEYS = ("resourceName", "etag", "metadata")


class GoogleSide:
    """Contacts of one Google account; ids are resourceNames."""

    name = "google"
    create_batch = 200
    update_batch = 200
    delete_batch = 500
    get_batch = 200

    def __init__(
        self,
        people: Any,
        *,
        region: str = "FR",
        import_scope: str = "all",
        group: str | None = None,
        budget: dict[str, int] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        attempts: int = 6,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        page_size: int = 1000,
    ) -> None:
        self.people = people
        # googleapiclient builds a resource's methods (and their docstrings) anew on every
        # ``people()`` call: build them once per side.
        self._persons = people.people()
        self._connections = self._persons.connections()
        self.region = region
        self.import_scope = import_scope
        self.group = group
        self.sleep = sleep
        self.budget = QuotaBudget(
            {**DEFAULT_BUDGET, **(budget or {})}, sleep=sleep, clock=monotonic
        )
        self.attempts = attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.page_size = page_size
        self._backoff = wait_exponential_jitter(
            multiplier=backoff_initial, max=backoff_max, jitter=backoff_initial
        )
        self.counter = CallCounter()
        self.retries = 0
        self.cache = PersonCache()

    # --- calls ------------------------------------------------------------------------

    def _call(self, method: str, request: Any, *, idempotent: bool = True) -> dict[str, Any]:
        """Execute one request: budget, count, retry, and typed errors.

        A non-idempotent call (a create) is retried only on 429, which Google answers
        before doing anything: a 5xx may come after the write was applied (a lost
        response), and sending it again would make a duplicate. The next run then
        finds the created contacts by their ``clientData``.
        """

        def retryable(exc: BaseException) -> bool:
            if not idempotent:
                return isinstance(exc, HttpError) and int(exc.resp.status) == 429
            return _retryable(exc)

        def attempt() -> Any:
            self.budget.take(COSTS.get(method, {"critical_read": 1}))
            self.counter.count(method)
            return request.execute(num_retries=0)

        def before_sleep(state: RetryCallState) -> None:
            self.retries += 1
            outcome = state.outcome
            exc = outcome.exception() if outcome else None
            logger.info("retrying %s after %s", method, type(exc).__name__)

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._backoff,
            retry=retry_if_exception(retryable),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            result = retrying(attempt)
        except HttpError as exc:
            raise self._translate(exc) from exc
        except RefreshError as exc:
            raise AuthError() from exc
        except (TransportError, httplib2.HttpLib2Error, ConnectionError, TimeoutError) as exc:
            raise GoogleUnavailableError() from exc
        return result if isinstance(result, dict) else {}

    def _translate(self, exc: HttpError) -> Exception:
        status, status_text, reason, message = _error_info(exc)
        if reason == "EXPIRED_SYNC_TOKEN" or (
            status == 400 and "sync token is expired" in message.lower()
        ):
            return _ExpiredSyncTokenError(message)
        if status == 403 and reason == "SERVICE_DISABLED":
            return ServiceDisabledError()
        if status in (401, 403):
            return AuthError()
        if status == 429:
            retry_after = float(exc.resp.get("retry-after", 60) or 60)
            return QuotaExceededError(retry_after)
        if status >= 500:
            return GoogleUnavailableError()
        return GoogleApiError(status, reason or status_text, message)

    # --- reading ----------------------------------------------------------------------

    def _item(self, person: Person, *, keep: bool = True) -> Item:
        """The item of a person; ``keep``: remember the raw person for a later update
        (not for contacts just created: a first sync would hold every one of them)."""
        rn = str(person.get("resourceName", ""))
        etag = str(person.get("etag", ""))
        if is_deleted(person):
            self.cache.pop(rn)
            return Item(
                rn,
                etag,
                Record(),
                deleted=True,
                previous_ids=tuple(previous_resource_names(person)),
            )
        in_scope = self.import_scope != "group" or (
            self.group is not None and self.group in group_names(person)
        )
        record, notes = person_record(person, self.region)
        if keep:
            self.cache.put(rn, etag, person, record)
        return Item(
            id=rn,
            etag=etag,
            record=record,
            updated=parse_time(update_time(person)),
            hint=client_id_of(person),
            in_scope=in_scope,
            previous_ids=tuple(previous_resource_names(person)),
            emails=person_emails(person),
            hints=client_ids_of(person),
            notes=notes,
        )

    def _list(self, sync_token: str | None) -> Listing:
        items: list[Item] = []
        page_token: str | None = None
        expected: int | None = None
        next_sync: str | None = None
        while True:
            params: dict[str, Any] = {
                "resourceName": "people/me",
                "personFields": PERSON_FIELDS,
                "pageSize": self.page_size,
                "requestSyncToken": True,
                "sources": READ_SOURCES,
            }
            if sync_token:
                params["syncToken"] = sync_token
            if page_token:
                params["pageToken"] = page_token
            resp = self._call("connections.list", self._connections.list(**params))
            items.extend(self._item(p) for p in resp.get("connections") or [])
            if isinstance(resp.get("totalItems"), int):
                expected = int(resp["totalItems"])
            page_token = resp.get("nextPageToken")
            if not page_token:
                next_sync = resp.get("nextSyncToken")
                break
        full = sync_token is None
        return Listing(items, next_sync, full=full, expected=expected if full else None)

    def _listing(self, sync_token: str | None) -> Listing:
        listing = self._list(sync_token)
        return Listing(listing.items, pack_cursor(listing.cursor), listing.full, listing.expected)

    def list_changes(self, cursor: str | None) -> Listing:
        token = unpack_cursor(cursor)
        if token is None:
            if cursor:
                logger.info("sync token made for another request: full listing")
                listing = self._listing(None)
                return Listing(
                    listing.items, listing.cursor, True, listing.expected, cursor_expired=True
                )
            return self._listing(None)
        try:
            return self._listing(token)
        except (_ExpiredSyncTokenError, GoogleApiError) as exc:
            if isinstance(exc, GoogleApiError) and exc.status not in (400, 410):
                raise
            # expired, or refused for its parameters: drop it and list everything once
            logger.info("sync token refused (%s): full listing", type(exc).__name__)
            listing = self._listing(None)
            return Listing(
                listing.items, listing.cursor, True, listing.expected, cursor_expired=True
            )

    def ids(self) -> set[str]:
        return {i.id for i in self._list(None).items if not i.deleted}

    def get(self, ids: Sequence[str]) -> dict[str, Item]:
        found: dict[str, Item] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), self.get_batch):
            chunk = unique[start : start + self.get_batch]
            request = self._persons.getBatchGet(
                resourceNames=chunk, personFields=PERSON_FIELDS, sources=READ_SOURCES
            )
            resp = self._call("people.batchGet", request)
            for r in resp.get("responses") or []:
                person = r.get("person")
                if (
                    isinstance(person, dict)
                    and person.get("resourceName")
                    and not is_deleted(person)
                ):
                    found[str(person["resourceName"])] = self._item(person)
        return found

    def me(self) -> str | None:
        """The account's own e-mail address."""
        resp = self._call(
            "people.get",
            self._persons.get(resourceName="people/me", personFields="emailAddresses"),
        )
        emails = resp.get("emailAddresses") or []
        return str(emails[0]["value"]) if emails and emails[0].get("value") else None

    # --- writing ----------------------------------------------------------------------

    def ensure_group(self, *, create: bool = True) -> str | None:
        """The "ATARYS" contact group's resourceName, created when missing (and allowed)."""
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {"pageSize": 1000}
            if page_token:
                params["pageToken"] = page_token
            resp = self._call("contactGroups.list", self.people.contactGroups().list(**params))
            for g in resp.get("contactGroups") or []:
                if g.get("name") == GROUP_NAME or g.get("formattedName") == GROUP_NAME:
                    self.group = str(g["resourceName"])
                    return self.group
            page_token = resp.get("nextPageToken")
            if not page_token:
                break
        if not create:
            return None
        try:
            resp = self._call(
                "contactGroups.create",
                self.people.contactGroups().create(body={"contactGroup": {"name": GROUP_NAME}}),
                idempotent=False,
            )
        except GoogleApiError as exc:
            if exc.status == 409:  # created meanwhile
                return self.ensure_group(create=False)
            raise
        self.group = str(resp["resourceName"])
        return self.group

    def _group_missing(self, exc: GoogleApiError) -> bool:
        """Google refused a write because our contact group no longer exists."""
        if self.group is None or exc.status not in (400, 404):
            return False
        detail = exc.detail.lower()
        return self.group.lower() in detail or (
            "contact group" in detail and ("not exist" in detail or "not found" in detail)
        )

    def create(self, items: Sequence[NewItem]) -> list[Item]:
        if not items:
            return []
        resp: dict[str, Any] = {}
        for attempt in range(2):
            contacts = [
                {"contactPerson": record_to_person(i.record, i.hint, self.group)} for i in items
            ]
            body = {"contacts": contacts, "readMask": PERSON_FIELDS, "sources": READ_SOURCES}
            try:
                resp = self._call(
                    "people.batchCreateContacts",
                    self._persons.batchCreateContacts(body=body),
                    idempotent=False,
                )
                break
            except GoogleApiError as exc:
                ids = [str(i) for i in range(len(items))]
                if exc.reason == CONTACT_LIMIT_REASON:
                    raise ContactLimitError(ids, exc.detail) from exc
                if attempt == 0 and self._group_missing(exc):
                    # the ATARYS group was deleted in Google: find or create it again, once
                    logger.info("contact group %s is gone: looking for it again", self.group)
                    self.group = None
                    self.ensure_group(create=True)
                    continue
                rejected = _contact_errors(exc)
                if exc.status == 400 and rejected:
                    raise ContactsRejectedError({k: m for k, (_, m) in rejected.items()}) from exc
                if exc.status == 400:
                    raise WriteRejectedError(ids, exc.detail) from exc
                raise
        created = [r.get("person") for r in resp.get("createdPeople") or []]
        if len(created) != len(items) or not all(isinstance(p, dict) for p in created):
            raise GoogleApiError(200, "PARTIAL_CREATE", "batchCreateContacts answered fewer people")
        return [self._item(p, keep=False) for p in created if isinstance(p, dict)]

    def update(self, changes: Sequence[Change]) -> list[Item]:
        def unknown(c: Change) -> bool:
            return c.id not in self.cache or (
                c.etag is not None and self.cache.etag(c.id) != c.etag
            )

        missing = [c.id for c in changes if unknown(c)]
        if missing:
            self.get(missing)
        stale = [c.id for c in changes if unknown(c)]
        if stale:
            raise StaleItemError(stale)
        bodies: dict[str, Person] = {}
        mask: set[str] = set()
        current: dict[str, Person] = {}
        for c in changes:
            person = self.cache.get(c.id)
            assert person is not None
            body, fields = apply_record(
                person, c.record, c.hint, self.region, current=self.cache.record(c.id)
            )
            if fields:
                bodies[c.id] = body
                mask.update(fields)
            else:
                current[c.id] = person
        # The record of a written contact is the one written (mapping Google's answer back
        # would cost a full read per contact; the next listing gives Google's rendering).
        targets = {c.id: c.record for c in changes if c.id in bodies}
        written: dict[str, Item] = {}
        if bodies:
            ordered = [f for f in PERSON_FIELDS.split(",") if f in mask]
            # Only the fields of the batch's mask go out (with the etag and sources Google
            # checks): a first sync's clientData writes would otherwise send every contact
            # whole. The mask is the batch's, so each body keeps all of its fields.
            keep = {*ordered, *_UPDATE_KEYS}
            bodies = {rn: {k: v for k, v in b.items() if k in keep} for rn, b in bodies.items()}
            request_body = {
                "contacts": bodies,
                "updateMask": ",".join(ordered),
                "readMask": PERSON_FIELDS,
                "sources": READ_SOURCES,
            }
            try:
                resp = self._call(
                    "people.batchUpdateContacts",
                    self._persons.batchUpdateContacts(body=request_body),
                )
            except GoogleApiError as exc:
                rejected = _contact_errors(exc)
                if exc.status == 400 and rejected:
                    # a stale etag or a contact gone (renamed, deleted): re-read those
                    stale = [
                        rn
                        for rn, (code, why) in rejected.items()
                        if rn in bodies and (code == 404 or "etag" in why.lower())
                    ]
                    if stale:
                        for rn in stale:
                            self.cache.pop(rn)
                        raise StaleItemError(stale) from exc
                    raise ContactsRejectedError({k: m for k, (_, m) in rejected.items()}) from exc
                if exc.status == 400 and (
                    "etag" in exc.detail.lower() or exc.reason == "FAILED_PRECONDITION"
                ):
                    for rn in bodies:
                        self.cache.pop(rn)
                    raise StaleItemError(list(bodies)) from exc
                if exc.status == 404:
                    for rn in bodies:
                        self.cache.pop(rn)
                    raise StaleItemError(list(bodies)) from exc
                if exc.status == 400:
                    raise WriteRejectedError(list(bodies), exc.detail) from exc
                raise
            for rn, r in (resp.get("updateResult") or {}).items():
                person = r.get("person") if isinstance(r, dict) else None
                # the contact as written; not kept (a first sync updates every contact
                # once: keeping each would hold the whole account): read again if needed
                self.cache.pop(rn)
                if isinstance(person, dict) and rn in targets:
                    written[rn] = Item(
                        id=str(person.get("resourceName") or rn),
                        etag=str(person.get("etag", "")),
                        record=targets[rn],
                        updated=parse_time(update_time(person)),
                        hint=client_id_of(person),
                    )
        out = []
        for c in changes:
            if c.id in written:
                out.append(written[c.id])
            elif c.id in current:
                out.append(self._item(current[c.id]))
            else:
                found = self.get([c.id])
                if c.id not in found:
                    raise StaleItemError([c.id])
                out.append(found[c.id])
        return out

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            self._call(
                "people.batchDeleteContacts",
                self._persons.batchDeleteContacts(body={"resourceNames": list(ids)}),
            )
        except GoogleApiError as exc:
            if exc.status not in (400, 404):
                raise
            present = list(self.get(ids))  # some were already gone: delete the rest
            if present and len(present) < len(ids):
                self.delete(present)
            elif present:
                raise
        for rn in ids:
            self.cache.pop(rn)

    # --- full copies (the trash) ------------------------------------------------------

    def copies(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Every field of these contacts, as ``people.get`` returns them (kept before a
        deletion so the contact can be restored whole: birthdays, notes, other e-mails)."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), self.get_batch):
            chunk = unique[start : start + self.get_batch]
            request = self._persons.getBatchGet(resourceNames=chunk, personFields=COPY_FIELDS)
            resp = self._call("people.batchGet", request)
            for r in resp.get("responses") or []:
                person = r.get("person")
                if (
                    isinstance(person, dict)
                    and person.get("resourceName")
                    and not is_deleted(person)
                ):
                    found[str(person["resourceName"])] = person
        return found

    def restore(self, copy: dict[str, Any], hint: str | None) -> Item:
        """Create a contact again from a kept copy, every field, tagged with ``hint``."""
        body: dict[str, Any] = {}
        for name, value in copy.items():
            if name not in COPY_FIELDS.split(",") or name in ("memberships", "clientData"):
                continue
            body[name] = _without_metadata(value)
        others = [
            {"key": e.get("key"), "value": e.get("value")}
            for e in copy.get("clientData") or []
            if isinstance(e, dict) and e.get("key") != CLIENT_DATA_KEY
        ]
        if hint is not None:
            others.append({"key": CLIENT_DATA_KEY, "value": hint})
        if others:
            body["clientData"] = others
        if self.group:
            body["memberships"] = [
                {"contactGroupMembership": {"contactGroupResourceName": self.group}}
            ]
        person = self._call(
            "people.createContact",
            self._persons.createContact(body=body, personFields=PERSON_FIELDS),
            idempotent=False,
        )
        return self._item(person)


COPY_FIELDS = (
    "addresses,biographies,birthdays,calendarUrls,clientData,emailAddresses,events,externalIds,"
    "genders,imClients,interests,locales,locations,memberships,miscKeywords,names,nicknames,"
    "occupations,organizations,phoneNumbers,relations,sipAddresses,urls,userDefined"
)


def _without_metadata(value: Any) -> Any:
    """A field's entries without their output-only ``metadata``."""
    if isinstance(value, list):
        return [_without_metadata(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_metadata(v) for k, v in value.items() if k != "metadata"}
    return value


__all__ = [
    "GROUP_NAME",
    "ContactsRejectedError",
    "GoogleSide",
    "QuotaBudget",
    "SyncError",
    "pack_cursor",
    "unpack_cursor",
]
