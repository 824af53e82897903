"""Google API errors raised by the emulator's state and wire layers.

Each class is one Google error: its HTTP code, its canonical ``status`` string and,
when Google sends one, the ``ErrorInfo`` reason. ``to_body()`` renders Google's
error body::

    {"error": {"code": 400, "message": "...", "status": "FAILED_PRECONDITION",
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "...", "domain": "...", "metadata": {...}}]}}
"""

from __future__ import annotations

from typing import Any, ClassVar

ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
QUOTA_FAILURE_TYPE = "type.googleapis.com/google.rpc.QuotaFailure"
BATCH_CREATE_DETAILS_TYPE = "type.googleapis.com/google.people.v1.BatchCreateContactsErrorDetails"
BATCH_UPDATE_DETAILS_TYPE = "type.googleapis.com/google.people.v1.BatchUpdateContactsErrorDetails"
PEOPLE_SERVICE = "people.googleapis.com"

#: google.rpc.Code numbers of the statuses the emulator answers.
RPC_CODES = {
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


class GoogleApiError(Exception):
    """Base class: one Google error answer (``code``, ``status``, ``message``, ``reason``)."""

    code: ClassVar[int] = 500
    status: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "InternalError error encountered."
    default_reason: ClassVar[str | None] = None
    domain: ClassVar[str] = "googleapis.com"

    def __init__(
        self,
        message: str | None = None,
        *,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.reason = reason or self.default_reason
        self.metadata = metadata or {}
        #: Details sent instead of the ErrorInfo (e.g. a QuotaFailure).
        self.details = details
        super().__init__(self.message)

    def error_details(self, method: str | None = None) -> list[dict[str, Any]]:
        """The ``details`` of the error body (an ErrorInfo when there is a reason)."""
        if self.details is not None:
            return self.details
        if not self.reason:
            return []
        metadata = {"service": PEOPLE_SERVICE, **self.metadata}
        if method:
            metadata.setdefault("method", f"google.people.v1.{method}")
        return [
            {
                "@type": ERROR_INFO_TYPE,
                "reason": self.reason,
                "domain": self.domain,
                "metadata": metadata,
            }
        ]

    def to_status(self) -> dict[str, Any]:
        """This error as a ``google.rpc.Status`` (batch answers, per-contact errors)."""
        status: dict[str, Any] = {"code": RPC_CODES[self.status], "message": self.message}
        details = self.error_details()
        if details:
            status["details"] = details
        return status

    def to_body(self, method: str | None = None) -> dict[str, Any]:
        """Google's JSON error body for this error."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        details = self.error_details(method)
        if details:
            error["details"] = details
        return {"error": error}


class InvalidArgumentError(GoogleApiError):
    """400 INVALID_ARGUMENT: a malformed or missing request parameter."""

    code = 400
    status = "INVALID_ARGUMENT"
    default_message = "Request contains an invalid argument."


class FailedPreconditionError(GoogleApiError):
    """400 FAILED_PRECONDITION: the request cannot run in the current state (stale etag...)."""

    code = 400
    status = "FAILED_PRECONDITION"
    default_message = "Precondition check failed."


class StaleEtagError(FailedPreconditionError):
    """400 FAILED_PRECONDITION: the person etag sent with an update is not the current one."""

    default_message = (
        "Request person.etag is different than the current person.etag. "
        "Clear local cache and get the latest person."
    )


class ExpiredSyncTokenError(FailedPreconditionError):
    """400 FAILED_PRECONDITION, ErrorInfo reason ``EXPIRED_SYNC_TOKEN`` (Google never uses 410)."""

    default_message = (
        "Sync token is expired. Clear local cache and retry call without the sync token."
    )
    default_reason = "EXPIRED_SYNC_TOKEN"
    domain = PEOPLE_SERVICE


class ContactLimitReachedError(FailedPreconditionError):
    """400 FAILED_PRECONDITION: the account already holds the maximum number of contacts."""

    default_message = "Contact storage limit exceeded: an account holds at most 25000 contacts."
    default_reason = "CONTACT_LIMIT_EXCEEDED"
    domain = PEOPLE_SERVICE


class UnauthenticatedError(GoogleApiError):
    """401 UNAUTHENTICATED: missing, unknown, expired or revoked bearer token."""

    code = 401
    status = "UNAUTHENTICATED"
    default_message = (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential. "
        "See https://developers.google.com/identity/sign-in/web/devconsole-project."
    )
    default_reason = "ACCESS_TOKEN_TYPE_UNSUPPORTED"


class PermissionDeniedError(GoogleApiError):
    """403 PERMISSION_DENIED: the token lacks a scope the method needs."""

    code = 403
    status = "PERMISSION_DENIED"
    default_message = "Request had insufficient authentication scopes."
    default_reason = "ACCESS_TOKEN_SCOPE_INSUFFICIENT"


class NotFoundError(GoogleApiError):
    """404 NOT_FOUND: unknown (or deleted) person or contact group."""

    code = 404
    status = "NOT_FOUND"
    default_message = "Requested entity was not found."


class AlreadyExistsError(GoogleApiError):
    """409 ALREADY_EXISTS: e.g. a contact group with the same name."""

    code = 409
    status = "ALREADY_EXISTS"
    default_message = "Contact group name already exists."


class ResourceExhaustedError(GoogleApiError):
    """429 RESOURCE_EXHAUSTED, reason ``RATE_LIMIT_EXCEEDED``: a per-minute quota bucket is full."""

    code = 429
    status = "RESOURCE_EXHAUSTED"
    default_message = "Quota exceeded."
    default_reason = "RATE_LIMIT_EXCEEDED"


class BatchContactsError(GoogleApiError):
    """400: a batch create/update failed because of some of its contacts (none was written).

    ``contact_errors`` maps each failing contact (its index for a create, its resource
    name for an update) to its error; the body carries them in a
    ``BatchCreateContactsErrorDetails`` / ``BatchUpdateContactsErrorDetails`` detail.
    The top-level status and message are those of the first failing contact.
    """

    code = 400

    def __init__(self, kind: str, contact_errors: dict[str, GoogleApiError]) -> None:
        self.kind = kind
        self.contact_errors = contact_errors
        first = next(iter(contact_errors.values()))
        self.status = first.status  # type: ignore[misc]
        super().__init__(first.message)

    def error_details(self, method: str | None = None) -> list[dict[str, Any]]:
        """One ``Batch*ContactsErrorDetails`` detail with every contact's Status."""
        kind = BATCH_CREATE_DETAILS_TYPE if self.kind == "create" else BATCH_UPDATE_DETAILS_TYPE
        errors = {key: error.to_status() for key, error in self.contact_errors.items()}
        return [{"@type": kind, "contactErrors": errors}]


class InternalError(GoogleApiError):
    """500 INTERNAL: an injected server error."""

    code = 500
    status = "INTERNAL"
    default_message = "InternalError error encountered."


class UnavailableError(GoogleApiError):
    """503 UNAVAILABLE: an injected transient error (also used for "fail after apply")."""

    code = 503
    status = "UNAVAILABLE"
    default_message = "The service is currently unavailable."


class MethodNotFoundError(GoogleApiError):
    """404 NOT_FOUND for a path no People API method serves."""

    code = 404
    status = "NOT_FOUND"
    default_message = "Method not found."


class ServiceDisabledError(PermissionDeniedError):
    """403 PERMISSION_DENIED, reason SERVICE_DISABLED: the People API is off for the project."""

    default_message = (
        "People API has not been used in project 0 before or it is disabled. Enable it by "
        "visiting https://console.developers.google.com/apis/api/people.googleapis.com/overview "
        "then retry."
    )
    default_reason = "SERVICE_DISABLED"


def error_for_http_code(code: int, message: str | None = None) -> GoogleApiError:
    """An injected error for an HTTP code: 429 → RESOURCE_EXHAUSTED (RATE_LIMIT_EXCEEDED),
    500 → INTERNAL, anything else → 503 UNAVAILABLE."""
    if code == 429:
        from atarys.emulator.models.quota import quota_error

        error = quota_error("critical_read", 0)
        if message:
            error.message = message
        return error
    if code == 500:
        return InternalError(message)
    return UnavailableError(message)
