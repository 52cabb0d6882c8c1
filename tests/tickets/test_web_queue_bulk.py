"""Bulk changes from the queue: assign or set the status of the ticked requests, all or none, through the web."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.tickets.assignment import assign_ticket
from helpdesk.tickets.models import Ticket, TicketEvent
from tests.helpers import read_csrf_token
from tests.tickets.conftest import ORIGIN, Org
from tests.tickets.test_web_queue import file_ticket, signed_in, work
from tests.tickets.ticket_page_support import change, outbox

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI
#: The audit actions of the changes a bulk action makes.
CHANGES = ("ticket_assigned", "ticket_status", "ticket_resolved")


@pytest.fixture
def travis(app: Flask, org: Org, clock: time_machine.Traveller) -> list[int]:
    """Three unassigned tier-1 requests of Travis County (Pat's queue)."""
    return [file_ticket(app, org, name, "other", subject=f"Printer of {name}") for name in ("ana", "ben", "dee")]


def seen(page: str) -> list[str]:
    """Return the "id:version" values the page was loaded with (as the browser sends them back)."""
    return re.findall(r'name="seen" value="([^"]+)"', page)


def state(app: Flask, ids: list[int]) -> list[tuple[str, int | None, int]]:
    """Return (status, assignee, version) of each request."""
    with app.app_context():
        rows = {
            t.id: (t.status, t.assignee_id, t.version)
            for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))
        }
        return [rows[ticket_id] for ticket_id in ids]


def counts(app: Flask) -> tuple[int, int]:
    """Return how many history entries and audit rows exist: nothing may be written by a refused change."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(TicketEvent)) or 0,
            db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(CHANGES))) or 0,
        )


def bulk(
    client: FlaskClient, page: str, picks: list[int | str], query: str = "", *, csrf: bool = True, **fields: Any
) -> tuple[int, str, str]:
    """Post the queue's bulk form as loaded in `page`; return the status, the page shown and the redirect target."""
    data: dict[str, Any] = {"seen": seen(page), "pick": [str(p) for p in picks], **fields}
    if csrf:
        data["csrf_token"] = read_csrf_token(client, "/queue")
    response = client.post(f"/queue/bulk{query}", data=data)
    return response.status_code, html.unescape(response.get_data(as_text=True)), response.headers.get("Location", "")


def test_local_it_assigns_ticked_requests_to_a_colleague(app: Flask, org: Org, travis: list[int]) -> None:
    client = signed_in(app, org, "pat")
    page = client.get("/queue?sort=created").get_data(as_text=True)
    before = counts(app)
    status, _, location = bulk(
        client,
        page,
        travis[:2],
        "?sort=created",
        action="assign",
        to=org.users["lee"],
        note="Lee covers printers this week",
    )
    assert status == 303 and location == "/queue?sort=created"  # back to the same filters
    assert [a for _, a, _ in state(app, travis)] == [org.users["lee"], org.users["lee"], None]
    assert counts(app) == (before[0] + 2, before[1] + 2)  # one history entry and one audit row per request
    with app.app_context():
        reasons = db.session.scalars(select(TicketEvent.reason).where(TicketEvent.kind == "assigned"))
        assert all("Lee covers printers this week" in (reason or "") for reason in reasons)
    assert outbox(app, "ticket_assigned") == ["lee@tx.example.gov"]  # one mail for the whole batch
    shown = html.unescape(client.get(location).get_data(as_text=True))
    assert "Assigned 2 requests to Lee Park." in shown


def test_every_request_on_the_page_and_the_status(app: Flask, org: Org, travis: list[int]) -> None:
    client = signed_in(app, org, "pat")
    page = client.get("/queue").get_data(as_text=True)
    status, _, location = bulk(
        client, page, [], action="status", status="pending", select_all="y", note="Waiting for the new toner"
    )
    assert status == 303 and location == "/queue"
    assert [s for s, _, _ in state(app, travis)] == ["pending"] * 3
    with app.app_context():
        rows = db.session.scalars(select(TicketEvent.reason).where(TicketEvent.kind == "status"))
        assert sorted(rows) == ["status new -> pending: Waiting for the new toner"] * 3
    assert "Set 3 requests to pending." in html.unescape(client.get("/queue").get_data(as_text=True))


def test_resolving_in_bulk_needs_the_resolution_and_tells_each_reporter(
    app: Flask, org: Org, travis: list[int]
) -> None:
    client = signed_in(app, org, "pat")
    page = client.get("/queue").get_data(as_text=True)
    status, shown, _ = bulk(client, page, travis, action="status", status="resolved")
    assert status == 400 and "Write the resolution" in shown and [s for s, _, _ in state(app, travis)] == ["new"] * 3
    status, _, _ = bulk(client, page, travis, action="status", status="resolved", note="The print server is back.")
    assert status == 303 and [s for s, _, _ in state(app, travis)] == ["resolved"] * 3
    assert sorted(outbox(app, "ticket_resolved")) == ["ana@tx.example.gov", "ben@tx.example.gov", "dee@tx.example.gov"]


def test_a_request_changed_since_loading_is_a_conflict_and_nothing_changes(
    app: Flask, org: Org, travis: list[int]
) -> None:
    client = signed_in(app, org, "pat")
    page = client.get("/queue?sort=created").get_data(as_text=True)
    with work(app) as (session, triage):  # Lee takes the second request meanwhile
        ticket = session.get(Ticket, travis[1])
        assert ticket is not None
        assign_ticket(session, triage, ticket, actor=org["lee"], assignee=org["lee"], expected_version=1, origin=ORIGIN)
    before, rows = counts(app), state(app, travis)
    status, shown, _ = bulk(
        client, page, travis, "?sort=created", action="status", status="pending", note="my note stays"
    )
    assert status == 409 and f"Request #{travis[1]} was changed by someone else" in shown
    assert "Nothing was changed; your selection is kept below." in shown
    assert state(app, travis) == rows and counts(app) == before  # the first request was not changed either
    for ticket_id in travis:  # the selection and the typed text are kept; the changed row is marked
        assert f'value="{ticket_id}" id="pick-{ticket_id}" checked' in shown
    assert "my note stays</textarea>" in shown and "changed since you loaded the page" in shown
    assert '<option value="pending" selected>' in shown


@pytest.mark.parametrize(
    ("who", "fields", "code"),
    [
        ("ana", {"action": "assign", "to": "pat"}, 403),  # a PO has no queue to change
        ("tess", {"action": "assign", "to": "pat"}, 403),  # a state administrator neither
        ("sam", {"action": "status", "status": "pending"}, 403),  # a supervisor reassigns but does not work requests
        ("oscar", {"action": "assign", "to": "oscar"}, 400),  # another state's requests: as if they did not exist
    ],
)
def test_people_who_may_not_change_the_requests_change_nothing(
    app: Flask, org: Org, travis: list[int], who: str, fields: dict[str, str], code: int
) -> None:
    page = signed_in(app, org, "pat").get("/queue").get_data(as_text=True)
    client, before = signed_in(app, org, who), counts(app)
    values = {key: str(org.users[value]) if key == "to" else value for key, value in fields.items()}
    status, shown, _ = bulk(client, page, travis, **values)
    assert status == code and state(app, travis) == [("new", None, 1)] * 3 and counts(app)[0] == before[0]
    if code == 400:
        assert "Tick only requests listed in the queue." in shown


def test_a_supervisor_assigns_within_the_agency(app: Flask, org: Org, travis: list[int]) -> None:
    client = signed_in(app, org, "sam")
    page = client.get("/queue").get_data(as_text=True)
    assert 'name="status"' not in page.split('class="queue-bulk"')[1]  # no status change offered
    status, _, _ = bulk(client, page, travis[:1], action="assign", to=str(org.users["pat"]))
    assert status == 303 and state(app, travis[:1]) == [("new", org.users["pat"], 2)]


def test_an_unknown_request_and_another_state_s_answer_alike(app: Flask, org: Org, travis: list[int]) -> None:
    tulsa = file_ticket(app, org, "olga", "other")
    client = signed_in(app, org, "pat")
    page = client.get("/queue").get_data(as_text=True)
    forged = f'{page}<input name="seen" value="{tulsa}:1"><input name="seen" value="999999:1">'
    for ticket_id in (tulsa, 999999):
        status, shown, _ = bulk(client, forged, [ticket_id], action="assign", to=str(org.users["pat"]))
        assert status == 400 and "Nothing was changed. Tick only requests listed in the queue." in shown
        assert "Olga" not in shown and "Tulsa" not in shown
    assert state(app, [tulsa]) == [("new", None, 1)]


@pytest.mark.parametrize(
    ("picks", "fields", "message"),
    [
        ([], {"action": "assign", "to": "lee"}, "Tick the requests to change"),
        (["99999999999999999999"], {"action": "assign", "to": "lee"}, "Tick only requests listed in the queue."),
        (["x"], {"action": "assign", "to": "lee"}, "Tick only requests listed in the queue."),
        ("first", {"action": "assign", "to": "otto"}, "Choose who takes the requests from the list."),  # another state
        ("first", {"action": "assign", "to": "999999"}, "Choose who takes the requests from the list."),  # nobody
        ("first", {"action": "assign", "to": ""}, "Choose who takes the requests from the list."),
        ("first", {"action": "status", "status": ""}, "Choose the status to set."),
        ("first", {"action": "status", "status": "closed"}, "some choices are missing or not valid"),
        ("first", {"action": "delete"}, "some choices are missing or not valid"),
        ("first", {"to": "lee"}, "some choices are missing or not valid"),
        ("first", {"action": "assign", "to": "lee", "note": "x" * 1001}, "some choices are missing or not valid"),
    ],
)
def test_bad_input_is_refused_with_the_reason(
    app: Flask, org: Org, travis: list[int], picks: Any, fields: dict[str, str], message: str
) -> None:
    client = signed_in(app, org, "pat")
    page = client.get("/queue").get_data(as_text=True)
    values = {
        key: str(org.users[value]) if key == "to" and value in org.users else value for key, value in fields.items()
    }
    status, shown, _ = bulk(client, page, travis[:1] if picks == "first" else picks, **values)
    assert status == 400 and message in shown and "Nothing was changed" in shown
    assert state(app, travis) == [("new", None, 1)] * 3
    assert "Otto Fern" not in shown  # another state's people are never named


def test_a_tampered_list_or_a_missing_token_changes_nothing(app: Flask, org: Org, travis: list[int]) -> None:
    client = signed_in(app, org, "pat")
    page = client.get("/queue").get_data(as_text=True)
    status, shown, _ = bulk(
        client, f'{page}<input name="seen" value="{travis[0]}:x">', travis[:1], action="status", status="pending"
    )
    assert status == 400 and "The list of requests was changed in the page" in shown
    status, shown, _ = bulk(
        client,
        f'{page}<input name="seen" value="{travis[0]}:99999999999999999999">',
        travis[:1],
        action="status",
        status="pending",
    )
    assert status == 400 and "The list of requests was changed in the page" in shown
    status, shown, _ = bulk(client, page, travis, csrf=False, action="status", status="pending")
    assert status == 400 and state(app, travis) == [("new", None, 1)] * 3


def test_closed_requests_are_not_assigned(app: Flask, org: Org, travis: list[int]) -> None:
    change(app, travis[0], status="closed")
    client = signed_in(app, org, "pat")
    page = client.get("/queue?status=all").get_data(as_text=True)
    status, shown, _ = bulk(client, page, travis[:2], "?status=all", action="assign", to=str(org.users["lee"]))
    assert status == 400 and f"Request #{travis[0]} is closed; reopen it before assigning it." in shown
    assert [a for _, a, _ in state(app, travis)] == [None] * 3
    assert re.search(rf'value="{travis[1]}" id="pick-{travis[1]}" checked', shown)
