"""Flask extensions, made at module level and bound in ``create_app`` with ``init_app``."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from atarys.models.base import Base

db: SQLAlchemy = SQLAlchemy(model_class=Base)


def session() -> Session:
    """The current request's (or app context's) SQLAlchemy session, typed as a plain ``Session``."""
    return db.session()
