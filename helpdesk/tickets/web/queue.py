"""The queue a person works: its requests by status, with filters, an order, counts per status and pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, render_template, request
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.admin.forms import choices
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.models import OPEN_STATUSES
from helpdesk.tickets.queries import READ_ONLY_QUEUES, QueueFilter, count_overdue, list_queue, queue_counts
from helpdesk.tickets.web.blueprint import acting_user, bp, triage
from helpdesk.tickets.web.queue_forms import STATUS_VIEWS, QueueBulkForm, QueueFilterForm
from helpdesk.vocabulary import Role, Tier

PER_PAGE = 25
NO_QUEUE = 'Your role has no queue of requests to work. Your own requests are under "My requests".'
#: The `tier` filter a role may use; "" is the role's own queue (queries.QUEUE_TIERS checks the same on the server).
TIER_CHOICES: dict[str, list[tuple[str, str]]] = {
    Role.LOCAL_IT: [("", "Tier 1: local IT of your agency")],
    Role.COMPACT_OFFICE: [
        ("", "Tier 2: your state's compact office"),
        (Tier.LOCAL_IT, "Tier 1: local IT of your state's agencies"),
    ],
    Role.NATIONAL_ADMIN: [
        ("", "Tier 3: national office"),
        (Tier.COMPACT_OFFICE, "Tier 2: the state compact offices"),
        (Tier.LOCAL_IT, "Tier 1: local IT of every agency"),
        ("all", "Everything: every tier and state"),
    ],
    Role.PO_SUPERVISOR: [
        ("", "Every tier"),
        (Tier.LOCAL_IT, "Tier 1: local IT"),
        (Tier.COMPACT_OFFICE, "Tier 2: compact office"),
        (Tier.NATIONAL, "Tier 3: national office"),
    ],
    Role.STATE_ADMIN: [
        ("", "Every tier of your state"),
        (Tier.LOCAL_IT, "Tier 1: local IT of your state's agencies"),
        (Tier.COMPACT_OFFICE, "Tier 2: your state's compact office"),
        (Tier.NATIONAL, "Tier 3: your state's requests at the national office"),
    ],
}


@dataclass(frozen=True, slots=True)
class Due:
    """A due time in words relative to now, and as the clock shows it at the agency."""

    words: str
    overdue: bool
    iso: str
    local: str


def _span(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


@bp.app_template_filter("agency_time")
def local_time(moment: dt.datetime, zone: str) -> str:
    """Return `moment` as the clock shows it in `zone` (UTC when the zone is unknown)."""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        tz: dt.tzinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def describe_due(moment: dt.datetime | None, zone: str, *, now: dt.datetime) -> Due | None:
    """Return "Due in 3 h" / "Overdue by 2 h" for a due time (None when there is none)."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    late = now - moment
    if late > dt.timedelta(0):
        words = "Due now" if late < dt.timedelta(minutes=1) else f"Overdue by {_span(late)}"
    else:
        words = "Due now" if -late < dt.timedelta(minutes=1) else f"Due in {_span(-late)}"
    return Due(words, late >= dt.timedelta(minutes=1), moment.isoformat(), local_time(moment, zone))


def queue_people(session: Session, user: User) -> list[User]:
    """Return the active people who work the user's queue: the choices of the assignee filter."""
    scope: ColumnElement[bool]
    if user.role == Role.NATIONAL_ADMIN:
        scope = User.role.in_((Role.COMPACT_OFFICE, Role.NATIONAL_ADMIN))
    elif user.role in (Role.COMPACT_OFFICE, Role.STATE_ADMIN):
        scope = and_(User.state_code == user.state_code, User.role.in_((Role.LOCAL_IT, Role.COMPACT_OFFICE)))
    else:
        scope = or_(
            and_(User.role == Role.LOCAL_IT, User.agency_id == user.agency_id),
            and_(User.role == Role.COMPACT_OFFICE, User.state_code == user.state_code),
        )
    return list(session.scalars(select(User).where(User.is_active.is_(True), scope).order_by(User.name, User.id)))


def _queue_filter(form: QueueFilterForm, user: User, people: list[User]) -> QueueFilter:
    assignee, tier = form.assignee.data or "", form.tier.data or ""
    assignee_id = user.id if assignee == "me" else int(assignee) if assignee.isdigit() else None
    if assignee.isdigit() and user.role != Role.NATIONAL_ADMIN and assignee_id not in {p.id for p in people}:
        raise TicketError("Choose an assignee from the list.")
    return QueueFilter(
        statuses=STATUS_VIEWS[form.status.data or "active"][1],
        category=form.category.data or None,
        assignee_id=assignee_id,
        unassigned=assignee == "none",
        incident_id=form.incident.data,
        tier=None if tier in ("", "all") else tier,
        everything=tier == "all",
    )


#: Roles that change requests from the queue in bulk (the service checks each request as well).
BULK_ROLES = (Role.LOCAL_IT, Role.COMPACT_OFFICE, Role.NATIONAL_ADMIN, Role.PO_SUPERVISOR)


@dataclass(frozen=True, slots=True)
class BulkState:
    """What the bulk form shows after a refused change: the form as sent and the request that changed meanwhile."""

    form: QueueBulkForm | None = None
    changed: int | None = None


def render_queue(*, error: str | None = None, status: int = 200, bulk: BulkState = BulkState()) -> tuple[str, int]:
    """Render the signed-in user's queue for the filters of the URL (its query string), with an error if any."""
    user = acting_user()
    if user.role not in TIER_CHOICES or not user.is_active:
        abort(403, NO_QUEUE)
    form = QueueFilterForm(formdata=request.args)
    labels = {c.code: c.label for c in triage().policy.categories.values()}
    form.category.choices = choices([("", "Any category"), *labels.items()])
    form.tier.choices = choices(TIER_CHOICES[user.role])
    people = queue_people(db.session, user)
    found, counts, filter_error, late, now = None, None, None, 0, utcnow()
    if form.validate():
        try:
            filters = _queue_filter(form, user, people)
            counts = queue_counts(db.session, user, filters)
            found = list_queue(
                db.session,
                user,
                filters,
                sort=form.sort.data or "due",
                page=form.page.data or 1,
                per_page=PER_PAGE,
                counts=counts,
                now=now,
            )
            late = count_overdue(db.session, user, filters, now)
        except TicketError as exc:
            filter_error = str(exc)
        except PermissionError:
            abort(403, NO_QUEUE)
    else:
        filter_error = "Some filters are not valid: correct them and show the queue again."
    args = {key: value for key, value in request.args.items() if key in QueueFilterForm.FIELDS and key != "page"}
    bulk_form = bulk.form or QueueBulkForm(formdata=None)
    return render_template(
        "tickets/queue.html",
        form=form,
        found=found,
        counts=counts,
        error=error or filter_error,
        people=people,
        args=args,
        read_only=user.role in READ_ONLY_QUEUES,
        status_views=STATUS_VIEWS,
        open_statuses=OPEN_STATUSES,
        labels=labels,
        due=partial(describe_due, now=now),
        late=late,
        bulk=bulk_form if user.role in BULK_ROLES else None,
        picked=set(bulk_form.pick.data or []),
        changed=bulk.changed,
    ), status if filter_error is None else 400


@bp.get("/queue")
def queue() -> tuple[str, int]:
    """Show the signed-in user's queue; a role without one is told where its own requests are."""
    return render_queue()
