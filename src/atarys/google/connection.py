"""The seam between stored Google credentials and the sync engine.

``people_service(app, account_email)`` returns a ready People API service for a
connected account (credentials loaded from the token store, refreshed when needed)
or raises ``NotConnectedError``. Filled in by the OAuth2/token-storage work.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


class NotConnectedError(Exception):
    """No usable Google credentials for this account (never connected, revoked, legacy pickle)."""


def people_service(app: Flask, account_email: str | None = None) -> Any:
    """A People API service for ``account_email`` (the default account when ``None``)."""
    raise NotConnectedError("Google n'est pas connecté.")
