"""Looking at a page in a real headless Chromium (Debian's package, installed by `make browser`).

Started as this machine needs it (no sandbox as root, no GPU, no background calls to Google's
services, a new empty profile), with every host name unresolvable: a page that renders here needs no
network. `--dump-dom` gives the document after its scripts ran, for a file:// URL with an anchor.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host name resolves
)
NOT_INSTALLED = (
    "Chromium is not installed and could not be installed on this machine (`make browser` installs "
    "Debian's chromium with apt-get, which needs root and the package registry): the docs page was not "
    "looked at in a browser"
)


def chromium() -> str:
    """The Chromium executable, or a skip that says why there is none."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(NOT_INSTALLED)
    return found


def rendered_text(url: str, *, wait_ms: int = 20000) -> str:
    """The visible text of the page at `url` once its scripts have run (script and style bodies left out)."""
    executable = chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        result = subprocess.run(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={wait_ms}",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return visible_text(result.stdout)


class _VisibleText(HTMLParser):
    HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """The text nodes of a document outside scripts and styles, one per line."""
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)
