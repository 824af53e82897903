"""Moved to ``atarys.google_contacts.service``; kept only for ``bench/child.py``, which still
imports ``ensure_account`` from here. Delete once the bench imports the new module."""

from atarys.google_contacts.service import ensure_account

__all__ = ["ensure_account"]
