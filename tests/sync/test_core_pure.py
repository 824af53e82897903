"""The sync core stays pure: no Flask, SQLAlchemy or googleapiclient import under core/."""

from __future__ import annotations

import ast
from pathlib import Path

import atarys.sync.core

FORBIDDEN = ("flask", "sqlalchemy", "googleapiclient", "google", "httplib2", "requests")


def test_core_imports_nothing_impure() -> None:
    """Every module of ``atarys.sync.core`` imports only the standard library and pure helpers."""
    folder = Path(atarys.sync.core.__file__).parent
    offenders = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                if root in FORBIDDEN or (
                    name.startswith("atarys.")
                    and not name.startswith(("atarys.sync.core", "atarys.normalize"))
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_readme_says_the_core_is_pure() -> None:
    """The folder's README states the rule."""
    readme = Path(atarys.sync.core.__file__).parent.parent / "README.md"
    assert "pure" in readme.read_text(encoding="utf-8")
