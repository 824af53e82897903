"""Saving and loading the whole state as JSON (``--state`` files), atomically.

Stats, quota windows and consent codes are not kept.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

from atarys.emulator.models.faults import Faults
from atarys.emulator.models.records import UserState
from atarys.emulator.models.tokens import (
    AccessToken,
    OAuthClient,
    RefreshToken,
    ServiceAccount,
    TokensModel,
)


class PersistenceModel(TokensModel):
    """The state as JSON-able data, and back."""

    def to_json(self) -> dict[str, Any]:
        """The whole state as JSON-able data."""
        return {
            "version": 1,
            "seed": self.seed,
            "seq": self.seq,
            "clock_offset": self.clock_offset,
            "secret": self.secret,
            "users": [u.to_json() for u in self.users.values()],
            "access_tokens": {k: dataclasses.asdict(v) for k, v in self.access_tokens.items()},
            "refresh_tokens": {k: dataclasses.asdict(v) for k, v in self.refresh_tokens.items()},
            "clients": {k: dataclasses.asdict(v) for k, v in self.clients.items()},
            "service_accounts": {
                k: dataclasses.asdict(v) for k, v in self.service_accounts.items()
            },
            "faults": self.faults.to_json(),
        }

    def load_json(self, data: dict[str, Any]) -> None:
        """Replace this state with one saved by ``to_json``."""
        self.seed = data["seed"]
        self.seq = data["seq"]
        self.clock_offset = data["clock_offset"]
        self.secret = data["secret"]
        self.users = {u["email"]: UserState.from_json(u) for u in data["users"]}
        self.access_tokens = {k: AccessToken(**v) for k, v in data["access_tokens"].items()}
        self.refresh_tokens = {k: RefreshToken(**v) for k, v in data["refresh_tokens"].items()}
        self.clients = {k: OAuthClient(**v) for k, v in data["clients"].items()}
        self.service_accounts = {
            k: ServiceAccount(**v) for k, v in (data.get("service_accounts") or {}).items()
        }
        self.faults = Faults(**data["faults"])
        self.rng = random.Random(f"{self.seed}:{self.seq}")

    def dumps(self) -> str:
        """``to_json`` as a compact JSON string."""
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)


def save_state(state: PersistenceModel, path: Path) -> None:
    """Write the state to ``path`` atomically (temporary file, then rename)."""
    with state.lock:
        text = state.dumps()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_state(state: PersistenceModel, path: Path) -> bool:
    """Load ``path`` into ``state`` when it exists; returns whether it did."""
    if not path.exists():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    with state.lock:
        state.load_json(data)
    return True
