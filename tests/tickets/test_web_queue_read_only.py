"""State administrators: a read-only view of their state's queue (see and filter; no actions, refused on the server)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.helpers import read_csrf_token
from tests.tickets.conftest import Org
from tests.tickets.test_web_queue import signed_in, tickets  # noqa: F401 (a fixture)

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def shown(html: str) -> set[int]:
    """Return the ids of the requests the page lists (plain numbers: no links for a read-only view)."""
    return {int(found) for found in re.findall(r'<td data-label="Request"[^>]*>#(\d+)', html)}


def test_a_state_administrator_sees_every_tier_of_the_state_only(app: Flask, org: Org, tickets: dict[str, int]) -> None:  # noqa: F811
    page = signed_in(app, org, "tess").get("/queue?status=all")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    texas = {tickets[k] for k in ("travis_old", "travis_new", "travis_access", "hays", "travis_done")}
    assert shown(html) == texas  # tier 1 and 2 of Texas; never Oklahoma, New Mexico or the national request
    assert "read-only view of your state" in html


def test_filters_work_for_the_read_only_view(app: Flask, org: Org, tickets: dict[str, int]) -> None:  # noqa: F811
    client = signed_in(app, org, "tess")
    access = client.get("/queue?status=all&category=access").get_data(as_text=True)
    assert shown(access) == {tickets["travis_access"]}
    tier2 = client.get("/queue?status=all&tier=compact_office").get_data(as_text=True)
    assert shown(tier2) == {tickets["travis_access"], tickets["hays"]}  # Hays has no local IT
    held = client.get(f"/queue?status=all&assignee={org.users['pat']}").get_data(as_text=True)
    assert shown(held) == {tickets["travis_new"]}
    foreign = client.get(f"/queue?assignee={org.users['otto']}")  # another state's person is not a choice
    assert foreign.status_code == 400


def test_no_actions_are_offered_and_the_server_refuses_them(app: Flask, org: Org, tickets: dict[str, int]) -> None:  # noqa: F811
    client = signed_in(app, org, "tess")
    html = client.get("/queue?status=all").get_data(as_text=True)
    main = html[html.index("<h1>Queue</h1>") :]
    assert "/requests/" not in main and 'type="checkbox"' not in main and 'method="post"' not in main.lower()
    ticket_id = tickets["travis_old"]
    token = read_csrf_token(client, "/queue")
    attempts = [
        ("assign", {"assignee": str(org.users["lee"])}),
        ("status", {"status": "open"}),
        ("note", {"body": "Looked at it."}),
        ("reply", {"body": "Hello."}),
    ]
    for action, fields in attempts:
        response = client.post(f"/requests/{ticket_id}/{action}", data={"csrf_token": token, "version": "2", **fields})
        assert response.status_code in (403, 404), action
    assert client.get(f"/requests/{ticket_id}").status_code in (403, 404)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.assignee_id is None and ticket.status == "pending"
