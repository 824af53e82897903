"""The sync action log: ``logs/google_contacts_sync.log`` (rotating), one line per action.

Lines carry ids, actions and field names, never a token or a secret (values are not
logged either: the run journal in the database keeps them).
"""

from __future__ import annotations

import logging
from pathlib import Path

from atarys.logging_setup import rotating_file_handler

LOG_NAME = "google_contacts_sync.log"
_MARK = "_atarys_sync_file"


def action_logger(log_dir: Path | None) -> logging.Logger:
    """The ``atarys.sync.actions`` logger, writing to ``log_dir/google_contacts_sync.log``."""
    logger = logging.getLogger("atarys.sync.actions")
    logger.setLevel(logging.INFO)
    if log_dir is None:
        return logger
    path = str((log_dir / LOG_NAME).resolve())
    if not any(getattr(h, _MARK, None) == path for h in logger.handlers):
        for old in [h for h in logger.handlers if getattr(h, _MARK, None)]:
            logger.removeHandler(old)
            old.close()
        handler = rotating_file_handler(log_dir / LOG_NAME)
        setattr(handler, _MARK, path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    return logger
