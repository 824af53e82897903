"""The state every model shares: lock, clock, users, the change counter and random numbers.

``StateCore`` is the base of each model mix-in (``people``, ``changelog``, ``groups``,
``tokens``, ``faults``, ``quota``, ``persistence``); ``EmulatorState`` (in
``models/__init__``) puts them together. Every public method of a model expects the
caller to hold ``state.lock``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from atarys.emulator.models.records import SYSTEM_GROUPS, Group, UserState

if TYPE_CHECKING:
    from atarys.emulator.models.faults import Faults

DEFAULT_USER = "demo@example.com"


class StateCore:
    """Attributes and helpers shared by every model (no HTTP, no persistence)."""

    lock: threading.RLock
    clock: Callable[[], float]
    clock_offset: float
    seed: int
    rng: random.Random
    users: dict[str, UserState]
    seq: int
    faults: Faults
    error_rng: random.Random
    changes: int
    created_since_freeze: int
    secret: str

    def now(self) -> float:
        """The emulator's clock (wall clock plus ``advance_clock`` offsets)."""
        return self.clock() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward (token expiry, quota windows, delays)."""
        self.clock_offset += seconds

    def mark_changed(self) -> None:
        """Note a change (the persistence thread saves when this counter moves)."""
        self.changes += 1

    def user(self, email: str) -> UserState:
        """The user ``email``, created (with its system groups) on first use."""
        found = self.users.get(email)
        if found is not None:
            return found
        local = email.split("@", 1)[0]
        display = " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)
        user = UserState(email, display or email, self.rng.randrange(10**20, 10**21))
        now = self.now()
        for gid, _name in SYSTEM_GROUPS.items():
            user.groups[gid] = Group(gid, gid, system=True, version=1, update_time=now)
        self.users[email] = user
        self.mark_changed()
        return user

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq
