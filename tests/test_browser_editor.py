"""An editor writes an article in the browser, previews it live, publishes; a signed-out reader finds it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, server_env, start_server, stop_server
from tests.test_browser import ARGS, CHROMIUM, require_chromium
from tests.test_browser_tickets import _demo, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # each module starts a real server
BODY = (
    "Who to call outside office hours.\n\n"
    "## Who answers the telephone after midnight?\n\nThe duty officer of the compact office.\n\n"
    "## Can I send a fax to the night desk?\n\nYes: the night desk reads its faxes every hour.\n"
)


def test_an_editor_publishes_and_a_reader_finds_it(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    people = _demo(server_env(tmp_path, port))
    process, base = start_server(tmp_path, port=port, extra_env={"HELPDESK_INDEX_CHECK_SECONDS": "1"})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            editor: Any = _sign_in(browser, base, people["olivia.turner"])
            editor.get_by_role("link", name="Articles").click()
            editor.get_by_role("link", name="Write an article").click()
            editor.get_by_label("Title").fill("The night desk")
            editor.get_by_label("Section").select_option(label="Errors and troubleshooting")
            editor.get_by_label("Text (Markdown").fill(BODY)
            # The live preview (debounced fetch, the server's renderer) shows both questions and their anchors.
            preview = editor.locator("#preview")
            expect(preview.locator("h2", has_text="Who answers the telephone after midnight?")).to_be_visible()
            expect(preview).to_contain_text("#can-i-send-a-fax-to-the-night-desk")
            editor.get_by_label("Change note").fill("First version")
            editor.get_by_role("button", name="Publish").click()
            expect(editor.locator(".flash-success")).to_contain_text("Published revision 1")

            reader = browser.new_context().new_page()  # signed out
            reader.goto(f"{base}/")
            field = reader.get_by_label("Search the help center")
            found = reader.locator(".typeahead a", has_text="Who answers the telephone after midnight?")
            for _ in range(20):  # the workers notice the new content version within the index check interval
                field.fill("")
                field.fill("who answers the telephone after midnight")
                try:
                    expect(found).to_be_visible(timeout=1000)
                    break
                except AssertionError:
                    continue
            found.click()
            expect(reader).to_have_url(
                re.compile(r"/articles/the-night-desk#who-answers-the-telephone-after-midnight$")
            )
            expect(reader.get_by_text("The duty officer of the compact office.")).to_be_visible()
            browser.close()
    finally:
        stop_server(process)
