"""What the sync tells the rest of ATARYS (blinker signals; the sync imports nothing above it).

``clients_written``: sent after a run that wrote clients (imports from a phone) has
committed, with ``client_ids`` and ``origin`` (the e-mail of the account the values came
from). ``atarys.google_contacts.hub`` forwards it as the clients' ``client_changed`` so
the other phones follow (ATARYS is the hub), never the phone it came from.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
clients_written = _signals.signal("sync-clients-written")
