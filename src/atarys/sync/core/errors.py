"""Typed sync errors, raised where they arise and turned into HTTP/CLI answers at the edge.

Hierarchy::

    SyncError                      every sync failure; ``message`` is French, for a person
    ├── AccountBusyError           another run holds this account's lock
    ├── MassDeletionError          the breaker refused a plan (``counts``, ``reasons``)
    ├── NotConnectedError          no usable Google credentials for the account
    ├── AuthError                  Google refused the credentials (401/403)
    ├── QuotaExceededError         429 after every retry (``retry_after`` seconds)
    ├── GoogleUnavailableError     500/503/network after every retry
    ├── GoogleApiError             any other unexpected Google answer (``status``, ``reason``)
    ├── StaleItemError             a conditional write found a newer version (``ids``)
    ├── WriteRejectedError         a side refused a write (``ids``, ``detail``)
    │   └── ContactLimitError      Google refused creates: the account is full (25,000)
    ├── InvalidChoiceError         a bad conflict resolution or setting value
    ├── ClientNotFound / ContactNotFound / ConflictNotFound / RunNotFound
        (aliases ``ClientNotFoundError`` ... for callers that prefer the suffix)
"""

from __future__ import annotations

from collections.abc import Sequence


class SyncError(Exception):
    """Base of every sync error; ``message`` is French and meant for a person."""

    message: str = "Erreur de synchronisation."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class AccountBusyError(SyncError):
    """A run is already in progress for this account."""

    message = "Une synchronisation est déjà en cours pour ce compte."


class MassDeletionError(SyncError):
    """The plan deletes too much (or follows a suspicious listing); refused unless forced."""

    def __init__(self, counts: dict[str, int], reasons: Sequence[str]) -> None:
        self.counts = dict(counts)
        self.reasons = list(reasons)
        super().__init__(
            "Synchronisation refusée : suppressions massives. "
            + " ".join(self.reasons)
            + " Relancez avec --force si c'est voulu."
        )


class NotConnectedError(SyncError):
    """No usable Google credentials for this account."""

    message = "Google n'est pas connecté."
    reason = "not_connected"


class AuthError(SyncError):
    """Google refused the credentials or the scope."""

    message = "Google a refusé l'autorisation : reconnectez le compte."


class QuotaExceededError(SyncError):
    """Google's quota is exhausted even after retries; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(
            message or f"Quota Google dépassé : réessayez dans {int(retry_after) + 1} s."
        )


class GoogleUnavailableError(SyncError):
    """Google answered 500/503 (or could not be reached) after every retry."""

    message = "Google Contacts est momentanément indisponible."


class GoogleApiError(SyncError):
    """Google answered an error the engine does not expect."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        self.status = status
        self.reason = reason
        self.detail = detail
        super().__init__(f"Erreur Google ({status} {reason}).")


class StaleItemError(SyncError):
    """A write conditional on an etag found a newer version of these items."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        super().__init__("Le contact a changé entre-temps.")


class ClientNotFound(SyncError):  # noqa: N818 (the name the API codes against)
    """No such client."""

    def __init__(self, client_id: int) -> None:
        self.client_id = client_id
        super().__init__(f"Client {client_id} introuvable.")


class ContactNotFound(SyncError):  # noqa: N818 (the name the API codes against)
    """No such Google contact."""

    def __init__(self, resource_name: str) -> None:
        self.resource_name = resource_name
        super().__init__(f"Contact Google {resource_name} introuvable.")


class ConflictNotFound(SyncError):  # noqa: N818 (the name the API codes against)
    """No such (open) conflict."""

    def __init__(self, conflict_id: int) -> None:
        self.conflict_id = conflict_id
        super().__init__(f"Conflit {conflict_id} introuvable.")


class RunNotFound(SyncError):  # noqa: N818 (the name the API codes against)
    """No such run."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"Synchronisation {run_id} introuvable.")


class InvalidChoiceError(SyncError):
    """A conflict resolution or setting value that is not allowed."""


ClientNotFoundError = ClientNotFound
ContactNotFoundError = ContactNotFound
ConflictNotFoundError = ConflictNotFound
RunNotFoundError = RunNotFound


class WriteRejectedError(SyncError):
    """A side refused a write for these items (constraint, invalid value); not retried."""

    def __init__(self, ids: Sequence[str], detail: str) -> None:
        self.ids = list(ids)
        self.detail = detail
        super().__init__(f"Écriture refusée : {detail}")


CONTACT_LIMIT_MESSAGE = "Google Contacts est plein (25 000 contacts au maximum) : contact non créé."


class ContactLimitError(WriteRejectedError):
    """Google refused creates: the account holds its maximum of contacts (25,000)."""

    def __init__(self, ids: Sequence[str], detail: str) -> None:
        super().__init__(ids, detail)
        self.message = CONTACT_LIMIT_MESSAGE
        self.args = (self.message,)


class FirstSyncPendingError(SyncError):
    """An automatic run on an account whose first sync no person has applied yet."""

    message = (
        "La première synchronisation n'a pas encore été validée : ouvrez la page Google "
        "Contacts, vérifiez l'aperçu puis cliquez sur « Appliquer »."
    )


class PlanNotFound(SyncError):  # noqa: N818 (the name the API codes against)
    """No previewed plan with this id for this account."""

    message = "Cet aperçu est introuvable : refaites un aperçu."


class PlanAlreadyApplied(SyncError):  # noqa: N818 (the name the API codes against)
    """A plan applies once."""

    message = "Cet aperçu a déjà été appliqué : refaites un aperçu pour voir ce qui reste à faire."


class PlanExpired(SyncError):  # noqa: N818 (the name the API codes against)
    """A plan is kept 30 minutes: older, both sides may have moved too much."""

    message = "Cet aperçu a expiré (plus de 30 minutes) : refaites un aperçu puis appliquez-le."


class TrashItemNotFound(SyncError):  # noqa: N818 (the name the API codes against)
    """No contact with this id in the trash (or it was restored already)."""

    def __init__(self, trash_id: int) -> None:
        super().__init__(
            "Ce contact n'est plus dans la corbeille (déjà restauré, ou plus de 30 jours)."
        )
        self.trash_id = trash_id


class DuplicateNotFound(SyncError):  # noqa: N818 (the name the API codes against)
    """No open duplicate with this id."""

    def __init__(self, duplicate_id: int) -> None:
        super().__init__("Ce doublon n'est plus à traiter (déjà fusionné ou écarté).")
        self.duplicate_id = duplicate_id


class ServiceDisabledError(SyncError):
    """Google answered 403 SERVICE_DISABLED: the People API is off for the OAuth project."""

    message = (
        "La People API n'est pas activée pour le projet Google de ce compte : activez-la dans "
        "la console Google Cloud (https://console.cloud.google.com/apis/library/"
        "people.googleapis.com), attendez quelques minutes, puis relancez la synchronisation."
    )
