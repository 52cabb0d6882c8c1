"""Assignment to named, active people; Manage Case Load; deactivation hands a user's tickets over in one step."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from helpdesk.accounts.services import AccountError, deactivate_user
from helpdesk.accounts.workload import list_open_work
from helpdesk.orm import utcnow
from helpdesk.tickets.assignment import assign_ticket, reassign_tickets
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketConflict, TicketError
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.submit import Submission
from tests.tickets.conftest import ORIGIN, Org, events, mails

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


@pytest.fixture
def travis(org: Org, submit: Callable[..., Submission]) -> list[Ticket]:
    """Three tier-1 requests of Travis County."""
    return [submit(org[name], "other").ticket for name in ("ana", "ben", "dee")]


def _assign(session: Session, triage: Triage, ticket: Ticket, org: Org, actor: str, to: str) -> None:
    assign_ticket(
        session, triage, ticket, actor=org[actor], assignee=org[to], expected_version=ticket.version, origin=ORIGIN
    )


def test_local_it_assigns_to_a_named_colleague(
    session: Session, org: Org, triage: Triage, travis: list[Ticket]
) -> None:
    ticket = travis[0]
    _assign(session, triage, ticket, org, "pat", "lee")
    assert ticket.assignee_id == org.users["lee"] and ticket.version == 2
    [event] = events(session, ticket, "assigned")
    assert event.reason == "assigned to Lee Park (from the queue)" and event.actor_id == org.users["pat"]
    [mail] = mails(session, "ticket_assigned")
    assert mail.recipient == "lee@tx.example.gov" and f"https://help.example.org/requests/{ticket.id}" in mail.body_text
    _assign(session, triage, ticket, org, "pat", "pat")  # taking it yourself: no mail to yourself
    assert ticket.assignee_id == org.users["pat"] and len(mails(session, "ticket_assigned")) == 1
    _assign(session, triage, ticket, org, "pat", "robin")  # the state's compact office may hold a tier-1 ticket
    assert ticket.assignee_id == org.users["robin"]


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("ben", "cannot take request"),  # a PO does not work tickets
        ("otto", "cannot take request"),  # local IT of another agency
        ("oscar", "cannot take request"),  # another state's compact office
        ("noor", "cannot take request"),  # national staff hold tier-3 tickets only
    ],
)
def test_only_someone_who_works_the_tier_can_hold_it(
    session: Session, org: Org, triage: Triage, travis: list[Ticket], to: str, message: str
) -> None:
    with pytest.raises(TicketError, match=message):
        _assign(session, triage, travis[0], org, "pat", to)
    assert travis[0].assignee_id is None and travis[0].version == 1


def test_a_deactivated_user_cannot_be_given_a_ticket(
    session: Session, org: Org, triage: Triage, travis: list[Ticket]
) -> None:
    org["lee"].is_active = False
    with pytest.raises(TicketError, match="deactivated"):
        _assign(session, triage, travis[0], org, "pat", "lee")
    with pytest.raises(PermissionError):
        _assign(session, triage, travis[0], org, "ben", "pat")  # a colleague cannot assign


def test_a_supervisor_moves_several_tickets_at_once(
    session: Session, org: Org, triage: Triage, travis: list[Ticket], submit: Callable[..., Submission]
) -> None:
    for ticket in travis:
        _assign(session, triage, ticket, org, "pat", "pat")
    versions = {ticket.id: ticket.version for ticket in travis}
    moved = reassign_tickets(
        session, triage, versions, actor=org["sam"], to=org["lee"], reason="Pat is on leave", origin=ORIGIN
    )
    assert [t.id for t in moved] == sorted(versions) and {t.assignee_id for t in travis} == {org.users["lee"]}
    assert all(
        events(session, t, "assigned")[-1].reason == "assigned to Lee Park (from Pat Lee): Pat is on leave"
        for t in travis
    )
    [digest] = mails(session, "ticket_assigned")  # one mail for the whole move
    assert digest.recipient == "lee@tx.example.gov" and digest.body_text.count("/requests/") == 3

    hays = submit(org["hal"], "other").ticket  # tier 2 (no local IT): not the Travis supervisor's
    with pytest.raises(PermissionError, match=f"request #{hays.id}"):
        reassign_tickets(
            session,
            triage,
            {travis[0].id: travis[0].version, hays.id: hays.version},
            actor=org["sam"],
            to=org["pat"],
            origin=ORIGIN,
        )
    assert travis[0].assignee_id == org.users["lee"]  # all or nothing
    with pytest.raises(TicketConflict):
        reassign_tickets(session, triage, {travis[0].id: 1}, actor=org["sam"], to=org["pat"], origin=ORIGIN)


def test_the_compact_office_moves_tickets_across_its_state(
    session: Session, org: Org, triage: Triage, travis: list[Ticket], submit: Callable[..., Submission]
) -> None:
    hays = submit(org["hal"], "other").ticket
    with pytest.raises(TicketError, match="cannot take"):  # Hays is tier 2: local IT of Travis cannot hold it
        reassign_tickets(
            session, triage, {travis[0].id: 1, hays.id: 1}, actor=org["robin"], to=org["pat"], origin=ORIGIN
        )
    moved = reassign_tickets(session, triage, {hays.id: 1}, actor=org["robin"], to=org["kim"], origin=ORIGIN)
    assert moved == [hays] and hays.assignee_id == org.users["kim"]
    with pytest.raises(PermissionError):
        reassign_tickets(session, triage, {hays.id: hays.version}, actor=org["oscar"], to=org["oscar"], origin=ORIGIN)
    with pytest.raises(TicketError, match="No request"):
        reassign_tickets(session, triage, {99_999: 1}, actor=org["robin"], to=org["kim"], origin=ORIGIN)


def test_deactivation_hands_the_open_tickets_over(
    session: Session, org: Org, triage: Triage, travis: list[Ticket]
) -> None:
    for ticket in travis[:2]:
        _assign(session, triage, ticket, org, "pat", "pat")
    pat = org["pat"]
    work = list_open_work(session, pat)
    assert [(item.kind, item.url) for item in work] == [("request", f"/requests/{t.id}") for t in travis[:2]]
    with pytest.raises(AccountError, match="still holds open work"):
        deactivate_user(session, pat, actor=org["tess"], origin=ORIGIN, now=utcnow())
    with pytest.raises(AccountError, match="Ana Reyes cannot take request"):
        deactivate_user(session, pat, actor=org["tess"], origin=ORIGIN, now=utcnow(), reassign_to=org["ana"])
    assert pat.is_active and {t.assignee_id for t in travis[:2]} == {org.users["pat"]}
    moved = deactivate_user(session, pat, actor=org["tess"], origin=ORIGIN, now=utcnow(), reassign_to=org["lee"])
    assert moved == 2 and not pat.is_active
    assert {t.assignee_id for t in travis[:2]} == {org.users["lee"]} and travis[2].assignee_id is None
    handed = events(session, travis[0], "assigned")[-1]
    assert handed.reason == "assigned to Lee Park (from Pat Lee): Pat Lee was deactivated"
    assert handed.actor_id == org.users["tess"]
    assert [m.recipient for m in mails(session, "ticket_assigned")] == ["lee@tx.example.gov"]
    assert not list_open_work(session, pat)
