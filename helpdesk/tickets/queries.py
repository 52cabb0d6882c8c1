"""Reading tickets: the queue a person works, their own requests, what the API may show them, a ticket's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.orm import utcnow
from helpdesk.pagination import Page
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.models import OPEN_STATUSES, STATUSES, TIERS, Ticket, TicketEvent
from helpdesk.tickets.permissions import can_reassign, can_view_ticket, can_work_ticket, visibility
from helpdesk.vocabulary import Role, Tier

MAX_PER_PAGE = 100
#: Queues whose tiers a role may choose with the `tier` filter (the first is the default).
QUEUE_TIERS: dict[str, tuple[Tier | None, ...]] = {
    Role.LOCAL_IT: (Tier.LOCAL_IT,),
    Role.COMPACT_OFFICE: (Tier.COMPACT_OFFICE, Tier.LOCAL_IT),
    Role.NATIONAL_ADMIN: (Tier.NATIONAL, Tier.COMPACT_OFFICE, Tier.LOCAL_IT),
    Role.PO_SUPERVISOR: (None, *TIERS),
    # State administrators watch their state's workload, every tier, read-only (they work no ticket).
    Role.STATE_ADMIN: (None, *TIERS),
}
#: Roles whose queue is a read-only view: no actions offered, and the ticket services refuse them anyway.
READ_ONLY_QUEUES = frozenset({Role.STATE_ADMIN})


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Filters of a queue; `everything` (national staff only) shows every tier and state."""

    statuses: Sequence[str] = OPEN_STATUSES
    category: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    incident_id: int | None = None
    tier: str | None = None
    everything: bool = False


def status_in(statuses: Sequence[str]) -> ColumnElement[bool]:
    """Return `status IN (...)` with the (validated) statuses written out, so a partial index on the open
    statuses can serve it (a bound parameter cannot prove the index's condition)."""
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise TicketError(f"Choose statuses among {', '.join(STATUSES)}.")
    return Ticket.status.in_(bindparam(None, sorted(set(statuses)), expanding=True, literal_execute=True))


def queue_scope(user: User, tier: str | None = None, *, everything: bool = False) -> list[ColumnElement[bool]]:
    """Return the conditions of the user's queue: local IT their agency's tier 1, the compact office its state's
    tier 2, national tier 3 (everything with the filter); supervisors see their agency's tickets, state
    administrators their state's (read-only)."""
    tiers = QUEUE_TIERS.get(user.role) if user.is_active else None
    if tiers is None:
        raise PermissionError("this role has no queue")
    if tier is not None and tier not in tiers:
        raise TicketError(f"Choose a tier among {', '.join(t for t in tiers if t)}.")
    if user.role == Role.NATIONAL_ADMIN and everything and tier is None:
        return []
    tier = tier or tiers[0]
    conditions: list[ColumnElement[bool]] = [Ticket.tier == tier] if tier else []
    if user.role == Role.NATIONAL_ADMIN:
        return conditions
    if user.role in (Role.LOCAL_IT, Role.PO_SUPERVISOR):
        return [*conditions, Ticket.agency_id == user.agency_id]
    return [*conditions, Ticket.state_code == user.state_code]


def _filters(user: User, filters: QueueFilter, *, with_status: bool) -> list[ColumnElement[bool]]:
    if filters.everything and user.role != Role.NATIONAL_ADMIN:
        raise PermissionError("only national staff see every queue")
    conditions = queue_scope(user, filters.tier, everything=filters.everything)
    if with_status:
        unknown = set(filters.statuses) - set(STATUSES)
        if unknown or not filters.statuses:
            raise TicketError(f"Choose statuses among {', '.join(STATUSES)}.")
        conditions.append(status_in(filters.statuses))
    if filters.category:
        conditions.append(Ticket.category == filters.category)
    if filters.assignee_id is not None:
        conditions.append(Ticket.assignee_id == filters.assignee_id)
    elif filters.unassigned:
        conditions.append(Ticket.assignee_id.is_(None))
    if filters.incident_id is not None:
        conditions.append(Ticket.incident_id == filters.incident_id)
    return conditions


#: A sort key: a ticket column and whether it runs descending.
SortKey = tuple[Any, bool]


def _page(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    order: Sequence[SortKey],
    page: int,
    per_page: int,
    total: int | None = None,
) -> Page[Ticket]:
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    if total is None:
        total = session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    # The page's ids first, on the ticket indexes alone; people and agencies are joined to those rows only.
    inner = [column.desc() if descending else column for column, descending in order]
    ids = (
        select(Ticket.id, *(column.label(f"k{n}") for n, (column, _) in enumerate(order)))
        .where(*conditions)
        .order_by(*inner)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .subquery()
    )
    outer = [ids.c[f"k{n}"].desc() if descending else ids.c[f"k{n}"] for n, (_, descending) in enumerate(order)]
    items = list(session.scalars(select(Ticket).join(ids, Ticket.id == ids.c.id).order_by(*outer)))
    return Page(items=items, total=total, page=page, per_page=per_page)


#: The orders of a queue: by resolution due (most urgent first), first response due, filing, last change.
QUEUE_ORDERS: dict[str, list[SortKey]] = {
    "due": [(Ticket.resolution_due, False), (Ticket.id, False)],
    # Requests still waiting for their first response first, the soonest due among them on top.
    "response": [
        (Ticket.first_responded_at.is_not(None), False),
        (Ticket.first_response_due, False),
        (Ticket.id, False),
    ],
    "created": [(Ticket.id, True)],  # ids follow filing order, and the primary key serves "newest first"
    "updated": [(Ticket.updated_at, True), (Ticket.id, True)],
}
#: Sorts with a partial index of open tickets in their order (ix_ticket_open_updated, ix_ticket_open_response).
OPEN_SORTS = ("updated", "response")


def overdue(now: dt.datetime) -> ColumnElement[bool]:
    """Return the condition of open work past a due time: its resolution, or a first response not given yet."""
    return and_(
        status_in(OPEN_STATUSES),
        or_(Ticket.resolution_due < now, and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due < now)),
    )


def list_queue(
    session: Session,
    user: User,
    filters: QueueFilter = QueueFilter(),
    *,
    sort: str = "due",
    page: int = 1,
    per_page: int = 25,
    counts: Mapping[str, int] | None = None,
    now: dt.datetime | None = None,
) -> Page[Ticket]:
    """Return a page of the user's queue in one of QUEUE_ORDERS (default: overdue work first, then the earliest
    resolution due: a request whose first response is late comes before one merely due soon).

    :param counts: queue_counts() of the same filters, when the page shows them: the total is taken from them
        instead of counting the same rows twice.
    """
    if sort not in QUEUE_ORDERS:
        raise TicketError(f"Sort by one of {', '.join(QUEUE_ORDERS)}.")
    conditions = _filters(user, filters, with_status=True)
    total = None if counts is None else sum(counts.get(status, 0) for status in set(filters.statuses))
    order = QUEUE_ORDERS[sort]
    if sort == "due":
        order = [(case((overdue(now or utcnow()), 0), else_=1), False), *order]
    if (
        sort in OPEN_SORTS
        and filters == QueueFilter(everything=True, statuses=filters.statuses)
        and set(filters.statuses) == set(OPEN_STATUSES)
        and session.get_bind().dialect.name == "sqlite"
    ):
        # Every open ticket: SQLite, without statistics, would take the status index and sort them all; told the
        # condition is nearly always true, it reads the partial index in the sort's order and stops at the page.
        conditions = [func.likely(status_in(filters.statuses))]
    return _page(session, conditions, order, page, per_page, total)


def queue_counts(session: Session, user: User, filters: QueueFilter = QueueFilter()) -> dict[str, int]:
    """Return how many tickets of the user's queue (other filters applied) are in each status."""
    conditions = _filters(user, filters, with_status=False)
    rows = session.execute(select(Ticket.status, func.count()).where(*conditions).group_by(Ticket.status))
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def count_overdue(session: Session, user: User, filters: QueueFilter, now: dt.datetime) -> int:
    """Return how much open work of the user's queue (other filters applied, any status tab) is overdue."""
    conditions = _filters(user, filters, with_status=False)
    return session.scalar(select(func.count()).select_from(Ticket).where(*conditions, overdue(now))) or 0


def list_my_requests(
    session: Session, user: User, *, statuses: Sequence[str] = (), page: int = 1, per_page: int = 25
) -> Page[Ticket]:
    """Return a page of the requests the user filed, newest first."""
    conditions: list[ColumnElement[bool]] = [Ticket.reporter_id == user.id]
    if statuses:
        conditions.append(status_in(statuses))
    return _page(session, conditions, [(Ticket.id, True)], page, per_page)


def list_visible_tickets(
    session: Session,
    user: User,
    *,
    statuses: Sequence[str] = (),
    category: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page[Ticket]:
    """Return a page of the tickets the user may see, newest first (for the API)."""
    conditions = [visibility(user)]
    if statuses:
        conditions.append(status_in(statuses))
    if category:
        conditions.append(Ticket.category == category)
    return _page(session, conditions, [(Ticket.id, True)], page, per_page)


def get_visible_ticket(session: Session, user: User, ticket_id: int) -> Ticket | None:
    """Return the ticket if the user may see it, else None (a 404: its existence is not revealed)."""
    ticket = session.get(Ticket, ticket_id)
    return ticket if ticket is not None and can_view_ticket(user, ticket) else None


def sees_internal(user: User, ticket: Ticket) -> bool:
    """Return whether the user may read the ticket's internal notes (the people who work or reassign it)."""
    return can_work_ticket(user, ticket) or can_reassign(user, ticket)


def list_ticket_events(session: Session, ticket: Ticket, viewer: User) -> list[TicketEvent]:
    """Return the ticket's history as the viewer may see it, oldest first (internal notes only for staff)."""
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if not sees_internal(viewer, ticket):
        query = query.where(TicketEvent.public.is_(True))
    return list(session.scalars(query.order_by(TicketEvent.created_at, TicketEvent.id)))
