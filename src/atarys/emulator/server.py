"""Running the emulator: in-process on a free port (tests, ``serve --demo``) or in the foreground.

``start_emulator()`` serves the WSGI app from a threaded werkzeug server in a
background thread and returns a ``RunningEmulator`` (a context manager). With a
``state_file`` the state is loaded at start, saved (atomic write) shortly after
each change and on stop.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from atarys.emulator.app import EmulatorApp
from atarys.emulator.models import (
    DEFAULT_USER,
    Contact,
    EmulatorState,
    Faults,
    UserStats,
    load_state,
    save_state,
)
from atarys.emulator.oauth import register_client
from atarys.emulator.oauth import write_client_secrets as write_secrets_file
from atarys.emulator.seed import seed_contacts
from atarys.google.client import CONTACTS_SCOPE

logger = logging.getLogger("atarys.emulator.server")

SAVE_INTERVAL_S = 1.0


class _QuietHandler(WSGIRequestHandler):
    """Keep-alive (HTTP/1.1) request handler that logs requests at DEBUG level only."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug('"%s" %s %s', self.requestline, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug(message, *args)


class RunningEmulator:
    """A started emulator: its ``url``, its ``state`` and helpers to drive it."""

    def __init__(
        self,
        server: BaseWSGIServer,
        app: EmulatorApp,
        state: EmulatorState,
        state_file: Path | None,
    ) -> None:
        self._server = server
        self.app = app
        self.state = state
        self.state_file = state_file
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.url = f"http://{self.host}:{self.port}/"
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=server.serve_forever, name="people-emulator", daemon=True
        )
        self._saver: threading.Thread | None = None
        self._saved_changes = -1  # save once at start, so a seeded state is on disk at once

    def _start(self) -> None:
        self._thread.start()
        if self.state_file is not None:
            self._saver = threading.Thread(
                target=self._save_loop, name="emulator-saver", daemon=True
            )
            self._saver.start()

    def _save_loop(self) -> None:
        while not self._stopped.wait(SAVE_INTERVAL_S):
            self.save()

    def save(self) -> None:
        """Save the state file now when something changed since the last save."""
        if self.state_file is None or self.state.changes == self._saved_changes:
            return
        changes = self.state.changes
        save_state(self.state, self.state_file)
        self._saved_changes = changes

    def stop(self) -> None:
        """Stop serving (and save the state file)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._saver is not None:
            self._saver.join(timeout=5)
        self.save()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- helpers

    def issue_token(
        self,
        user: str = DEFAULT_USER,
        scopes: Sequence[str] = (CONTACTS_SCOPE,),
        ttl_s: float = 3600,
    ) -> str:
        """An access token for ``user`` (no consent page)."""
        with self.state.lock:
            return self.state.issue_access_token(user, scopes, ttl_s=ttl_s)

    def issue_refresh_token(
        self,
        user: str = DEFAULT_USER,
        scopes: Sequence[str] = (CONTACTS_SCOPE,),
        client_id: str = "",
    ) -> str:
        """A refresh token for ``user`` (no consent page), usable at ``token_uri``."""
        with self.state.lock:
            return self.state.issue_refresh_token(user, scopes, client_id)

    @property
    def auto_approve(self) -> bool:
        """Whether the consent page approves at once."""
        return self.app.oauth.auto_approve

    @auto_approve.setter
    def auto_approve(self, value: bool) -> None:
        self.app.oauth.auto_approve = value

    @property
    def token_uri(self) -> str:
        """The emulator's OAuth2 token endpoint."""
        return self.url + "token"

    def write_client_secrets(
        self,
        path: str | Path,
        kind: str = "web",
        redirect_uris: Sequence[str] | None = None,
        *,
        client_id: str = "atarys-emulator.apps.googleusercontent.com",
        client_secret: str = "emulator-secret",  # noqa: S107
    ) -> Path:
        """Write a client secrets file pointing at this emulator and register its client."""
        written = write_secrets_file(
            path,
            self.url,
            kind=kind,
            redirect_uris=list(redirect_uris or []),
            client_id=client_id,
            client_secret=client_secret,
        )
        data = json.loads(written.read_text(encoding="utf-8"))[kind]
        register_client(self.state, client_id, client_secret, data["redirect_uris"])
        return written

    def reset(self, *, keep_tokens: bool = True) -> None:
        """Forget contacts, groups, faults and stats."""
        with self.state.lock:
            self.state.reset(keep_tokens=keep_tokens)

    def seed(self, count: int, user: str = DEFAULT_USER, random_seed: int | None = None) -> int:
        """Add ``count`` French contacts to ``user``."""
        with self.state.lock:
            return seed_contacts(self.state, user, count, random_seed=random_seed)

    def set_faults(self, **settings: Any) -> Faults:
        """Change fault settings (see ``models.faults.Faults``)."""
        with self.state.lock:
            return self.state.set_faults(**settings)

    def stats(self, user: str = DEFAULT_USER) -> dict[str, Any]:
        """Request counts of ``user``: per method, per quota bucket, per error status."""
        with self.state.lock:
            return self.state.user(user).stats.to_json()

    def reset_stats(self) -> None:
        """Zero every user's stats."""
        with self.state.lock:
            for user in self.state.users.values():
                user.stats = UserStats()

    def touch(self, resource_name: str, user: str = DEFAULT_USER) -> Contact:
        """Bump a contact's updateTime and etag without changing its content."""
        with self.state.lock:
            return self.state.touch(user, resource_name)

    def expire_sync_tokens(self, user: str = DEFAULT_USER) -> None:
        """Make every sync token issued so far for ``user`` expired."""
        with self.state.lock:
            self.state.expire_sync_tokens(user)

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward."""
        with self.state.lock:
            self.state.advance_clock(seconds)


def start_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 0,
    state_file: str | Path | None = None,
    auto_approve: bool = False,
    users: Sequence[str] | None = None,
) -> RunningEmulator:
    """Start an emulator in a background thread (``port=0``: a free port).

    ``seed`` French contacts are added to the first user (``demo@example.com`` by
    default) unless a ``state_file`` was loaded.
    """
    state = EmulatorState(seed=seed)
    path = Path(state_file) if state_file is not None else None
    loaded = load_state(state, path) if path is not None else False
    emails = list(users or [DEFAULT_USER])
    with state.lock:
        for email in emails:
            state.user(email)
        if seed and not loaded:
            seed_contacts(state, emails[0], seed)
    app = EmulatorApp(state, auto_approve=auto_approve)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    running = RunningEmulator(server, app, state, path)
    running._start()
    logger.info("People API emulator on %s", running.url)
    return running


def write_client_secrets(
    path: str | Path,
    base_url: str,
    kind: str = "web",
    redirect_uris: Sequence[str] | None = None,
) -> Path:
    """Write a client secrets file pointing at the emulator at ``base_url``."""
    return write_secrets_file(path, base_url, kind=kind, redirect_uris=list(redirect_uris or []))
