"""ATARYS: clients service with a bidirectional Google Contacts sync.

``create_app`` builds the Flask application; the rest of the package is laid out
in ARCHITECTURE.md at the repository root.
"""

from atarys.app import create_app

__all__ = ["create_app"]
__version__ = "0.1.0"
