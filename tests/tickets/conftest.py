"""Fixtures of the ticket service tests: an organisation in three states, a session, a stopped clock, helpers."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.accounts.models import Agency, User
from helpdesk.audit.services import Origin
from helpdesk.extensions import db
from helpdesk.mail.models import OutboxMessage
from helpdesk.tickets.context import EXTENSION_KEY, Triage
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.submit import Submission, submit_ticket
from tests import factories

ORIGIN = Origin(ip="203.0.113.7", user_agent="pytest")
TRAVIS, HAYS, TULSA, BERNALILLO = (
    "Travis County Probation",
    "Hays County Probation",
    "Tulsa County Community Corrections",
    "Bernalillo County Probation",
)
#: Tuesday 10 March 2026, 10:00 in Texas (CDT, UTC-5): business hours everywhere in the US.
TUESDAY_10AM_CHICAGO = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
#: name -> (role, state, agency, full name)
PEOPLE = {
    "pat": ("local_it", "TX", TRAVIS, "Pat Lee"),
    "lee": ("local_it", "TX", TRAVIS, "Lee Park"),
    "ana": ("po", "TX", TRAVIS, "Ana Reyes"),
    "ben": ("po", "TX", TRAVIS, "Ben Cole"),
    "cy": ("po_support", "TX", TRAVIS, "Cy Moss"),
    "dee": ("po", "TX", TRAVIS, "Dee Hart"),
    "sam": ("po_supervisor", "TX", TRAVIS, "Sam Ortiz"),
    "hal": ("po", "TX", HAYS, "Hal Ruiz"),
    "hope": ("po_supervisor", "TX", HAYS, "Hope Lane"),
    "robin": ("compact_office", "TX", None, "Robin Diaz"),
    "kim": ("compact_office", "TX", None, "Kim Vo"),
    "tess": ("state_admin", "TX", TRAVIS, "Tess Ward"),
    "olga": ("po", "OK", TULSA, "Olga Birch"),
    "otto": ("local_it", "OK", TULSA, "Otto Fern"),
    "oscar": ("compact_office", "OK", None, "Oscar Lind"),
    "nina": ("po", "NM", BERNALILLO, "Nina Shah"),
    "noor": ("national_admin", None, None, "Noor Haddad"),
}
TRAVIS_MAILBOX = "it-team@travis.example.gov"


@dataclass(frozen=True, slots=True)
class Org:
    """The test organisation: user ids by first name, agency ids by name."""

    users: dict[str, int]
    agencies: dict[str, int]

    def __getitem__(self, name: str) -> User:
        user = db.session.get(User, self.users[name])
        assert user is not None
        return user

    def agency(self, name: str) -> Agency:
        agency = db.session.get(Agency, self.agencies[name])
        assert agency is not None
        return agency


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """A stopped clock on a Tuesday morning in Texas; tests move it with `shift` / `move_to`."""
    with time_machine.travel(TUESDAY_10AM_CHICAGO, tick=False) as traveller:
        yield traveller


@pytest.fixture
def org(app: Flask, clock: time_machine.Traveller) -> Org:
    """TX (Travis with local IT and an IT mailbox; Hays without), OK (Tulsa with local IT), NM, national."""
    users = {}
    for key, (role, state, agency, name) in PEOPLE.items():
        users[key] = factories.make_user(
            app, role=role, state=state, agency=agency, name=name, email=f"{key}@{(state or 'us').lower()}.example.gov"
        ).id
    with app.app_context():
        agencies = {agency.name: agency.id for agency in db.session.scalars(select(Agency))}
        travis = db.session.get(Agency, agencies[TRAVIS])
        assert travis is not None
        travis.it_mailbox, travis.time_zone = TRAVIS_MAILBOX, "America/Chicago"
        for name in (HAYS,):
            db.session.get(Agency, agencies[name]).time_zone = "America/Chicago"  # type: ignore[union-attr]
        db.session.commit()
    return Org(users, agencies)


@pytest.fixture
def login(app: Flask, org: Org) -> Callable[[str], FlaskClient]:
    """Return a new client signed in (through the real forms) as one of the organisation's people, by first name."""

    def sign_in(name: str) -> FlaskClient:
        with app.app_context():
            user = org[name]
            db.session.expunge(user)
        return factories.signed_in_client(app, user)

    return sign_in


@pytest.fixture
def session(app: Flask, org: Org) -> Iterator[Session]:
    """The app context's session (services flush; the test commits when another session must see the work)."""
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def sessions(app: Flask) -> sessionmaker[Session]:
    """A session factory on the app's database (sweeps, threads)."""
    with app.app_context():
        return sessionmaker(db.engine, expire_on_commit=False)


@pytest.fixture
def triage(app: Flask) -> Triage:
    """The app's triage policy and link base."""
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


@pytest.fixture
def submit(session: Session, triage: Triage) -> Callable[..., Submission]:
    """File a request as `reporter` with sensible defaults (any field overridable)."""

    def file(reporter: User, category: str = "login", **fields: Any) -> Submission:
        values: dict[str, Any] = {
            "subject": f"Cannot use ICOTS ({category})",
            "description": "It fails.",
            "idempotency_key": secrets.token_hex(16),
            "origin": ORIGIN,
            **fields,
        }
        return submit_ticket(session, triage, reporter=reporter, category=category, **values)

    return file


def mails(session: Session, kind: str | None = None) -> list[OutboxMessage]:
    """Return the queued mails (of one kind), oldest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query))


def events(session: Session, ticket: Ticket, kind: str | None = None) -> list[TicketEvent]:
    """Return a ticket's events (of one kind), oldest first."""
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    if kind:
        query = query.where(TicketEvent.kind == kind)
    return list(session.scalars(query))


def file_report(
    sessions: sessionmaker[Session],
    triage: Triage,
    org: Org,
    name: str,
    category: str = "login",
    *,
    key: str | None = None,
) -> Submission:
    """File one report as `name` in a transaction of its own (committed); return the submission."""
    with sessions() as session, session.begin():
        reporter = session.get(User, org.users[name])
        assert reporter is not None
        return submit_ticket(
            session,
            triage,
            reporter=reporter,
            category=category,
            subject="Login fails",
            description="It fails.",
            idempotency_key=key or secrets.token_hex(16),
            origin=ORIGIN,
        )


def submit_together(
    sessions: sessionmaker[Session], triage: Triage, org: Org, reports: list[tuple[str, str]]
) -> list[tuple[bool, int]]:
    """File one "login" report per (person, idempotency key), each in its own thread and transaction, all released
    at once; return (created, ticket id) of each, in the order they finished."""
    start = threading.Barrier(len(reports))
    results: list[tuple[bool, int]] = []
    errors: list[BaseException] = []

    def report(name: str, key: str) -> None:
        try:
            start.wait()
            result = file_report(sessions, triage, org, name, key=key)
            results.append((result.created, result.ticket.id))
        except BaseException as exc:  # reported by the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=report, args=pair) for pair in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results
