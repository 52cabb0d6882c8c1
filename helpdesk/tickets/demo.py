"""Demo requests for the demo organisation: a few of each kind, so queues and histories have something to show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from helpdesk.accounts.auth import find_user
from helpdesk.accounts.demo import PEOPLE, demo_email
from helpdesk.accounts.models import User
from helpdesk.audit.services import SYSTEM, Origin
from helpdesk.tickets.assignment import assign_ticket
from helpdesk.tickets.context import Triage
from helpdesk.tickets.escalation.escalate import escalate_ticket
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.submit import submit_ticket
from helpdesk.tickets.workflow import reply_ticket, resolve_ticket

#: (key, reporter, category, subject, description, minutes ago); keys make loading idempotent.
REQUESTS: tuple[tuple[str, str, str, str, str, int], ...] = (
    (
        "demo-ticket-1",
        "Maria Alvarez",
        "login",
        "Cannot sign in after changing my password",
        "ICOTS says my password is wrong although I changed it this morning. Caps Lock is off.",
        180,
    ),
    (
        "demo-ticket-2",
        "James Carter",
        "slow",
        "Case pages take a minute to open",
        "Every page of ICOTS takes about a minute to load since this morning.",
        50,
    ),
    (
        "demo-ticket-3",
        "Linda Nguyen",
        "slow",
        "ICOTS very slow at our office",
        "Pages load very slowly; colleagues next to me see the same.",
        40,
    ),
    (
        "demo-ticket-4",
        "Robert Hayes",
        "slow",
        "Slow pages for the whole unit",
        "Several officers in my unit report slow pages this afternoon.",
        30,
    ),
    (
        "demo-ticket-5",
        "Angela Price",
        "login",
        "Locked out of ICOTS",
        "I entered a wrong password several times and now I cannot sign in.",
        120,
    ),
    (
        "demo-ticket-6",
        "David Miller",
        "error",
        "Error when I open a transfer request",
        "Opening a transfer request shows an application error. Restarting the browser did not help.",
        300,
    ),
    (
        "demo-ticket-7",
        "Brian Lewis",
        "access",
        "Account for a new officer",
        "A new officer starts on Monday and needs an ICOTS account.",
        600,
    ),
)

#: Requests held by named people (key -> holder, who takes it), so that "Manage case load" has work to show.
HOLDERS = {
    "demo-ticket-1": "Kevin Brooks",
    "demo-ticket-2": "Kevin Brooks",
    "demo-ticket-5": "Susan Ortiz",
    "demo-ticket-6": "Steven Clark",
}


def _people(session: Session) -> dict[str, User]:
    found: dict[str, User] = {}
    for name, _role, key in PEOPLE:
        user = find_user(session, demo_email(name, key))
        if user is not None:
            found[name] = user
    return found


def load_demo_tickets(session: Session, triage: Triage, *, now: dt.datetime, origin: Origin = SYSTEM) -> int:
    """File the demo requests that are not there yet and work a few of them; return how many were created."""
    people = _people(session)
    follow_ups: dict[str, Callable[[Ticket], object]] = {
        "demo-ticket-6": lambda t: escalate_ticket(
            session,
            triage,
            t,
            actor=people["Rachel Adams"],
            expected_version=t.version,
            origin=origin,
            ruled_out=True,
            checked="Other officers here open transfers fine in Chrome and Edge; cleared cache; no local outage.",
            now=now - dt.timedelta(minutes=200),
        ),
        "demo-ticket-7": lambda t: (
            reply_ticket(
                session,
                triage,
                t,
                actor=people["Steven Clark"],
                expected_version=t.version,
                body="We have created the account; the officer will receive a first-time link.",
                origin=origin,
                now=now - dt.timedelta(minutes=400),
            ),
            resolve_ticket(
                session,
                triage,
                t,
                actor=people["Steven Clark"],
                expected_version=t.version,
                resolution="Account created for the new officer.",
                origin=origin,
                now=now - dt.timedelta(minutes=390),
            ),
        ),
    }
    created = 0
    for key, reporter, category, subject, description, minutes in REQUESTS:
        if reporter not in people:
            continue
        submission = submit_ticket(
            session,
            triage,
            reporter=people[reporter],
            category=category,
            subject=subject,
            description=description,
            idempotency_key=key,
            origin=origin,
            tried="Checked the help center first.",
            affected="me",
            now=now - dt.timedelta(minutes=minutes),
        )
        if submission.created:
            created += 1
            if key in follow_ups:
                follow_ups[key](submission.ticket)
        ticket, holder = submission.ticket, people.get(HOLDERS.get(key, ""))
        if holder is not None and ticket.assignee_id is None:  # once: a later run leaves a moved request alone
            assign_ticket(
                session,
                triage,
                ticket,
                actor=holder,
                assignee=holder,
                expected_version=ticket.version,
                origin=origin,
                now=now - dt.timedelta(minutes=min(minutes, 20)),
            )
    session.flush()
    return created
