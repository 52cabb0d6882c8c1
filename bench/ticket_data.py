"""The data of bench/tickets.py: an organisation of 20 states x 10 agencies, and 100,000 overdue tickets in bulk."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.accounts.models import Agency, State, User
from helpdesk.tickets.models import Ticket

#: Wednesday 11 March 2026, 12:00 in Chicago: the bench's "now" for due times and the sweep.
NOW = dt.datetime(2026, 3, 11, 17, 0, tzinfo=dt.UTC)
STATES, AGENCIES_PER_STATE = 20, 10
DESCRIPTION = (
    "When I open the transfer request the page shows an application error and I cannot continue. "
    "It started this morning; colleagues at my desk row see the same message."
)


def build_org(session: Session) -> dict[str, Any]:
    """Create 20 states x 10 agencies with two local IT users and a reporter each, two compact office staff per
    state and one national admin; return their ids."""
    states = list(session.scalars(select(State.code).order_by(State.code).limit(STATES)))
    org: dict[str, Any] = {"agencies": [], "reporters": [], "local_it": {}, "compact": {}}
    serial = iter(range(1, 1_000_000))
    for state in states:
        office = session.scalars(
            select(Agency).where(Agency.state_code == state, Agency.kind == "compact_office")
        ).one()
        for _ in range(2):
            n = next(serial)
            user = User(
                email=f"co{n}@{state.lower()}.bench.gov",
                name=f"Compact {n}",
                role="compact_office",
                agency_id=office.id,
                state_code=state,
            )
            session.add(user)
            session.flush()
            org["compact"].setdefault(state, []).append(user.id)
        for index in range(AGENCIES_PER_STATE):
            agency = Agency(
                state_code=state,
                name=f"{state} County {index}",
                kind="local",
                time_zone="America/Chicago",
                it_mailbox=f"it{index}@{state.lower()}.bench.gov",
            )
            session.add(agency)
            session.flush()
            org["agencies"].append((agency.id, state))
            for role in ("local_it", "local_it", "po"):
                n = next(serial)
                user = User(
                    email=f"u{n}@{state.lower()}.bench.gov",
                    name=f"User {n}",
                    role=role,
                    agency_id=agency.id,
                    state_code=state,
                )
                session.add(user)
                session.flush()
                if role == "po":
                    org["reporters"].append(user.id)
                else:
                    org["local_it"].setdefault(agency.id, []).append(user.id)
    national = session.scalars(select(Agency).where(Agency.kind == "national")).one()
    session.add(User(email="national@bench.gov", name="National", role="national_admin", agency_id=national.id))
    session.commit()
    return org


def ticket_row(org: dict[str, Any], number: int, reporter_id: int, created: dt.datetime) -> dict[str, Any]:
    agency_id, state = org["agencies"][number % len(org["agencies"])]
    answered = number % 2 == 1
    return {
        "reporter_id": reporter_id,
        "agency_id": agency_id,
        "state_code": state,
        "category": "other",
        "subject": f"ICOTS page error {number}",
        "description": DESCRIPTION,
        "tried": "Restarted the browser.",
        "affected": "me",
        "status": "open" if answered else "new",
        "tier": "local_it",
        "route_reason": f"routed to Local IT of {state} County {number % AGENCIES_PER_STATE}: category other "
        "(Something else) starts at tier 1",
        "suggestions_shown": "",
        "idempotency_key": f"bulk-{number}-{secrets.token_hex(4)}",
        "created_at": created,
        "updated_at": created,
        "first_response_due": created + dt.timedelta(hours=4),
        "resolution_due": created + dt.timedelta(days=2),
        "first_responded_at": created + dt.timedelta(hours=1) if answered else None,
        "version": 1,
    }


def bulk_insert(sessions: sessionmaker[Session], org: dict[str, Any], count: int) -> float:
    """Insert `count` open tier-1 tickets filed 3 to 10 days before NOW (all overdue); return seconds."""
    rng = random.Random(20261122)
    reporters = org["reporters"]
    started = time.perf_counter()
    for offset in range(0, count, 10_000):
        rows = [
            ticket_row(
                org, n, reporters[n % len(reporters)], NOW - dt.timedelta(minutes=rng.randint(3 * 1440, 10 * 1440))
            )
            for n in range(offset, min(count, offset + 10_000))
        ]
        with sessions() as session, session.begin():
            session.execute(insert(Ticket), rows)
    with sessions() as session, session.begin():
        session.execute(text("ANALYZE"))
    return time.perf_counter() - started
