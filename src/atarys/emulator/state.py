"""Compatibility path: the model moved to ``atarys.emulator.models`` (one module per job).

Kept for code outside the emulator that imports ``atarys.emulator.state``.
Setting ``MAX_CONTACTS`` here (tests monkeypatch it) sets
``atarys.emulator.models.people.MAX_CONTACTS``, the value the model reads.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from atarys.emulator.models import (
    DEFAULT_USER,
    FAULT_NAMES,
    SYSTEM_GROUPS,
    AccessToken,
    AuthCode,
    Contact,
    EmulatorState,
    Faults,
    Group,
    OAuthClient,
    Page,
    RefreshToken,
    UserState,
    UserStats,
    now_rfc3339,
)
from atarys.emulator.models import people as _people
from atarys.emulator.models.people import MAX_CONTACTS

__all__ = [
    "DEFAULT_USER",
    "FAULT_NAMES",
    "MAX_CONTACTS",
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
    "UserState",
    "UserStats",
    "now_rfc3339",
]

_FORWARDED = frozenset({"MAX_CONTACTS"})


class _ForwardingModule(types.ModuleType):
    """Module type whose forwarded settings are written through to the model module."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FORWARDED:
            setattr(_people, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _ForwardingModule
