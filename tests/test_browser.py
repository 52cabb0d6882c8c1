"""What a person does, in headless Chromium: search as you type, open the answer, vote; also without JavaScript."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # each module starts a real server
CHROMIUM = Path("/usr/bin/chromium")
LOGIN_Q = "what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots"
#: As the machine notes advise: no background networking, no first-run, no sandbox as root.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "Chromium is not installed at /usr/bin/chromium (Debian: apt-get install chromium)"
    if os.environ.get("HELPDESK_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}, and HELPDESK_REQUIRE_BROWSER is set")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `helpdesk serve` for the browser."""
    require_chromium()
    process, base = start_server(tmp_path_factory.mktemp("browser"))
    yield base
    stop_server(process)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


def test_search_as_you_type_open_the_answer_and_vote(server: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page()
    page.goto(f"{server}/")
    page.get_by_label("Search the help center").fill("I can't log in")
    first = page.locator(".typeahead a").first
    expect(first).to_be_visible(timeout=5000)
    expect(first).to_contain_text("log into ICOTS")
    first.click()
    expect(page).to_have_url(re.compile(rf"/articles/errors-and-technical-support#{LOGIN_Q}$"))
    heading = page.locator(f"h2#{LOGIN_Q}")
    expect(heading).to_be_in_viewport()
    page.get_by_role("button", name="Yes").click()
    expect(page.locator("[data-vote-count]")).to_have_text("1 out of 1 found this helpful")
    expect(page.get_by_role("button", name="Yes")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator("[data-vote-count]")).to_have_text("1 out of 1 found this helpful")
    expect(page.locator("[data-vote-mine]")).to_contain_text("You answered Yes")
    page.close()


def test_a_no_vote_asks_what_was_missing(server: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page()
    page.goto(f"{server}/articles/user-administration-and-system-access")
    page.get_by_role("button", name="No").click()
    reason = page.get_by_label("Sorry this did not help. What was missing or wrong?")
    expect(reason).to_be_visible()
    expect(page.locator("textarea:visible")).to_have_count(1)  # one "what was missing?" box, not two
    reason.fill("It does not give the login address.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-vote-mine]")).to_contain_text("will read it")
    page.close()


def test_everything_works_without_javascript(server: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/")
    page.get_by_label("Search the help center").fill("slow loading screens")
    page.get_by_label("Search the help center").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=slow"))
    page.locator("ol.results a").first.click()
    expect(page).to_have_url(re.compile(r"#what-do-i-do-when-the-page-is-loading-slowly$"))
    # An article nobody voted on says nothing: "0 out of 0" is not shown.
    helpful, total = map(int, re.findall(r"\d+", page.locator("[data-vote-count]").inner_text()) or (0, 0))
    page.get_by_role("button", name="No").click()
    expect(page.locator(".flash-success")).to_contain_text("What was missing?")
    expect(page.locator("[data-vote-count]")).to_have_text(f"{helpful} out of {total + 1} found this helpful")
    expect(page.locator("[data-vote-mine]")).to_contain_text("You answered No")
    context.close()


def test_keyboard_only_and_phone_sized(server: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": 375, "height": 740})
    page.goto(f"{server}/articles/errors-and-technical-support")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page scrolls sideways on a phone: {width}px"
    page.screenshot(path=str(Path(os.environ.get("HELPDESK_SCREENSHOT_DIR", "/tmp")) / "helpdesk-phone.png"))
    page.close()
