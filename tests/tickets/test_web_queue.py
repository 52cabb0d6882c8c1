"""The queue page: each role's scope, filters, orders, counts, pages, due times, bad filters and the navigation."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from flask import Flask, render_template
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.tickets.context import EXTENSION_KEY, Triage
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.submit import submit_ticket
from helpdesk.tickets.workflow import reply_ticket, resolve_ticket
from tests.factories import sign_in
from tests.tickets.conftest import ORIGIN, Org

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


@contextmanager
def work(app: Flask) -> Iterator[tuple[Session, Triage]]:
    """Change tickets with the services in a context of their own, committed (as another person would)."""
    with app.app_context():
        yield db.session, app.extensions[EXTENSION_KEY]
        db.session.commit()


def file_ticket(app: Flask, org: Org, reporter: str, category: str = "other", subject: str | None = None) -> int:
    """File a request as `reporter`; return its id."""
    with work(app) as (session, triage):
        return submit_ticket(
            session,
            triage,
            reporter=org[reporter],
            category=category,
            subject=subject or f"Cannot use ICOTS ({category})",
            description="It fails.",
            idempotency_key=secrets.token_hex(16),
            origin=ORIGIN,
        ).ticket.id


def signed_in(app: Flask, org: Org, name: str) -> FlaskClient:
    """Return a client signed in as `name` (second factor included), through the real forms."""
    with app.app_context():
        user = org[name]
    client = app.test_client()
    response = sign_in(client, user)
    assert response.status_code == 303 and "/login" not in response.headers["Location"]
    return client


def row_ids(html: str) -> list[int]:
    """Return the request ids of a page's rows, in order."""
    return [int(found) for found in re.findall(r'<a href="/requests/(\d+)">#', html)]


@pytest.fixture
def tickets(app: Flask, org: Org, clock: time_machine.Traveller) -> dict[str, int]:
    """Requests of every kind filed an hour apart; one answered (pending), one resolved, one assigned."""
    filed = {}
    for key, reporter, category in [
        ("travis_old", "ana", "other"),
        ("travis_new", "ben", "slow"),
        ("travis_access", "ana", "access"),
        ("hays", "hal", "login"),
        ("tulsa", "olga", "other"),
        ("national", "noor", "access"),
        ("nm", "nina", "access"),
        ("travis_done", "dee", "other"),
    ]:
        filed[key] = file_ticket(app, org, reporter, category)
        clock.shift(dt.timedelta(hours=1))
    with work(app) as (session, triage):
        reply_ticket(
            session,
            triage,
            session.get(Ticket, filed["travis_old"]),
            actor=org["pat"],
            body="Waiting.",
            status="pending",
            expected_version=1,
            origin=ORIGIN,
        )
        resolve_ticket(
            session,
            triage,
            session.get(Ticket, filed["travis_done"]),
            actor=org["pat"],
            resolution="Done.",
            expected_version=1,
            origin=ORIGIN,
        )
        session.get(Ticket, filed["travis_new"]).assignee_id = org.users["pat"]  # type: ignore[union-attr]
    return filed


@pytest.mark.parametrize(
    ("who", "query", "expected"),
    [
        # Local IT: the agency's tier 1, overdue work first (Ben's request of 11:00 still has no first response at
        # 18:00), then by resolution due.
        ("pat", "", ["travis_new", "travis_old"]),
        ("lee", "?tier=", ["travis_new", "travis_old"]),
        ("robin", "", ["travis_access", "hays"]),  # compact office: the state's tier 2; never NM's or OK's
        ("robin", "?tier=local_it", ["travis_new", "travis_old"]),  # the state's tier 1, not Tulsa's
        ("oscar", "", []),
        ("oscar", "?tier=local_it", ["tulsa"]),
        ("noor", "", ["national"]),
        ("noor", "?tier=compact_office", ["travis_access", "hays", "nm"]),
        # Every tier and state, by resolution due: Tulsa and the national office (Eastern time) due on Thursday too.
        ("noor", "?tier=all", ["travis_new", "travis_old", "tulsa", "national", "travis_access", "hays", "nm"]),
        ("sam", "", ["travis_new", "travis_old", "travis_access"]),  # a supervisor: the agency's requests
        ("hope", "", ["hays"]),  # Hays has no local IT: Hal's login request is with the compact office, still Hays'
    ],
)
def test_each_role_sees_exactly_its_queue(
    app: Flask, org: Org, tickets: dict[str, int], who: str, query: str, expected: list[str]
) -> None:
    page = signed_in(app, org, who).get(f"/queue{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert row_ids(html) == [tickets[key] for key in expected]
    assert f'Open work <span class="count">{len(expected)}</span>' in html
    assert f"{len(expected)} request{'' if len(expected) == 1 else 's'} · Open work." in html


def test_rows_show_what_a_person_needs(app: Flask, org: Org, tickets: dict[str, int]) -> None:
    html = signed_in(app, org, "pat").get("/queue").get_data(as_text=True)
    new = html[html.index(f'<a href="/requests/{tickets["travis_new"]}">') :]
    row = new[: new.index("</tr>")]
    for text in (
        "Cannot use ICOTS (slow)",
        "Pages are slow",
        "New",
        "Ben Cole",
        "Travis County Probation (TX)",
        "Pat Lee",
        "Due in",
    ):
        assert text in row, text
    assert re.search(
        r'<time datetime="2026-03-1\dT[\d:]+\+00:00" class="muted due-time">'
        r"2026-03-1\d \d\d:\d\d CDT</time>",
        row,
    )
    old = html[html.index(f'<a href="/requests/{tickets["travis_old"]}">') :]
    assert "Unassigned" in old[: old.index("</tr>")] and "answered" in old[: old.index("</tr>")]
    assert 'Resolved <span class="count">1</span>' in html and 'All <span class="count">3</span>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=pending", ["travis_old"]),
        ("?status=new", ["travis_new"]),
        ("?status=resolved", ["travis_done"]),
        ("?status=closed", []),
        ("?status=all", ["travis_new", "travis_old", "travis_done"]),  # the late first response first
        ("?category=slow", ["travis_new"]),
        ("?assignee=me", ["travis_new"]),
        ("?assignee=none", ["travis_old"]),
        ("?sort=due", ["travis_new", "travis_old"]),
        ("?sort=response", ["travis_new", "travis_old"]),  # still waiting for a first response comes first
        ("?sort=created", ["travis_new", "travis_old"]),  # newest first
        ("?sort=updated", ["travis_old", "travis_new"]),  # answered after both were filed
        ("?status=all&sort=created&category=other", ["travis_done", "travis_old"]),
    ],
)
def test_filters_and_orders_change_the_rows(
    app: Flask, org: Org, tickets: dict[str, int], query: str, expected: list[str]
) -> None:
    page = signed_in(app, org, "pat").get(f"/queue{query}")
    assert page.status_code == 200
    assert row_ids(page.get_data(as_text=True)) == [tickets[key] for key in expected]


def test_a_named_assignee_and_the_counts_follow_the_filters(app: Flask, org: Org, tickets: dict[str, int]) -> None:
    client = signed_in(app, org, "pat")
    html = client.get(f"/queue?assignee={org.users['pat']}").get_data(as_text=True)
    assert row_ids(html) == [tickets["travis_new"]] and 'Open work <span class="count">1</span>' in html
    assert row_ids(client.get(f"/queue?assignee={org.users['lee']}").get_data(as_text=True)) == []


@pytest.mark.parametrize(
    "query",
    [
        "?status=bogus",
        "?sort=priority",
        "?page=0",
        "?page=x",
        "?incident=abc",
        "?assignee=somebody",
        "?tier=national",
        "?category=nope",
        "?tier=all",
    ],
)
def test_bad_filters_answer_400_with_a_message(app: Flask, org: Org, tickets: dict[str, int], query: str) -> None:
    page = signed_in(app, org, "pat").get(f"/queue{query}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Some filters are not valid" in html and 'class="field-error"' in html and row_ids(html) == []


def test_an_assignee_outside_the_queue_is_refused(app: Flask, org: Org, tickets: dict[str, int]) -> None:
    page = signed_in(app, org, "pat").get(f"/queue?assignee={org.users['otto']}")
    assert page.status_code == 400 and "Choose an assignee from the list." in page.get_data(as_text=True)
    assert "Otto Fern" not in page.get_data(as_text=True)  # another state's people are not offered


@pytest.mark.parametrize("who", ["ana", "cy"])
def test_roles_without_a_queue_are_sent_to_my_requests(app: Flask, org: Org, who: str) -> None:
    page = signed_in(app, org, who).get("/queue")
    assert page.status_code == 403 and "My requests" in page.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/queue")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_overdue_requests_are_marked(app: Flask, org: Org, clock: time_machine.Traveller) -> None:
    late = file_ticket(app, org, "ana", "other", subject="Late one")
    clock.shift(dt.timedelta(days=3))  # Friday 10:00; 16 business hours (8:00-17:00) ran out Wednesday 17:00
    fresh = file_ticket(app, org, "ben", "other", subject="Fresh one")
    html = signed_in(app, org, "pat").get("/queue").get_data(as_text=True)
    assert row_ids(html) == [late, fresh]
    late_row = html[html.index(f'<a href="/requests/{late}">') : html.index(f'<a href="/requests/{fresh}">')]
    # In words, bold and marked, and the row too: never by colour alone.
    assert "Overdue by 41 h</strong>" in late_row and "Overdue by 2 days</strong>" in late_row
    assert late_row.count('class="overdue-mark" aria-hidden="true">!</span>') == 2
    assert re.search(
        r'<tr class="row-overdue">\s*<td data-label="" class="pick">', html[: html.index(late_row) + len(late_row)]
    )
    fresh_row = html[html.index(f'<a href="/requests/{fresh}">') :]
    fresh_row = fresh_row[: fresh_row.index("</tr>")]
    assert "Overdue" not in fresh_row and "Due in 4 h" in fresh_row and "Due in 3 days" in fresh_row
    assert 'class="row-overdue"' not in html[html.index(late_row) + len(late_row) - 200 :]


def test_overdue_work_comes_first_and_is_counted(app: Flask, org: Org, clock: time_machine.Traveller) -> None:
    answered = file_ticket(app, org, "ana", "other", subject="Answered early")
    with work(app) as (session, triage):  # its first response is given: only its resolution is due
        reply_ticket(
            session,
            triage,
            session.get(Ticket, answered),
            actor=org["pat"],
            body="On it.",
            expected_version=1,
            origin=ORIGIN,
        )
    clock.shift(dt.timedelta(hours=1))
    waiting = file_ticket(app, org, "ben", "other", subject="Still waiting")  # due later, but its answer is late
    clock.shift(dt.timedelta(hours=4, minutes=30))  # 15:30: the first response of 11:00 was due at 15:00
    client = signed_in(app, org, "pat")
    html = client.get("/queue").get_data(as_text=True)
    assert row_ids(html) == [waiting, answered]  # by resolution due alone it would be the other way round
    assert row_ids(client.get("/queue?sort=due&status=all").get_data(as_text=True)) == [waiting, answered]
    assert '<span class="count count-overdue">1 overdue</span>' in html
    assert '2 requests · Open work. <strong class="due-overdue">' in html
    assert "1 overdue</strong>, listed first." in html
    late_row = html[html.index(f'<a href="/requests/{waiting}">') : html.index(f'<a href="/requests/{answered}">')]
    assert "Overdue by 30 min</strong>" in late_row
    assert (
        "overdue"
        not in client.get("/queue?status=resolved")
        .get_data(as_text=True)
        .split("<h1>")[1]
        .split("Requests by status")[0]
    )


def test_incidents_are_marked_and_filtered(app: Flask, org: Org) -> None:
    alone = file_ticket(app, org, "cy", "other")
    burst = [file_ticket(app, org, name, "login") for name in ("ana", "ben", "dee")]
    with app.app_context():
        incident = db.session.get(Ticket, burst[0]).incident_id  # type: ignore[union-attr]
    assert incident is not None
    client = signed_in(app, org, "pat")
    html = client.get("/queue?sort=created").get_data(as_text=True)
    assert html.count(f"Incident #{incident}</a>") == 3 and set(row_ids(html)) == {alone, *burst}
    assert sorted(row_ids(client.get(f"/queue?incident={incident}").get_data(as_text=True))) == burst


def test_pages_of_25(app: Flask, org: Org) -> None:
    filed = [file_ticket(app, org, "ana", "other") for _ in range(27)]
    client = signed_in(app, org, "pat")
    first = client.get("/queue?sort=created").get_data(as_text=True)
    assert row_ids(first) == filed[::-1][:25] and "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/queue?sort=created&page=2").get_data(as_text=True)
    assert row_ids(second) == filed[1::-1] and "Page 2 of 2" in second
    beyond = client.get("/queue?sort=created&page=9").get_data(as_text=True)
    assert row_ids(beyond) == [] and "go to the first page" in beyond


def test_the_page_query_count_does_not_grow_with_the_rows(app: Flask, org: Org) -> None:
    client = signed_in(app, org, "noor")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def measure() -> int:
        statements.clear()
        engine = app.extensions["helpdesk.db"][0]
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/queue?tier=all").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    file_ticket(app, org, "ana", "other")
    measure()  # the first request of a client may warm caches
    few = measure()
    for name in ("ben", "hal", "olga", "nina", "dee", "cy"):  # other reporters, agencies and states
        file_ticket(app, org, name, "access")
    assert measure() == few


@pytest.mark.parametrize(
    ("who", "links"),
    [
        ("ana", ["My requests"]),
        ("pat", ["My requests", "Queue"]),
        ("sam", ["My requests", "Queue", "Manage case load"]),
        ("robin", ["My requests", "Queue", "Manage case load", "Routing preview"]),
        ("noor", ["My requests", "Queue", "Manage case load", "Routing preview"]),
        ("tess", ["My requests", "Queue"]),  # read-only, to follow the state's workload
    ],
)
def test_the_navigation_offers_each_role_its_pages(app: Flask, org: Org, who: str, links: list[str]) -> None:
    with app.test_request_context("/queue"):
        login_user(org[who])
        html = render_template("tickets/_nav.html")
    assert re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>', html) == links
    assert 'href="/queue" aria-current="page"' in html or "Queue" not in links
