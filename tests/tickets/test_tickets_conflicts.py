"""Two people changing one ticket at once: the second gets a clear conflict and the first one's change is kept."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.accounts.models import User
from helpdesk.tickets.assignment import assign_ticket
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketConflict
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.submit import Submission
from helpdesk.tickets.workflow import reply_ticket, resolve_ticket
from tests.tickets.conftest import ORIGIN, Org, events

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def _filed(session: Session, org: Org, submit: Callable[..., Submission]) -> int:
    ticket_id = submit(org["ana"], "other").ticket.id
    session.commit()
    return ticket_id


def test_a_change_based_on_an_old_version_is_refused(
    session: Session, org: Org, triage: Triage, submit: Callable[..., Submission]
) -> None:
    ticket = session.get(Ticket, _filed(session, org, submit))
    assert ticket is not None and ticket.version == 1
    seen = ticket.version  # both Pat and Robin opened the page at version 1
    reply_ticket(session, triage, ticket, actor=org["pat"], body="Pat's answer.", expected_version=seen, origin=ORIGIN)
    with pytest.raises(TicketConflict, match="changed by someone else") as conflict:
        resolve_ticket(
            session,
            triage,
            ticket,
            actor=org["robin"],
            resolution="Robin's answer.",
            expected_version=seen,
            origin=ORIGIN,
        )
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert "Nothing of your change was saved" in str(conflict.value)
    assert ticket.status == "open" and [e.body for e in events(session, ticket, "reply")] == ["Pat's answer."]


def test_two_sessions_load_both_change_the_second_conflicts(
    session: Session, org: Org, triage: Triage, sessions: sessionmaker[Session], submit: Callable[..., Submission]
) -> None:
    ticket_id = _filed(session, org, submit)
    session.close()
    first, second = sessions(), sessions()
    loaded = []
    for each, actor in ((first, "pat"), (second, "lee")):
        with each.begin():  # each request reads in its own transaction (SQLite: one writer at a time)
            loaded.append((each.get(Ticket, ticket_id), each.get(User, org.users[actor])))
    (mine, pat), (theirs, lee) = loaded
    assert mine is not None and theirs is not None and mine.version == theirs.version == 1
    with first.begin():
        assign_ticket(first, triage, mine, actor=pat, assignee=pat, expected_version=1, origin=ORIGIN)  # type: ignore[arg-type]
    with pytest.raises(TicketConflict), second.begin():
        # The stale copy still says version 1: the UPDATE ... WHERE version = 1 matches nothing.
        assign_ticket(second, triage, theirs, actor=lee, assignee=lee, expected_version=1, origin=ORIGIN)  # type: ignore[arg-type]
    first.close()
    second.close()
    with sessions() as fresh:
        kept = fresh.get(Ticket, ticket_id)
        assert kept is not None and kept.assignee_id == org.users["pat"] and kept.version == 2
        assert len(events(fresh, kept, "assigned")) == 1


def test_two_threads_changing_one_ticket_at_once(
    session: Session, org: Org, triage: Triage, sessions: sessionmaker[Session], submit: Callable[..., Submission]
) -> None:
    """Concurrent transactions on PostgreSQL (the row lock of the first UPDATE); serialised on SQLite."""
    ticket_id = _filed(session, org, submit)
    session.close()
    # PostgreSQL: both load inside open transactions, then both write. SQLite: the second BEGIN IMMEDIATE waits
    # for the first to commit, so both start together and the second loads version 2 but saw version 1.
    overlap = sessions().get_bind().dialect.name == "postgresql"
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def run(actor: str) -> None:
        try:
            if not overlap:
                start.wait(10)
            with sessions() as each, each.begin():
                ticket, user = each.get(Ticket, ticket_id), each.get(User, org.users[actor])
                if overlap:
                    start.wait(10)
                reply_ticket(
                    each,
                    triage,
                    ticket,
                    actor=user,
                    body=f"{actor} answers",
                    expected_version=1,  # type: ignore[arg-type]
                    origin=ORIGIN,
                )
            outcomes[actor] = "saved"
        except TicketConflict:
            outcomes[actor] = "conflict"
        except BaseException as exc:  # reported by the main thread
            outcomes[actor] = repr(exc)

    threads = [threading.Thread(target=run, args=(actor,)) for actor in ("pat", "lee")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["conflict", "saved"], outcomes
    saved = next(actor for actor, outcome in outcomes.items() if outcome == "saved")
    with sessions() as fresh:
        kept = fresh.get(Ticket, ticket_id)
        assert kept is not None and kept.version == 2
        assert [e.body for e in events(fresh, kept, "reply")] == [f"{saved} answers"]
