"""Insights in headless Chromium: a national administrator turns a PO's failed search into a phrasing, and the PO's
next search finds the answer; both pages are photographed for the README."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, server_env, start_server, stop_server
from tests.test_browser import ARGS, CHROMIUM, require_chromium
from tests.test_browser_tickets import _demo, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # each module starts a real server
SHOTS = Path(os.environ.get("HELPDESK_SCREENSHOT_DIR", "/tmp"))
QUERY = "zorblax quuxer"
ANSWER = "What do I do when the page is loading slowly?"


def _search(page: Any, base: str, text: str) -> None:
    page.goto(f"{base}/")
    box = page.get_by_role("searchbox", name="Search the help center").first
    box.fill(text)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))


def test_a_failed_search_becomes_a_phrasing_and_the_po_then_finds_the_answer(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    people = _demo(server_env(tmp_path, port))
    process, base = start_server(tmp_path, port=port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            po: Any = _sign_in(browser, base, people["maria.alvarez"])
            for other in ("quuxer settings", "sluggish report screen"):  # more rows for the photograph
                _search(po, base, other)
            _search(po, base, QUERY)
            expect(po.get_by_role("heading", name=f"No answers matched \u201c{QUERY}\u201d")).to_be_visible()

            admin: Any = _sign_in(browser, base, people["catherine.moore"])
            admin.set_viewport_size({"width": 1280, "height": 900})
            admin.get_by_role("link", name="Insights").click()
            expect(admin.get_by_role("heading", name="The desk\u2019s dashboard")).to_be_visible()
            expect(admin.locator("svg.chart[role=img]").first).to_be_visible()
            admin.screenshot(path=str(SHOTS / "insights-desk.png"), full_page=True)
            admin.get_by_role("link", name="content gaps").click()
            row = admin.locator("#table-zero_result tr", has=admin.get_by_role("rowheader", name=QUERY))
            expect(row).to_be_visible()
            expect(row.get_by_role("cell").first).to_have_text("1")  # one search, by one person: no name shown
            admin.screenshot(path=str(SHOTS / "insights-content.png"), full_page=True)
            row.get_by_text("Add as a phrasing of\u2026").click()
            row.get_by_label(f"Question that \u201c{QUERY}\u201d should find").select_option(
                label=f"Errors and Technical Support \u203a {ANSWER}"
            )
            row.get_by_role("button", name="Add phrasing").click()
            expect(admin.get_by_text(f"\u201c{QUERY}\u201d is now a phrasing of that question")).to_be_visible()
            expect(admin.locator("#table-zero_result").get_by_role("rowheader", name=QUERY)).to_have_count(0)
            expect(admin.get_by_text(f"handled \u201c{QUERY}\u201d")).to_be_visible()

            # The workers pick the phrasing up within seconds (HELPDESK_INDEX_CHECK_SECONDS): search again until then.
            found = po.get_by_role("link", name=ANSWER)
            for _attempt in range(30):
                _search(po, base, QUERY)
                if found.count():
                    break
                po.wait_for_timeout(500)
            expect(found.first).to_be_visible()
            browser.close()
    finally:
        stop_server(process)
