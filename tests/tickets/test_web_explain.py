"""The routing preview page: the same words as `helpdesk triage explain`, scoped, escaped, refused to others."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from helpdesk.accounts.models import Agency
from tests.tickets.conftest import BERNALILLO, HAYS, TRAVIS, TULSA, Org
from tests.tickets.test_web_queue import signed_in, work

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def offered(page: str) -> list[str]:
    """Return the agencies offered in the form."""
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page)


def shown(html: str) -> list[str]:
    """Return the preview's lines as the command prints them (a linked answer: its title, then its address)."""
    lines = []
    for inner in re.findall(r'<p class="explain-line[^"]*">(.*?)</p>', html, re.S):
        link = re.fullmatch(r'<a href="([^"]+)">([^<]*)</a>', inner)
        lines.append(f"{htmllib.unescape(link[2])} ({link[1]})" if link else htmllib.unescape(inner).strip())
    return lines


def cli_lines(runner: FlaskCliRunner, category: str, agency: str, state: str) -> list[str]:
    """Return the lines `helpdesk triage explain` prints."""
    result = runner.invoke(args=["triage", "explain", "--category", category, "--agency", agency, "--state", state])
    assert result.exit_code == 0, result.output
    return [line.strip() for line in result.output.splitlines() if line.strip()]


def test_the_compact_office_previews_its_state_s_agencies(app: Flask, org: Org) -> None:
    page = signed_in(app, org, "robin").get("/triage/explain")
    assert page.status_code == 200
    agencies = offered(page.get_data(as_text=True))
    assert TRAVIS in agencies and HAYS in agencies and TULSA not in agencies and BERNALILLO not in agencies


@pytest.mark.parametrize(
    ("who", "category", "agency", "state"),
    [
        ("robin", "login", TRAVIS, "TX"),
        ("robin", "slow", HAYS, "TX"),  # no local IT: the compact office, saying so
        ("noor", "access", TULSA, "OK"),
        ("noor", "login", BERNALILLO, "NM"),
    ],
)
def test_the_preview_shows_what_the_command_prints(
    app: Flask, org: Org, runner: FlaskCliRunner, who: str, category: str, agency: str, state: str
) -> None:
    page = signed_in(app, org, who).get(f"/triage/explain?category={category}&agency={org.agencies[agency]}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert shown(html) == cli_lines(runner, category, agency, state)
    assert "One report goes to " in html
    assert f"helpdesk triage explain --category {category} --agency &#39;{agency}&#39; --state {state}" in html


def test_no_local_it_is_explained(app: Flask, org: Org) -> None:
    html = (
        signed_in(app, org, "kim")
        .get(f"/triage/explain?category=login&agency={org.agencies[HAYS]}")
        .get_data(as_text=True)
    )
    assert "no local IT" in html and "compact office" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?category=nope&agency={travis}", "Not a valid choice"),
        ("?category=login&agency=abc", "Choose from the list."),
        ("?category=login&agency=", "Choose an agency."),
        ("?category=login&agency=999999", "that one is unknown or not in your state"),
        ("?category=login&agency={tulsa}", "that one is unknown or not in your state"),  # another state's agency
    ],
)
def test_unknown_or_foreign_choices_answer_400(app: Flask, org: Org, query: str, message: str) -> None:
    url = "/triage/explain" + query.format(travis=org.agencies[TRAVIS], tulsa=org.agencies[TULSA])
    page = signed_in(app, org, "robin").get(url)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert message in html and "One report goes to " not in html


def test_names_are_escaped(app: Flask, org: Org) -> None:
    with work(app) as (session, _):
        agency = Agency(state_code="TX", name="<b>Bold</b> & Co", time_zone="America/Chicago")
        session.add(agency)
        session.flush()
        agency_id = agency.id
    html = signed_in(app, org, "noor").get(f"/triage/explain?category=login&agency={agency_id}").get_data(as_text=True)
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
    assert "One report goes to " in html


@pytest.mark.parametrize("who", ["pat", "ana", "sam", "tess"])
def test_other_roles_are_refused(app: Flask, org: Org, who: str) -> None:
    page = signed_in(app, org, who).get(f"/triage/explain?category=login&agency={org.agencies[TRAVIS]}")
    assert page.status_code == 403 and "routing preview is for compact office staff" in page.get_data(as_text=True)
