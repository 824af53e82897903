"""The emulator's model: every account's contacts, groups, tokens, faults and quota; no HTTP.

One module per job, each a mix-in over ``core.StateCore``:

- ``records``: the stored dataclasses (``Contact``, ``Group``, ``UserState``, ``Page``).
- ``core``: lock, clock, users, seq counter, random numbers.
- ``changelog``: change log, sync tokens, full and incremental listings, tombstones.
- ``people``: contacts (create, update, delete, touch, rename).
- ``groups``: contact groups and memberships.
- ``tokens``: OAuth2 access/refresh tokens, codes, clients, scopes.
- ``faults``: injected faults and their settings; ``quota``: quota buckets and 429s.
- ``persistence``: the state as JSON, atomic save and load.

``EmulatorState`` puts them together. Vocabulary: a *user* is a Google account (its
e-mail); a *contact* is a stored person ``people/c<digits>``; a deleted contact stays
as a *tombstone*; a *seq* is a state-wide, strictly increasing change number.
Every public method expects the caller to hold ``state.lock``.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable

from atarys.emulator.models.core import DEFAULT_USER, StateCore
from atarys.emulator.models.faults import FAULT_NAMES, Faults, FaultsModel
from atarys.emulator.models.groups import GroupsModel
from atarys.emulator.models.persistence import PersistenceModel, load_state, save_state
from atarys.emulator.models.quota import QuotaModel
from atarys.emulator.models.records import (
    SYSTEM_GROUPS,
    Contact,
    Group,
    Page,
    UserState,
    UserStats,
    now_rfc3339,
)
from atarys.emulator.models.tokens import AccessToken, AuthCode, OAuthClient, RefreshToken

__all__ = [
    "DEFAULT_USER",
    "FAULT_NAMES",
    "SYSTEM_GROUPS",
    "AccessToken",
    "AuthCode",
    "Contact",
    "EmulatorState",
    "Faults",
    "Group",
    "OAuthClient",
    "Page",
    "RefreshToken",
    "StateCore",
    "UserState",
    "UserStats",
    "load_state",
    "now_rfc3339",
    "save_state",
]


class EmulatorState(GroupsModel, FaultsModel, QuotaModel, PersistenceModel):
    """All users of one emulator, plus OAuth tokens, faults and the clock."""

    def __init__(self, *, seed: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.clock_offset = 0.0
        self.seed = seed
        self.rng = random.Random(seed)
        self.users = {}
        self.seq = 0
        self.faults = Faults()
        self.error_rng = random.Random(0)
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.auth_codes = {}
        self.clients = {}
        self.service_accounts = {}  # kept by ``reset``, like the users
        self.changes = 0
        self.created_since_freeze = 0
        self.secret = secrets.token_hex(8)

    def reset(self, *, keep_tokens: bool = True) -> None:
        """Forget contacts, groups, faults, stats and registered OAuth clients.

        Users and, by default, tokens stay.

        The change counter keeps going, and every sync token issued before the reset is
        expired (an old token must never read the new, empty account as "no change").
        """
        emails = list(self.users)
        self.users = {}
        self.rng = random.Random(self.seed)
        self.faults = Faults()
        self.error_rng = random.Random(0)
        self.clock_offset = 0.0
        self.clients.clear()
        self.seq += 1
        for email in emails:
            self.user(email).pruned_seq = self.seq
        if not keep_tokens:
            self.access_tokens.clear()
            self.refresh_tokens.clear()
            self.auth_codes.clear()
        self.mark_changed()
