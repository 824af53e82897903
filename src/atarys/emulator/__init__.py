"""A faithful Google People API v1 + OAuth2 emulator (offline Google for the demo and tests).

Layout (after moto):

- ``models/``: the state, one module per job, no HTTP (people, change log, groups,
  tokens, faults, quota, persistence; see ``models/__init__``).
- ``wire``: inbound wire format (field catalogue, Person bodies, masks, opaque tokens);
  ``render``: Google-shaped JSON of stored records.
- ``responses/``: handlers (parse request → call model → JSON) for ``people.*`` and
  ``contactGroups.*``; ``urls``: the werkzeug ``Map`` of API paths; ``app``: the WSGI
  app and the per-request pipeline (auth, scope, latency, quota, faults).
- ``errors``: one class per Google error; ``oauth``: consent page, ``/token``,
  ``/revoke``; ``admin``: ``/_emulator/*``; ``seed``: French sample contacts;
  ``server``: ``start_emulator``; ``cli``: ``atarys emulator``.
- ``state``: compatibility path for ``atarys.emulator.models``.

Where the emulator is still kinder than (or different from) Google: ``docs/emulator.md``.
"""

from __future__ import annotations

from atarys.emulator.models.core import DEFAULT_USER
from atarys.google.client import CONTACTS_SCOPE

__all__ = ["CONTACTS_SCOPE", "DEFAULT_USER"]
