"""The emulator's layout: models without HTTP, compatibility import paths kept."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import atarys.emulator.models as models_package

HTTP_MODULES = ("werkzeug", "flask", "requests", "http", "googleapiclient")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_models_import_no_http() -> None:
    """No module of ``atarys.emulator.models`` imports an HTTP library or the HTTP layer."""
    folder = Path(models_package.__file__).parent
    offenders = {
        f"{path.name}: {name}"
        for path in folder.glob("*.py")
        for name in _imported_modules(path)
        if name.split(".")[0] in HTTP_MODULES
        or name.startswith(("atarys.emulator.app", "atarys.emulator.responses"))
    }
    assert offenders == set()


def test_state_module_forwards_max_contacts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Patching ``atarys.emulator.state.MAX_CONTACTS`` changes the limit the model reads."""
    from atarys.emulator import state
    from atarys.emulator.models import people

    monkeypatch.setattr(state, "MAX_CONTACTS", 3)
    assert people.MAX_CONTACTS == 3
    monkeypatch.undo()
    assert people.MAX_CONTACTS == 25_000
