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
import time
from collections.abc import Sequence
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
            handler.setFormatter(_ActionFormatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
    return logger


class _ActionFormatter(logging.Formatter):
    """The action log's format; a block of lines stamped already (``write_lines``) as is."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "stamped", False):
            return str(record.msg)
        return super().format(record)


def stamp(when: float, text: str) -> str:
    """One action line as the log writes it (``asctime INFO text``), stamped ``when``."""
    clock = time.strftime(logging.Formatter.default_time_format, time.localtime(when))
    # logging's default_msec_format ("%s,%03d"), typed optional there
    return f"{clock},{int(when % 1 * 1000):03d} INFO {text}"


def write_lines(logger: logging.Logger, lines: Sequence[str]) -> None:
    """Write lines made by ``stamp`` in one record: one write for a batch of actions
    (a first sync logs 25,000 of them), each line keeping its own time."""
    if lines:
        record = logging.makeLogRecord(
            {"name": logger.name, "levelno": logging.INFO, "levelname": "INFO"}
        )
        record.msg, record.stamped = "\n".join(lines), True
        logger.handle(record)
