"""ATARYS is the hub: what a run imported from one phone is announced to the others.

The sync (``atarys.sync.signals.clients_written``) cannot know the clients' module; this
bridge, imported by the routes, forwards each written client id as the clients'
``client_changed`` signal with ``origin=<account e-mail>``, after the run's commit. The
queue turns that into pushes to the *other* accounts; the account the change came from
has nothing to write (its link's snapshot already holds the values: no echo).
"""

from __future__ import annotations

from typing import Any

from atarys.clients.service import client_changed
from atarys.sync.signals import clients_written


def _forward(sender: Any, *, client_ids: list[int], origin: str, **_: Any) -> None:
    for client_id in client_ids:
        client_changed.send(client_id, origin=origin)


def connect() -> None:
    """Forward the sync's writes (idempotent: blinker keeps one connection per receiver)."""
    clients_written.connect(_forward, weak=False)


connect()
