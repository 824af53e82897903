"""A faithful Google People API v1 + OAuth2 emulator (offline Google for the demo and tests).

Layout (after moto): ``state`` (users, contacts, groups, tokens, change log, faults;
no HTTP), ``wire`` (request parsing, Google-shaped JSON, field masks), ``routes``
(the WSGI app and People API route table), ``errors`` (one class per Google error),
``oauth`` (consent page, ``/token``, ``/revoke``), ``admin`` (``/_emulator/*``),
``seed`` (French sample contacts), ``server`` (``start_emulator``) and ``cli``.
"""

from __future__ import annotations

from atarys.emulator.state import DEFAULT_USER
from atarys.google.client import CONTACTS_SCOPE

__all__ = ["CONTACTS_SCOPE", "DEFAULT_USER"]
