"""Logging, configured once per process: a rotating ``logs/atarys.log`` and stderr."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MARK = "_atarys_handler"
_LOCK = threading.Lock()


def _has_handler(logger: logging.Logger, name: str) -> bool:
    return any(getattr(h, _MARK, None) == name for h in logger.handlers)


def _add(logger: logging.Logger, handler: logging.Handler, name: str) -> None:
    setattr(handler, _MARK, name)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(handler)


def rotating_file_handler(path: Path) -> logging.Handler:
    """A UTF-8 rotating file handler (5 MiB x 5) creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )


def configure_logging(log_dir: Path, *, stderr: bool = True) -> None:
    """Attach the application's handlers to the ``atarys`` logger (idempotent per file).

    Guarded by a lock: apps created on several threads at once add each handler once.
    """
    with _LOCK:
        _configure(log_dir, stderr=stderr)


def _configure(log_dir: Path, *, stderr: bool) -> None:
    logger = logging.getLogger("atarys")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    file_name = f"file:{(log_dir / 'atarys.log').resolve()}"
    if not _has_handler(logger, file_name):
        for handler in [
            h for h in logger.handlers if str(getattr(h, _MARK, "")).startswith("file:")
        ]:
            logger.removeHandler(handler)
            handler.close()
        _add(logger, rotating_file_handler(log_dir / "atarys.log"), file_name)
    if stderr and not _has_handler(logger, "stderr"):
        _add(logger, logging.StreamHandler(sys.stderr), "stderr")
