"""Database models (SQLAlchemy 2.0 typed declarative). Tables are created only by migrations."""

from atarys.models.base import Base, UTCDateTime, utcnow
from atarys.models.client import CLIENT_FIELDS, Client

__all__ = ["CLIENT_FIELDS", "Base", "Client", "UTCDateTime", "utcnow"]
