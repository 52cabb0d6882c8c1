"""The routing preview tries a pasted routing policy: validated by the policy loader, used once, never saved."""

from __future__ import annotations

import hashlib
import html as htmllib
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.tickets.context import EXTENSION_KEY
from helpdesk.tickets.web.queue_forms import MAX_POLICY_CHARS
from tests.helpers import read_csrf_token
from tests.tickets.conftest import TRAVIS, Org
from tests.tickets.test_web_queue import signed_in

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

ROUTING = Path(__file__).resolve().parents[2] / "tickets" / "routing.yml"


def try_policy(client: FlaskClient, org: Org, policy: str, category: str = "login") -> tuple[int, str]:
    """Post the preview form with a policy to try; return the status and the page."""
    response = client.post(
        "/triage/explain",
        data={
            "csrf_token": read_csrf_token(client, "/triage/explain"),
            "category": category,
            "agency": str(org.agencies[TRAVIS]),
            "policy": policy,
        },
    )
    return response.status_code, response.get_data(as_text=True)


def field_error(html: str) -> str:
    """Return the error shown next to the policy field."""
    found = re.search(r'<p class="field-error" id="policy-error" role="alert">([^<]*)</p>', html)
    return htmllib.unescape(found[1]) if found else ""


def test_a_pasted_policy_is_previewed_and_not_saved(app: Flask, org: Org) -> None:
    before = hashlib.sha256(ROUTING.read_bytes()).hexdigest()
    client = signed_in(app, org, "robin")
    changed = ROUTING.read_text(encoding="utf-8").replace("    reports: 3\n", "    reports: 5\n", 1)
    status, html = try_policy(client, org, changed)
    assert status == 200
    assert "5 reports from this agency within 60 minutes make a location incident" in html
    assert "Previewed with the routing policy pasted above. Nothing was saved" in html
    assert "helpdesk triage explain" not in html  # the command shows the current policy, not the pasted one
    assert htmllib.unescape(html).count("reports: 5") == 1  # the text stays in the field
    # Nothing changed: the file, the app's policy and the next preview.
    assert hashlib.sha256(ROUTING.read_bytes()).hexdigest() == before
    assert app.extensions[EXTENSION_KEY].policy.location.reports == 3
    again = client.get(f"/triage/explain?category=login&agency={org.agencies[TRAVIS]}").get_data(as_text=True)
    assert "3 reports from this agency" in again
    status, empty = try_policy(client, org, "   ")  # an empty field previews the current policy
    assert status == 200 and "3 reports from this agency" in empty and "Previewed with" not in empty


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("incidents: [unclosed", "routing.yml: is not valid YAML"),
        ("incidents:\n  categories: [login]\n", "routing.yml: missing key 'escalation'"),
        (
            ROUTING.read_text(encoding="utf-8").replace("    reports: 3\n", "    reports: 3\n    reprots: 4\n", 1),
            "unknown key 'reprots'",
        ),
        (
            ROUTING.read_text(encoding="utf-8").replace("    reports: 3\n", "    reports: -2\n", 1),
            "incidents.location.reports",
        ),
        ("a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
        ("x" * (MAX_POLICY_CHARS + 1), f"Paste at most {MAX_POLICY_CHARS:,} characters"),
    ],
)
def test_a_bad_policy_is_refused_next_to_the_field(app: Flask, org: Org, policy: str, message: str) -> None:
    status, html = try_policy(signed_in(app, org, "robin"), org, policy)
    assert status == 400
    assert message in field_error(html), field_error(html)
    assert 'aria-invalid="true"' in html and "One report goes to " not in html
    if len(policy) <= MAX_POLICY_CHARS:
        assert htmllib.unescape(html).count(policy.strip()) >= 1  # the typed text is kept


def test_trying_needs_the_form_token_and_the_role(app: Flask, org: Org) -> None:
    robin = signed_in(app, org, "robin")
    read_csrf_token(robin, "/triage/explain")
    without = robin.post(
        "/triage/explain", data={"category": "login", "agency": str(org.agencies[TRAVIS]), "policy": "incidents: {}"}
    )
    assert without.status_code == 400 and "One report goes to " not in without.get_data(as_text=True)
    for who in ("pat", "tess"):
        client = signed_in(app, org, who)
        response = client.post(
            "/triage/explain",
            data={"csrf_token": read_csrf_token(client, "/"), "category": "login", "agency": str(org.agencies[TRAVIS])},
        )
        assert response.status_code == 403, who
