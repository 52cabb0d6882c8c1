"""The audit trail and the routing preview in headless Chromium: sentences, whole words, a pasted policy tried."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, server_env, start_server, stop_server
from tests.test_browser import ARGS, CHROMIUM, require_chromium
from tests.test_browser_tickets import _demo, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # each module starts a real server

#: Returns the words of the table's cells that the browser broke across two lines.
SPLIT_WORDS = """() => {
  const split = [];
  for (const cell of document.querySelectorAll('table.audit-table td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
        if (lines.size > 1) split.push(match[0]);
      }
    }
  }
  return split;
}"""


def test_the_audit_trail_and_the_preview_read_as_sentences(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    people = _demo(server_env(tmp_path, port))
    process, base = start_server(tmp_path, port=port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            admin: Any = _sign_in(browser, base, people["karen.walsh"])
            for width in (1280, 1024):
                admin.set_viewport_size({"width": width, "height": 900})
                admin.goto(f"{base}/admin/audit")
                expect(admin.get_by_role("cell", name="Karen Walsh signed in.").first).to_be_visible()
                assert admin.evaluate(SPLIT_WORDS) == [], width
            admin.get_by_label("Action").select_option(label="Sign-in")
            admin.get_by_role("button", name="Filter").click()
            with admin.expect_download() as download:
                admin.get_by_role("link", name="as CSV").click()
            assert download.value.suggested_filename.startswith("audit-TX-")

            office: Any = _sign_in(browser, base, people["susan.ortiz"])
            office.goto(f"{base}/triage/explain")
            office.get_by_label("Category").select_option("login")
            office.get_by_label("Agency").select_option(label="Travis County Probation")
            routing = (Path(__file__).resolve().parents[1] / "tickets" / "routing.yml").read_text(encoding="utf-8")
            office.get_by_label("Routing policy to try (optional)").fill(routing.replace("reports: 3", "reports: 4", 1))
            office.get_by_role("button", name="Preview").click()
            expect(office.get_by_text("4 reports from this agency within 60 minutes")).to_be_visible()
            expect(office.get_by_text("Nothing was saved")).to_be_visible()
            browser.close()
    finally:
        stop_server(process)
