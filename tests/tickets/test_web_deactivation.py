"""Deactivating a holder of requests from the admin page: only people who may hold the requests are offered."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from tests.helpers import read_csrf_token
from tests.tickets.conftest import Org
from tests.tickets.test_web_caseload import assignees, held  # noqa: F401 (a fixture)
from tests.tickets.test_web_queue import signed_in

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def offered(html: str) -> list[str]:
    """Return the names the hand-over list offers."""
    return [name.strip() for name in re.findall(r'<option value="\d+"[^>]*>([^<·]+) ·', html)]


def test_the_hand_over_offers_only_who_may_hold_the_requests(app: Flask, org: Org, held: dict[str, list[int]]) -> None:  # noqa: F811
    page = signed_in(app, org, "tess").get(f"/admin/users/{org.users['pat']}").get_data(as_text=True)
    assert "Pat Lee holds 3 open items" in page
    # Pat holds tier-1 Travis requests: Travis local IT or the Texas compact office, never a PO, a supervisor or Pat.
    assert offered(page) == ["Kim Vo", "Lee Park", "Robin Diaz"]


def test_a_po_posted_anyway_is_refused_clearly_and_nothing_changes(
    app: Flask,
    org: Org,
    held: dict[str, list[int]],  # noqa: F811 (the fixture)
) -> None:
    client = signed_in(app, org, "tess")
    path = f"/admin/users/{org.users['pat']}/deactivate"
    response = client.post(
        path, data={"csrf_token": read_csrf_token(client, "/privacy"), "reassign_to": str(org.users["ana"])}
    )
    assert response.status_code == 400
    assert "Ana Reyes cannot take request" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, org.users["pat"]).is_active  # type: ignore[union-attr]
    assert assignees(app, held["pat"]) == [org.users["pat"]] * 3
    done = client.post(
        path, data={"csrf_token": read_csrf_token(client, "/privacy"), "reassign_to": str(org.users["lee"])}
    )
    assert done.status_code == 303 and assignees(app, held["pat"]) == [org.users["lee"]] * 3


def test_nobody_offered_when_no_one_may_hold_the_work(app: Flask, org: Org, held: dict[str, list[int]]) -> None:  # noqa: F811
    # Robin holds a Texas tier-2 request; Kim (compact office) may take it. Once Kim is gone, nobody may.
    with app.app_context():
        db.session.get(User, org.users["kim"]).is_active = False  # type: ignore[union-attr]
        db.session.commit()
    page = signed_in(app, org, "tess").get(f"/admin/users/{org.users['robin']}").get_data(as_text=True)
    assert offered(page) == [] and "No active user of the state may hold all of this work" in page
