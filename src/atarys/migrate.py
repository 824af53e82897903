"""Schema migrations, driven from code (``atarys db upgrade``, ``atarys serve``, tests).

Alembic (with Mako and Pygments) is imported only when a migration runs: a worker or
a web process that does not migrate does not carry it (about 12 MB each).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    """Bring the database at ``url`` (or on ``connection``) to the newest revision."""
    from alembic import command

    command.upgrade(alembic_config(url, connection), "head")


def current_heads() -> tuple[str, ...]:
    """The head revision(s) of the packaged migrations."""
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
