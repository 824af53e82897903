"""Moved to ``atarys.jobs.scheduler``; kept only for ``bench/child.py``, which still imports
``SyncScheduler`` from here. Delete once the bench imports the new module."""

from atarys.jobs.scheduler import SyncScheduler

__all__ = ["SyncScheduler"]
