"""Google OAuth2 tokens at rest: JSON, Fernet-encrypted, file mode 0600, one file per account.

Layout under the data dir::

    token_key                       the Fernet key (when ATARYS_TOKEN_KEY is not set), 0600
    google_tokens/<sha256>.token    one encrypted JSON document per Google account, 0600

The seed kept a pickle (``data/google_contacts_token.pickle``); unpickling a file runs
whatever code it holds, so it is never loaded: ``legacy_token_present`` lets the status
endpoint tell the user to reconnect.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from google.oauth2.credentials import Credentials

from atarys.config import Settings

SUFFIX = ".token"


class TokenStoreError(Exception):
    """A token file that cannot be read back (wrong key, corrupted)."""


@dataclass
class StoredToken:
    """One account's credentials and what we learned about them."""

    account: str
    token: str | None
    refresh_token: str | None
    token_uri: str
    client_id: str
    client_secret: str | None
    scopes: list[str]
    expiry: datetime | None = None
    revoked: bool = False
    saved_at: datetime | None = None

    def credentials(self) -> Credentials:
        """google-auth credentials refreshing at *this* token's ``token_uri`` (never reset to Google's)."""
        expiry = self.expiry.astimezone(UTC).replace(tzinfo=None) if self.expiry else None
        return Credentials(  # type: ignore[no-untyped-call]
            token=self.token,
            refresh_token=self.refresh_token,
            token_uri=self.token_uri,
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=self.scopes,
            expiry=expiry,
        )

    @classmethod
    def from_credentials(cls, account: str, creds: Credentials) -> StoredToken:
        expiry = creds.expiry.replace(tzinfo=UTC) if creds.expiry else None
        return cls(
            account=account,
            token=creds.token,
            refresh_token=creds.refresh_token,
            token_uri=str(creds.token_uri),
            client_id=str(creds.client_id),
            client_secret=creds.client_secret,
            scopes=list(creds.scopes or []),
            expiry=expiry,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "token": self.token,
            "refresh_token": self.refresh_token,
            "token_uri": self.token_uri,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scopes": self.scopes,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "revoked": self.revoked,
            "saved_at": self.saved_at.isoformat() if self.saved_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredToken:
        def _dt(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if isinstance(value, str) and value else None

        return cls(
            account=str(data["account"]),
            token=data.get("token"),
            refresh_token=data.get("refresh_token"),
            token_uri=str(data["token_uri"]),
            client_id=str(data["client_id"]),
            client_secret=data.get("client_secret"),
            scopes=[str(s) for s in data.get("scopes") or []],
            expiry=_dt(data.get("expiry")),
            revoked=bool(data.get("revoked", False)),
            saved_at=_dt(data.get("saved_at")),
        )


def _write_private(path: Path, content: bytes) -> None:
    """Write ``content`` atomically to ``path`` with mode 0600 whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SUFFIX)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    os.chmod(path, 0o600)


def token_key(settings: Settings) -> bytes:
    """The Fernet key: ``ATARYS_TOKEN_KEY``, or one generated once in the data dir (0600)."""
    if settings.token_key:
        return settings.token_key.encode("ascii")
    path = settings.data_dir / "token_key"
    if path.exists():
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class TokenStore:
    """Encrypted token files, one per Google account."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._fernet = Fernet(key)

    @classmethod
    def for_settings(cls, settings: Settings) -> TokenStore:
        return cls(settings.google_tokens_dir, token_key(settings))

    def path_for(self, account: str) -> Path:
        digest = hashlib.sha256(account.strip().lower().encode("utf-8")).hexdigest()
        return self.directory / f"{digest[:32]}{SUFFIX}"

    def save(self, token: StoredToken) -> Path:
        token.saved_at = datetime.now(UTC)
        payload = json.dumps(token.to_json(), ensure_ascii=False).encode("utf-8")
        path = self.path_for(token.account)
        _write_private(path, self._fernet.encrypt(payload))
        return path

    def _read(self, path: Path) -> StoredToken:
        try:
            raw = self._fernet.decrypt(path.read_bytes())
            return StoredToken.from_json(json.loads(raw))
        except (InvalidToken, ValueError, KeyError, TypeError) as exc:
            raise TokenStoreError(f"jeton illisible : {path.name}") from exc

    def load(self, account: str) -> StoredToken | None:
        path = self.path_for(account)
        if not path.exists():
            return None
        return self._read(path)

    def accounts(self) -> list[StoredToken]:
        """Every readable stored token, oldest save first."""
        if not self.directory.is_dir():
            return []
        found: list[StoredToken] = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if path.name.startswith(".tmp-"):
                continue
            with contextlib.suppress(TokenStoreError):
                found.append(self._read(path))
        found.sort(key=lambda t: t.saved_at or datetime.min.replace(tzinfo=UTC))
        return found

    def delete(self, account: str) -> bool:
        path = self.path_for(account)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def legacy_token_present(settings: Settings) -> bool:
    """Whether the seed's pickle token file lies in the data dir (it is never loaded)."""
    return settings.legacy_token_file.exists()
