"""Mails about tickets, queued in the outbox of the caller's transaction; links come from the base URL.

Mails carry subjects, names, reasons and links, never the text of a request or reply: that may hold case
data, which stays behind the sign-in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.mail.services import queue_mail
from helpdesk.tickets.agencies import agency_info, tier_staff
from helpdesk.tickets.models import Incident, Ticket
from helpdesk.triage.policy import Tier
from helpdesk.triage.routing import TIER_NAMES, AgencyInfo, Person

#: A mail lists at most this many requests; the rest are counted ("and 480 more"), the queue shows them all.
MAX_LISTED = 20
#: Builds an absolute link from a path (Triage.link): mails never use the request's Host.
LinkBuilder = Callable[[str], str]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class Listed(Protocol):
    """What a mail listing several tickets shows of each (a Ticket, or a sweep's lighter copy)."""

    @property
    def id(self) -> int: ...

    @property
    def subject(self) -> str: ...

    @property
    def agency(self) -> _Named: ...


def ticket_path(ticket_id: int) -> str:
    """Return the path of a request's page."""
    return f"/requests/{ticket_id}"


def responders(info: AgencyInfo, tier: Tier, assignee: Person | None = None, *, mailbox: bool = False) -> list[str]:
    """Return who works the ticket: its named assignee, else the tier's queue; plus local IT's mailbox if asked."""
    people = (assignee,) if assignee is not None else tier_staff(info, tier)
    addresses = [person.email for person in people]
    if mailbox and tier is Tier.LOCAL_IT and info.it_mailbox:
        addresses.append(info.it_mailbox)
    return _unique(addresses)


def ticket_responders(session: Session, ticket: Ticket) -> list[str]:
    """Return who works an existing ticket: its active assignee, else its tier's queue."""
    if ticket.assignee is not None and ticket.assignee.is_active:
        return [ticket.assignee.email]
    return responders(agency_info(session, ticket.agency), Tier(ticket.tier))


def _unique(addresses: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for address in addresses:
        seen.setdefault(address.lower(), None)
    return list(seen)


def _send(session: Session, recipients: Iterable[str], kind: str, **context: object) -> int:
    addresses = _unique(recipients)
    for address in addresses:
        queue_mail(session, to=address, kind=kind, **context)
    return len(addresses)


def _tier_name(tier: str) -> str:
    return TIER_NAMES[Tier(tier)]


def notify_new_ticket(session: Session, link: LinkBuilder, ticket: Ticket, recipients: Iterable[str]) -> int:
    """Tell the ticket's responders about a new request; return how many mails were queued."""
    return _send(
        session,
        recipients,
        "ticket_new",
        ticket=ticket,
        tier=_tier_name(ticket.tier),
        link=link(ticket_path(ticket.id)),
    )


def notify_received(session: Session, link: LinkBuilder, ticket: Ticket, notice: str | None) -> int:
    """Confirm a request to its reporter, with where it went and the incident notice if any."""
    return _send(
        session,
        [ticket.reporter.email],
        "ticket_received",
        ticket=ticket,
        tier=_tier_name(ticket.tier),
        notice=notice,
        link=link(ticket_path(ticket.id)),
    )


def notify_incident(
    session: Session,
    link: LinkBuilder,
    incident: Incident,
    tickets: Sequence[Ticket],
    recipients: Iterable[str],
    queue: str,
) -> int:
    """Tell a queue once about an incident: several reports of one problem, with a link to each."""
    reports = [(ticket, link(ticket_path(ticket.id))) for ticket in tickets]
    return _send(
        session,
        recipients,
        "ticket_incident",
        incident=incident,
        reports=reports,
        queue=queue,
        system=incident.scope == "system",
    )


def notify_assigned(
    session: Session,
    link: LinkBuilder,
    tickets: Sequence[Ticket],
    assignee: User,
    actor: User | None,
    reason: str | None = None,
) -> int:
    """Tell a person that one or several requests are now theirs (one mail for a whole case-load move)."""
    if not tickets or (actor is not None and actor.id == assignee.id):
        return 0
    items = [(ticket, link(ticket_path(ticket.id))) for ticket in tickets]
    return _send(
        session,
        [assignee.email],
        "ticket_assigned",
        assignee=assignee,
        items=items,
        actor_name=actor.name if actor else "The help desk",
        reason=reason,
    )


def notify_reply(
    session: Session, link: LinkBuilder, ticket: Ticket, author: User, recipients: Iterable[str], *, to_reporter: bool
) -> int:
    """Announce a public reply to the reporter, or a reporter's answer to the people who work the ticket."""
    return _send(
        session,
        recipients,
        "ticket_reply",
        ticket=ticket,
        author=author,
        to_reporter=to_reporter,
        link=link(ticket_path(ticket.id)),
    )


def notify_escalated(
    session: Session,
    link: LinkBuilder,
    tickets: Sequence[Listed],
    recipients: Iterable[str],
    queue: str,
    reasons: dict[int, str],
    *,
    total: int | None = None,
) -> int:
    """Tell the next tier that requests reached it (one mail per queue, also for a sweep).

    :param total: how many requests moved, when `tickets` lists only some of them.
    """
    if not tickets:
        return 0
    items = [(ticket, link(ticket_path(ticket.id)), reasons.get(ticket.id, "")) for ticket in tickets[:MAX_LISTED]]
    return _send(session, recipients, "ticket_escalated", items=items, queue=queue, total=max(total or 0, len(tickets)))


def notify_moved(session: Session, link: LinkBuilder, ticket: Ticket, queue: str) -> int:
    """Tell the reporter that their request went to another team."""
    return _send(
        session, [ticket.reporter.email], "ticket_moved", ticket=ticket, queue=queue, link=link(ticket_path(ticket.id))
    )


def notify_resolved(session: Session, link: LinkBuilder, ticket: Ticket, actor: User, close_days: int) -> int:
    """Tell the reporter that their request was resolved and when it closes unless they answer."""
    return _send(
        session,
        [ticket.reporter.email],
        "ticket_resolved",
        ticket=ticket,
        actor=actor,
        close_days=close_days,
        link=link(ticket_path(ticket.id)),
    )


def notify_reopened(session: Session, link: LinkBuilder, ticket: Ticket, recipients: Iterable[str], actor: User) -> int:
    """Tell the reporter and the people who work the ticket that it was reopened."""
    return _send(session, recipients, "ticket_reopened", ticket=ticket, actor=actor, link=link(ticket_path(ticket.id)))


def notify_reopen_requested(session: Session, link: LinkBuilder, ticket: Ticket, recipients: Iterable[str]) -> int:
    """Tell the compact office that a reporter asks for a closed request to be reopened."""
    return _send(session, recipients, "ticket_reopen_requested", ticket=ticket, link=link(ticket_path(ticket.id)))
