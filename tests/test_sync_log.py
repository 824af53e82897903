"""``logs/google_contacts_sync.log``: each action is one line, written once."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from atarys import create_app
from atarys.extensions import db
from atarys.sync.log import LOG_NAME, action_logger


def test_each_action_line_is_written_once(tmp_path: Path) -> None:
    """Apps and services opened from many threads at once still write every line once."""
    log_dir = tmp_path / "logs"
    apps = [
        create_app(
            {
                "database_url": "sqlite://",
                "data_dir": tmp_path / "data",
                "log_dir": log_dir,
                "testing": True,
            }
        )
        for _ in range(2)
    ]
    barrier = threading.Barrier(8)

    def open_logger() -> None:
        barrier.wait()
        action_logger(log_dir)

    threads = [threading.Thread(target=open_logger) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logger = action_logger(Path(str(log_dir)))  # the same folder, another Path object
    logger.info("run=1 atarys_to_google created client=1 contact=c1 fields=nom")
    for handler in logger.handlers:
        handler.flush()

    lines = (log_dir / LOG_NAME).read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if "client=1 contact=c1" in line] == [lines[-1]]
    assert len(lines) == 1
    # Not repeated in the application log either (no propagation to ``atarys``).
    for handler in logging.getLogger("atarys").handlers:
        handler.flush()
    app_log = log_dir / "atarys.log"
    assert "contact=c1" not in (app_log.read_text(encoding="utf-8") if app_log.exists() else "")
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_a_batch_of_action_lines_keeps_one_stamped_line_each(tmp_path: Path) -> None:
    """Actions written as a batch read like any other line: time, level, action."""
    from atarys.sync.log import stamp, write_lines

    logger = action_logger(tmp_path)
    logger.info("run=1 atarys_to_google created client=1 contact=c1 fields=nom")
    write_lines(logger, [stamp(0.5, f"run=2 google_to_atarys created client={i}") for i in (2, 3)])
    for handler in logger.handlers:
        handler.flush()
    lines = (tmp_path / LOG_NAME).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    first_stamp = lines[0].split(" INFO ")[0]
    for line, client in zip(lines[1:], (2, 3), strict=True):
        stamp_text, _, action = line.partition(" INFO ")
        assert len(stamp_text) == len(first_stamp)  # "YYYY-mm-dd HH:MM:SS,mmm" as logging's
        assert stamp_text.endswith(",500")
        assert action == f"run=2 google_to_atarys created client={client}"
