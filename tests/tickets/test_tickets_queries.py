"""Reading tickets: each role's queue with filters, sort, counts and pages; my requests; what the API may show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import time_machine
from sqlalchemy import event
from sqlalchemy.orm import Session

from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.queries import (
    QueueFilter,
    get_visible_ticket,
    list_my_requests,
    list_queue,
    list_visible_tickets,
    queue_counts,
)
from helpdesk.tickets.submit import Submission
from helpdesk.tickets.workflow import reply_ticket, resolve_ticket
from tests.tickets.conftest import ORIGIN, Org

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


@pytest.fixture
def tickets(
    session: Session, org: Org, triage: Triage, submit: Callable[..., Submission], clock: time_machine.Traveller
) -> dict[str, Ticket]:
    """Requests of every kind, filed an hour apart (so their due times differ)."""
    filed = {}
    for key, reporter, category in [
        ("travis_old", "ana", "other"),
        ("travis_new", "ben", "slow"),
        ("travis_access", "ana", "access"),
        ("hays", "hal", "login"),
        ("tulsa", "olga", "other"),
        ("national", "noor", "access"),
        ("travis_done", "dee", "other"),
    ]:
        filed[key] = submit(org[reporter], category).ticket
        clock.shift(dt.timedelta(hours=1))
    done = filed["travis_done"]
    resolve_ticket(session, triage, done, actor=org["pat"], resolution="Done.", expected_version=1, origin=ORIGIN)
    reply_ticket(
        session,
        triage,
        filed["travis_new"],
        actor=org["pat"],
        body="Waiting for you.",
        status="pending",
        expected_version=1,
        origin=ORIGIN,
    )
    session.flush()
    return filed


def _ids(items: list[Ticket]) -> list[int]:
    return [ticket.id for ticket in items]


def test_local_it_sees_the_agency_tier_one_queue_most_urgent_first(
    session: Session, org: Org, tickets: dict[str, Ticket]
) -> None:
    page = list_queue(session, org["pat"])
    assert _ids(page.items) == [tickets["travis_old"].id, tickets["travis_new"].id] and page.total == 2
    assert page.items[0].resolution_due is not None and page.items[1].resolution_due is not None
    assert page.items[0].resolution_due < page.items[1].resolution_due
    counts = queue_counts(session, org["pat"])
    assert counts == {"new": 1, "open": 0, "pending": 1, "resolved": 1, "closed": 0}
    assert list_queue(session, org["pat"], counts=counts).total == 2  # the total from the counts, not recounted
    assert _ids(list_queue(session, org["pat"], QueueFilter(statuses=("pending",))).items) == [tickets["travis_new"].id]
    assert _ids(list_queue(session, org["pat"], QueueFilter(category="other")).items) == [tickets["travis_old"].id]
    assert list_queue(session, org["pat"], QueueFilter(assignee_id=org.users["lee"])).total == 0
    assert list_queue(session, org["pat"], QueueFilter(unassigned=True)).total == 2
    assert _ids(list_queue(session, org["otto"]).items) == [tickets["tulsa"].id]
    with pytest.raises(TicketError):
        list_queue(session, org["pat"], QueueFilter(tier="compact_office"))


def test_queue_pages(session: Session, org: Org, tickets: dict[str, Ticket]) -> None:
    first = list_queue(session, org["pat"], per_page=1)
    second = list_queue(session, org["pat"], page=2, per_page=1)
    assert (first.total, first.pages) == (2, 2) and _ids(first.items + second.items) == [
        tickets["travis_old"].id,
        tickets["travis_new"].id,
    ]
    assert list_queue(session, org["pat"], page=3, per_page=1).items == []


def test_the_compact_office_sees_its_state_tier_two_and_can_look_at_tier_one(
    session: Session, org: Org, tickets: dict[str, Ticket]
) -> None:
    assert set(_ids(list_queue(session, org["robin"]).items)) == {tickets["travis_access"].id, tickets["hays"].id}
    tier_one = list_queue(session, org["robin"], QueueFilter(tier="local_it"))
    assert set(_ids(tier_one.items)) == {tickets["travis_old"].id, tickets["travis_new"].id}
    assert list_queue(session, org["oscar"]).total == 0  # Oklahoma's office sees nothing of Texas
    with pytest.raises(PermissionError):
        list_queue(session, org["robin"], QueueFilter(everything=True))


def test_national_staff_see_tier_three_and_everything_with_the_filter(
    session: Session, org: Org, tickets: dict[str, Ticket]
) -> None:
    assert _ids(list_queue(session, org["noor"]).items) == [tickets["national"].id]
    everything = list_queue(session, org["noor"], QueueFilter(everything=True, statuses=("new", "pending")))
    assert everything.total == 6
    assert queue_counts(session, org["noor"], QueueFilter(everything=True))["resolved"] == 1


@pytest.mark.parametrize("role", ["ana", "cy"])
def test_roles_without_a_queue(session: Session, org: Org, tickets: dict[str, Ticket], role: str) -> None:
    with pytest.raises(PermissionError):
        list_queue(session, org[role])


def test_a_supervisor_sees_the_agency_tickets(session: Session, org: Org, tickets: dict[str, Ticket]) -> None:
    page = list_queue(session, org["sam"], QueueFilter(statuses=("new", "open", "pending", "resolved")))
    assert set(_ids(page.items)) == {
        tickets[k].id for k in ("travis_old", "travis_new", "travis_access", "travis_done")
    }


def test_my_requests_are_only_mine_newest_first(session: Session, org: Org, tickets: dict[str, Ticket]) -> None:
    mine = list_my_requests(session, org["ana"])
    assert _ids(mine.items) == [tickets["travis_access"].id, tickets["travis_old"].id]
    assert list_my_requests(session, org["dee"], statuses=("resolved",)).total == 1


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [
        ("ana", {"travis_old", "travis_access"}),
        ("pat", {"travis_old", "travis_new", "travis_access", "travis_done"}),
        ("robin", {"travis_old", "travis_new", "travis_access", "travis_done", "hays"}),
        ("oscar", {"tulsa"}),
        ("otto", {"tulsa"}),
        ("noor", {"travis_old", "travis_new", "travis_access", "travis_done", "hays", "tulsa", "national"}),
        ("tess", set()),
    ],
)
def test_the_api_shows_only_what_the_user_may_see(
    session: Session, org: Org, tickets: dict[str, Ticket], viewer: str, visible: set[str]
) -> None:
    page = list_visible_tickets(session, org[viewer], per_page=100)
    assert set(_ids(page.items)) == {tickets[key].id for key in visible}
    for key, ticket in tickets.items():
        assert (get_visible_ticket(session, org[viewer], ticket.id) is not None) == (key in visible)


def test_a_queue_page_takes_two_queries(session: Session, org: Org, tickets: dict[str, Ticket]) -> None:
    pat = org["pat"]
    with _count_queries(session) as statements:
        page = list_queue(session, pat)
        names = [(t.reporter.name, t.agency.name, t.assignee) for t in page.items]
    assert len(names) == 2 and len(statements) == 2, statements


@contextmanager
def _count_queries(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("sort", ["updated", "response"])
def test_the_everything_queue_by_last_change_or_response_reads_its_index_in_order(
    session: Session, org: Org, tickets: dict[str, Ticket], sort: str
) -> None:
    open_tickets = [t for t in tickets.values() if t.status in ("new", "open", "pending")]
    if sort == "updated":
        expected = sorted(open_tickets, key=lambda t: (t.updated_at, t.id), reverse=True)
    else:
        expected = sorted(open_tickets, key=lambda t: (t.first_responded_at is not None, t.first_response_due, t.id))
    statements: list[tuple[str, object]] = []

    def spy(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
        statements.append((statement, parameters))

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", spy)
    try:
        pages = [
            list_queue(session, org["noor"], QueueFilter(everything=True), sort=sort, page=n, per_page=2)
            for n in (1, 2, 3)
        ]
    finally:
        event.remove(bind, "before_cursor_execute", spy)
    assert [t.id for p in pages for t in p.items] == [t.id for t in expected] and pages[0].total == len(expected)
    if bind.dialect.name == "sqlite":  # the page's ids are read from the partial index in order, without a sort
        statement, parameters = next((s, p) for s, p in statements if "LIMIT" in s)
        plan = " ".join(
            row[3] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
        index = {"updated": "ix_ticket_open_updated", "response": "ix_ticket_open_response"}[sort]
        inner = plan.split("SCAN anon_1")[0]  # the page's ids; the outer query only orders those 2 rows
        assert f"SCAN ticket USING INDEX {index}" in inner and "TEMP B-TREE" not in inner, plan
