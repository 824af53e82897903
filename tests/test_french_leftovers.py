"""What people read carries no developer leftovers: no ``dry_run``, ``force=``, ``people/c``, ``None``.

Scans the user-facing strings of the front end (JSX text and string literals holding a
space) and the French messages of the API (string constants of the modules answering
HTTP requests).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEFTOVERS = re.compile(r"dry_run|force=|people/c|\bNone\b|\bnone\b")
API_MODULES = [
    *sorted((ROOT / "src/atarys/google_contacts").glob("*.py")),
    *sorted((ROOT / "src/atarys/clients").glob("*.py")),
    *sorted((ROOT / "src/atarys/jobs").glob("*.py")),
    ROOT / "src/atarys/http.py",
    ROOT / "src/atarys/validation.py",
]
FRENCH = re.compile(r"[éèêàçùôî]|\b(le|la|les|des|une?|est|pour|dans|avec)\b", re.IGNORECASE)
JS_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`")
JSX_TEXT = re.compile(r">([^<>{}\n]*[A-Za-zÀ-ÿ][^<>{}\n]*)<")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            ids.add(id(first.value))
    return ids


def api_messages() -> list[tuple[str, str]]:
    found = []
    for path in API_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if (
                isinstance(text, str)
                and id(node) not in skip
                and " " in text
                and FRENCH.search(text)
            ):
                found.append((f"{path.name}:{node.lineno}", text))
    return found


def front_strings() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "frontend/src").rglob("*.js*")):
        if "generated" in path.parts or "test" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith(("//", "*", "/*")):
                continue
            texts = [m.group(1) for m in JSX_TEXT.finditer(line)]
            texts += [
                next(g for g in m.groups() if g is not None) for m in JS_STRING.finditer(line)
            ]
            for text in texts:
                if " " in text and FRENCH.search(text):
                    found.append((f"{path.name}:{number}", text))
    return found


def test_the_scanner_sees_the_strings() -> None:
    assert any("Synchroniser avec Google Contacts" in t for _, t in front_strings())
    assert any("réessayez dans un instant" in t for _, t in api_messages())


def test_no_developer_leftovers_in_what_people_read() -> None:
    bad = [
        (where, text) for where, text in front_strings() + api_messages() if LEFTOVERS.search(text)
    ]
    assert bad == []
