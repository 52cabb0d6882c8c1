"""Every ticket change leaves a TicketEvent and an audit row; changes based on an old version are refused."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.accounts.models import User
from helpdesk.audit.services import SYSTEM_ACTOR, Origin, record_event
from helpdesk.tickets.errors import TicketConflict
from helpdesk.tickets.models import Ticket, TicketEvent

logger = logging.getLogger("helpdesk.tickets")
#: ticket_event.reason and audit_event.detail are String(1000).
MAX_REASON = 1000


def check_version(ticket: Ticket, expected_version: int) -> None:
    """Raise TicketConflict unless the ticket is still at the version the actor saw."""
    if ticket.version != expected_version:
        raise TicketConflict(ticket.id, expected_version, ticket.version)


def flush_changes(session: Session, ticket: Ticket) -> None:
    """Flush; a concurrent change that slipped in since loading (version column mismatch) becomes a conflict."""
    ticket_id = ticket.id  # read before: a failed flush rolls back and expires the ticket
    try:
        session.flush()
    except StaleDataError:
        raise TicketConflict(ticket_id) from None


def actor_email(actor: User | None) -> str:
    """Return how the audit trail names the actor (None: the system, e.g. a sweep)."""
    return actor.email if actor else SYSTEM_ACTOR


def record_change(
    session: Session,
    ticket: Ticket,
    kind: str,
    *,
    actor: User | None,
    origin: Origin,
    now: dt.datetime,
    reason: str | None = None,
    body: str | None = None,
    public: bool = True,
    detail: str | None = None,
    touch: bool = True,
) -> TicketEvent:
    """Add the event `kind` to the ticket's history and its audit row; `touch` bumps the ticket's version."""
    if touch:  # not for the events written with a ticket's creation: it starts at version 1
        ticket.updated_at = now
    reason = reason[:MAX_REASON] if reason else reason
    event = TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor.id if actor else None,
        created_at=now,
        kind=kind,
        public=public,
        body=body,
        reason=reason,
    )
    session.add(event)
    # Reply text stays out of the audit trail (it may hold personal data); the reason is policy words.
    record_event(
        session,
        f"ticket_{kind}",
        origin=origin,
        actor_id=actor.id if actor else None,
        actor_email=actor_email(actor),
        target_type="ticket",
        target_id=ticket.id,
        state_code=ticket.state_code,
        detail=detail if detail is not None else reason,
    )
    logger.info("ticket %s %s by %s", ticket.id, kind, actor_email(actor))
    return event


def record_ticket_access(
    session: Session,
    *,
    actor: User,
    origin: Origin,
    action: str,
    ticket: Ticket | None = None,
    detail: str | None = None,
) -> None:
    """Audit who read which request (CJIS AU-2: record access): a page view, an API read, a download, a listing.

    Only the audit trail gets a row: reading is not a change of the request, so its history and version stay.
    """
    record_event(
        session,
        action,
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        target_type="ticket" if ticket is not None else None,
        target_id=ticket.id if ticket is not None else None,
        state_code=ticket.state_code if ticket is not None else actor.state_code,
        detail=detail,
    )
