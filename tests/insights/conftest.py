"""Known data for the insight reports: two states' people, their searches, votes, deflections and requests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.accounts.models import Agency, User
from helpdesk.extensions import db
from helpdesk.kb.models import Vote
from helpdesk.search.learning import person_of
from helpdesk.search.models import SearchClick, SearchQuery
from helpdesk.tickets.models import Deflection, Ticket, TicketEvent
from tests.factories import make_user, sign_in

#: Tuesday 10 March 2026, 10:00 in Texas (CDT, UTC-5): business hours (08:00-17:00) in the agency's zone.
T0 = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}
ARTICLE = "errors-and-technical-support"
QUESTION = f"{ARTICLE}#what-do-i-do-when-the-page-is-loading-slowly"
H = dt.timedelta(hours=1)
FAR = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


@dataclass(slots=True)
class Org:
    """User ids by first name, and the clients signed in so far (a second factor code works only once)."""

    users: dict[str, int]
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def user(self, app: Flask, name: str) -> User:
        """Return a detached copy of a user (for sign_in)."""
        with app.app_context():
            found = db.session.get(User, self.users[name])
            assert found is not None
            db.session.expunge(found)
        return found

    def client(self, app: Flask, name: str) -> FlaskClient:
        """Return a client signed in as `name` through the real forms (second factor included)."""
        if name in self.clients:
            return self.clients[name]
        client = self.clients[name] = app.test_client()
        response = sign_in(client, self.user(app, name))
        assert response.status_code == 303 and "/login" not in response.headers["Location"], response.data[:300]
        return client


PEOPLE = {
    "noor": ("national_admin", None, None),
    "robin": ("compact_office", "TX", None),
    "tess": ("state_admin", "TX", "Travis County Probation"),
    "sam": ("po_supervisor", "TX", "Travis County Probation"),
    "pat": ("local_it", "TX", "Travis County Probation"),
    "hope": ("po_supervisor", "TX", "Hays County Probation"),
    "ana": ("po", "TX", "Travis County Probation"),
    "ben": ("po", "TX", "Travis County Probation"),
    "oscar": ("compact_office", "OK", None),
    "olga": ("po", "OK", "Tulsa County Community Corrections"),
    "eve": ("kb_editor", None, None),
    "ed": ("kb_editor", "TX", None),
}


def _search(user_id: int | None, query: str, hits: int, at: dt.datetime, *, clicked: str | None = None) -> None:
    person = person_of(f"u:{user_id}") if user_id else person_of("a:198.51.100.9")
    row = SearchQuery(query=query, hits=hits, source="page", person=person, created_at=at)
    db.session.add(row)
    db.session.flush()
    if clicked:
        slug, _, question = clicked.partition("#")
        db.session.add(
            SearchClick(
                search_id=row.id,
                article_slug=slug,
                question_id=question or None,
                rank=1,
                created_at=at + dt.timedelta(seconds=5),
            )
        )


def _ticket(
    n: int,
    reporter: int,
    agency: Agency,
    tier: str,
    *,
    fr_due: dt.datetime,
    res_due: dt.datetime,
    responded: dt.datetime | None = None,
    resolved: dt.datetime | None = None,
    status: str = "open",
    suggestions: str = "",
) -> Ticket:
    ticket = Ticket(
        reporter_id=reporter,
        agency_id=agency.id,
        state_code=agency.state_code,
        category="slow",
        subject=f"Slow #{n}",
        description="It is slow",
        tier=tier,
        route_reason="test",
        idempotency_key=f"key-{n}-{reporter}",
        created_at=T0,
        updated_at=T0,
        status=status,
        first_response_due=fr_due,
        resolution_due=res_due,
        first_responded_at=responded,
        resolved_at=resolved,
        suggestions_shown=suggestions,
    )
    db.session.add(ticket)
    db.session.flush()
    return ticket


@pytest.fixture
def org(app: Flask) -> Org:
    """The people, and in March 2026 their searches, votes, deflections and requests (see each comment)."""
    ids = {
        name: make_user(app, role=role, state=state, agency=agency, name=name.title()).id
        for name, (role, state, agency) in PEOPLE.items()
    }
    with app.app_context():
        for agency in db.session.scalars(select(Agency)):
            agency.time_zone = "America/Chicago"
        travis = db.session.scalars(select(Agency).where(Agency.name == "Travis County Probation")).one()
        tulsa = db.session.scalars(select(Agency).where(Agency.name == "Tulsa County Community Corrections")).one()
        # Zero results: "password reset fax" and its typo twice by Ana, once by Ben (TX), once by Olga (OK),
        # and once signed out; "zorblax quuxer" once by Ana.
        _search(ids["ana"], "pasword reset fax", 0, T0)
        _search(ids["ana"], "pasword reset fax", 0, T0 + H)
        _search(ids["ben"], "password reset fax", 0, T0 + 2 * H)
        _search(ids["olga"], "password reset fax", 0, T0 + 3 * H)
        _search(None, "password reset fax", 0, T0 + 4 * H)
        _search(ids["ana"], "zorblax quuxer", 0, T0)
        # Results nobody opened: Ana's "slow screens"; Ben's opened one does not count.
        _search(ids["ana"], "slow screens", 4, T0)
        _search(ids["ben"], "slow screens", 4, T0, clicked=QUESTION)
        # Outside the period: never counted.
        _search(ids["ana"], "old failure", 0, T0 - dt.timedelta(days=30))
        db.session.add_all(
            [
                Vote(
                    article_slug=ARTICLE,
                    voter_key=f"u:{ids['ana']}",
                    helpful=False,
                    reason="no fax steps",
                    created_at=T0,
                    updated_at=T0,
                ),
                Vote(
                    article_slug=ARTICLE,
                    voter_key=f"u:{ids['olga']}",
                    helpful=False,
                    reason="outdated",
                    created_at=T0 + H,
                    updated_at=T0 + H,
                ),
                Vote(article_slug=ARTICLE, voter_key=f"u:{ids['ben']}", helpful=True, created_at=T0, updated_at=T0),
                Deflection(
                    user_id=ids["ana"],
                    category="slow",
                    article_slug=ARTICLE,
                    question_id=QUESTION.split("#")[1],
                    query="slow screens",
                    created_at=T0,
                ),
                Deflection(user_id=ids["olga"], category="login", created_at=T0),
            ]
        )
        # TX requests, all opened at T0 (business hours): the SLA figures the tests compute by hand.
        _ticket(
            1,
            ids["ana"],
            travis,
            "local_it",
            fr_due=T0 + 4 * H,
            res_due=T0 + 48 * H,
            responded=T0 + H,
            resolved=T0 + 24 * H,
            status="resolved",
            suggestions=QUESTION,
        )  # both met
        _ticket(
            2, ids["ana"], travis, "local_it", fr_due=T0 + 4 * H, res_due=T0 + 48 * H, responded=T0 + 5 * H
        )  # first response late; resolution overdue
        _ticket(3, ids["ben"], travis, "local_it", fr_due=T0 + 4 * H, res_due=T0 + 48 * H)  # both overdue
        _ticket(4, ids["ben"], travis, "local_it", fr_due=FAR, res_due=FAR)  # not due yet: not counted
        t5 = _ticket(
            5,
            ids["ben"],
            travis,
            "compact_office",
            fr_due=T0 + 8 * H,
            res_due=T0 + 40 * H,
            responded=T0 + 2 * H,
            resolved=T0 + 100 * H,
            status="resolved",
        )  # response met, resolution late
        t6 = _ticket(
            6, ids["olga"], tulsa, "local_it", fr_due=T0 + 4 * H, res_due=T0 + 48 * H, responded=T0 + H
        )  # OK: only national sees it
        db.session.add_all(
            [
                TicketEvent(ticket_id=t5.id, kind="escalated", created_at=T0 + H, reason="test"),
                TicketEvent(ticket_id=t6.id, kind="reopened", created_at=T0 + H, reason="test"),
            ]
        )
        db.session.commit()
    return Org(ids)
