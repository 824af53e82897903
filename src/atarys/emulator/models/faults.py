"""Injected faults: error draws, "fail after apply", delays and other settings.

``Faults`` holds every setting (changed through ``PUT /_emulator/faults``); all are
off by default. ``FaultsModel`` draws the injected errors of each request.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

from atarys.emulator.errors import GoogleApiError, ServiceDisabledError, error_for_http_code
from atarys.emulator.models.core import StateCore

DEFAULT_SYNC_TOKEN_TTL_S = 7 * 24 * 3600.0


@dataclass
class Faults:
    """Injected faults and quota limits (all off by default).

    - ``quota``: per-minute limits per bucket (``critical_read``, ``critical_write``,
      ``write``, ``read``, ``full_sync`` — first pages of full lists) and a per-day
      ``daily_contact_writes``; counted per user.
    - ``latency_ms``: added to every API request.
    - ``error_rate`` / ``error_codes`` / ``error_seed``: a seeded share of API
      requests fails with 500 or 503 before doing anything.
    - ``fail_next``: the next N API requests fail (``fail_next_code``) before doing anything.
    - ``fail_after_apply``: the next N writes are applied, then answered 503;
      ``fail_after_apply_rate`` does the same for a seeded share of writes.
    - ``propagation_delay_s``: a write shows in list/sync answers only after N seconds.
    - ``phone_format``: ``E164``/``INTERNATIONAL``/``NATIONAL``: the server stores phone
      values in that format instead of as sent.
    - ``sync_token_ttl_s``: sync token lifetime (default 7 days).
    - ``rename_on_update``: the next N updated contacts come back under a new resource
      name (Google renames a contact when a write links it to a profile).
    - ``reject_marker``: a batch create/update fails per contact (400 with
      ``Batch*ContactsErrorDetails``) for each contact holding a value containing it.
    - ``stale_read_s``: for N seconds after an update, people.get/getBatchGet return the
      previous version (old etag).
    - ``full_list_omit``: resource names full listings leave out (people.get still
      returns them, incremental listings still report them).
    - ``strict_my_contacts``: a contact created with memberships that do not name
      ``myContacts`` is not added to it, and connections.list lists only ``myContacts``
      members (the others are "other contacts"). Off: every new contact joins ``myContacts``.
    - ``quota_detail``: ``ErrorInfo`` (default) or ``QuotaFailure``: the detail a 429 carries.
    """

    quota: dict[str, int] = field(default_factory=dict)
    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_codes: list[int] = field(default_factory=lambda: [500, 503])
    error_seed: int = 0
    fail_next: int = 0
    fail_next_code: int = 503
    # every API request answers 403 SERVICE_DISABLED (the People API is off in the project)
    service_disabled: bool = False
    fail_after_apply: int = 0
    fail_after_apply_rate: float = 0.0
    propagation_delay_s: float = 0.0
    phone_format: str | None = None
    sync_token_ttl_s: float = DEFAULT_SYNC_TOKEN_TTL_S
    rename_on_update: int = 0
    reject_marker: str | None = None
    stale_read_s: float = 0.0
    full_list_omit: list[str] = field(default_factory=list)
    strict_my_contacts: bool = False
    quota_detail: str = "ErrorInfo"

    def to_json(self) -> dict[str, Any]:
        """The ``/_emulator/faults`` answer."""
        return dataclasses.asdict(self)


FAULT_NAMES = frozenset(f.name for f in dataclasses.fields(Faults))


class FaultsModel(StateCore):
    """Fault settings and the seeded draws of injected errors."""

    def set_faults(self, **settings: Any) -> Faults:
        """Change fault settings (unknown names → ``ValueError``); ``error_seed`` reseeds."""
        unknown = set(settings) - FAULT_NAMES
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        for name, value in settings.items():
            setattr(self.faults, name, value)
        if "error_seed" in settings:
            self.error_rng = random.Random(self.faults.error_seed)
        return self.faults

    def draw_error(self) -> GoogleApiError | None:
        """The injected error for this request (``fail_next``, then ``error_rate``), if any."""
        faults = self.faults
        if faults.service_disabled:
            return ServiceDisabledError()
        if faults.fail_next > 0:
            faults.fail_next -= 1
            return error_for_http_code(faults.fail_next_code)
        if faults.error_rate > 0 and self.error_rng.random() < faults.error_rate:
            return error_for_http_code(self.error_rng.choice(faults.error_codes))
        return None

    def draw_fail_after_apply(self) -> bool:
        """Whether this (already applied) write should be answered 503."""
        faults = self.faults
        if faults.fail_after_apply > 0:
            faults.fail_after_apply -= 1
            return True
        return faults.fail_after_apply_rate > 0 and (
            self.error_rng.random() < faults.fail_after_apply_rate
        )
