"""Take the README screenshot: the home page of a fresh server with results shown while typing.

Run: .venv/bin/python scripts/screenshot.py  (needs Debian's chromium at /usr/bin/chromium)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.helpers import start_server, stop_server  # noqa: E402
from tests.test_browser import ARGS, CHROMIUM  # noqa: E402


def main() -> None:
    """Start a server, type a query, and save docs/screenshot.png."""
    with tempfile.TemporaryDirectory() as tmp:
        process, base = start_server(Path(tmp), workers=1)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
                page = browser.new_page(viewport={"width": 1100, "height": 720})
                page.goto(f"{base}/")
                page.get_by_label("Search the help center").fill("I can't log in")
                page.locator(".typeahead a").first.wait_for()
                page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))
                browser.close()
        finally:
            stop_server(process)


if __name__ == "__main__":
    main()
