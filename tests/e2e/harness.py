"""End-to-end harness: the demo server's handle, the browser's settings, screenshots."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("ATARYS_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STATIC_INDEX = ROOT / "src" / "atarys" / "static" / "index.html"
START_TIMEOUT_S = 60
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_chromium() -> None:
    """Skip (or, under CI, fail) when the browser or the built UI is missing."""
    problems = []
    if not CHROMIUM.exists():
        problems.append(f"Chromium absent ({CHROMIUM}): apt-get install chromium")
    if not STATIC_INDEX.exists():
        problems.append("UI not built: cd frontend && npm ci && npm run build")
    if not problems:
        return
    reason = "end-to-end tests not run: " + "; ".join(problems)
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI requires them)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Server:
    """A running ``atarys serve --demo``: its URL, output, and the demo login."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path
    username: str
    password: str

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def emulator_url(self) -> str | None:
        """The embedded emulator's base URL, as ``serve --demo`` prints it."""
        for line in self.output().splitlines():
            if "mulat" in line.lower():
                found = re.search(r"https?://[\w.\-]+:\d+/?", line)
                if found:
                    return found.group(0).rstrip("/") + "/"
        return None


CREDENTIAL_PATTERNS = (
    # "utilisateur : demo / mot de passe : xxxx", "identifiant demo, mot de passe xxxx" ...
    re.compile(
        r"(?:utilisateur|identifiant|user(?:name)?|login)\s*(?:«\s*)?[:=]?\s*[«\"']?\s*"
        r"(?P<user>[\w.@\-]+)[»\"']?.{0,40}?(?:mot de passe|password)\s*[:=]?\s*[«\"']?\s*"
        r"(?P<password>[^\s»\"']+)",
        re.IGNORECASE,
    ),
)


def credentials_from(output: str) -> tuple[str, str] | None:
    for line in output.splitlines():
        for pattern in CREDENTIAL_PATTERNS:
            found = pattern.search(line)
            if found:
                return found.group("user"), found.group("password")
    return None


def create_user(env: dict[str, str], username: str, password: str) -> None:
    """Fallback when ``serve --demo`` printed no login: add a user to the same database."""
    code = (
        "from atarys.app import create_app\n"
        "from atarys.api.auth import create_user\n"
        "from atarys.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        f"    create_user(db.session, {username!r}, {password!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)


OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) {
      wide.push(`${el.tagName.toLowerCase()}.${el.className}`.slice(0, 100));
    }
  }
  return { scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8) };
}"""


def assert_no_horizontal_scroll(page: Any, name: str) -> None:
    """At phone width the page itself never scrolls sideways (wide tables scroll in their box)."""
    found = page.evaluate(OVERFLOW_JS)
    assert found["scroll"] <= found["width"], (
        f"{name}: {found['scroll']} px wide on a {found['width']} px screen; "
        f"elements past the edge: {found['wide']}"
    )


def screenshot(page: Any, name: str) -> list[Path]:
    """Save ``name``-desktop.png (1280 px) and ``name``-phone.png (375 px) of the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    size = page.viewport_size or DESKTOP
    page.wait_for_load_state("networkidle")
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        if label == "phone":
            assert_no_horizontal_scroll(page, name)
        saved.append(path)
    page.set_viewport_size(size)
    return saved
