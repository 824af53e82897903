"""The sync action log: ``logs/google_contacts_sync.log`` (rotating), one line per action.

Lines carry ids, actions and field names, never a token or a secret (values are not
logged either: the run journal in the database keeps them).

The logger keeps exactly one file handler (a lock guards the check-then-add, which
request, scheduler and background threads all reach when they open a ``SyncService``)
and does not propagate: its lines go to this file only, once each.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from atarys.logging_setup import rotating_file_handler

LOG_NAME = "google_contacts_sync.log"
LOGGER_NAME = "atarys.sync.actions"
_MARK = "_atarys_sync_file"
_LOCK = threading.Lock()


def action_logger(log_dir: Path | None) -> logging.Logger:
    """The ``atarys.sync.actions`` logger, writing to ``log_dir/google_contacts_sync.log``."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    if log_dir is None:
        return logger
    path = str((log_dir / LOG_NAME).resolve())
    with _LOCK:
        logger.propagate = False
        if not any(getattr(h, _MARK, None) == path for h in logger.handlers):
            for old in [h for h in logger.handlers if getattr(h, _MARK, None)]:
                logger.removeHandler(old)
                old.close()
            handler = rotating_file_handler(log_dir / LOG_NAME)
            setattr(handler, _MARK, path)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
    return logger
