"""Builds the real ``googleapiclient`` People API service, for Google or the emulator."""

from __future__ import annotations

from typing import Any

from google.auth.credentials import Credentials
from googleapiclient.discovery import build

CONTACTS_SCOPE = "https://www.googleapis.com/auth/contacts"


def build_people_service(credentials: Credentials, api_endpoint: str) -> Any:
    """A People API v1 service sending every call to ``api_endpoint``.

    Always built from the shipped discovery document (no network fetch) and with
    explicit credentials (never Application Default Credentials).
    """
    return build(
        "people",
        "v1",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_endpoint},
    )
