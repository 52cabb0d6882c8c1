"""Manage Case Load: the requests each named person holds, moved to someone else one or many at once."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import can_name_user
from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db
from helpdesk.tickets.assignment import MAX_BATCH, reassign_tickets
from helpdesk.tickets.blueprint import acting_user, bp, triage
from helpdesk.tickets.context import TicketConflict, TicketError
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import can_be_assigned
from helpdesk.tickets.queue_forms import CaseloadFilterForm, CaseloadForm
from helpdesk.tickets.workload import HELD_STATUSES

ViewResult = Response | tuple[str, int]
NOT_ALLOWED = ("Manage Case Load is for supervisors (their agency), compact office staff (their state) "
               "and national staff.")
_WORKERS = ("local_it", "compact_office", "national_admin")


@dataclass(frozen=True, slots=True)
class Holder:
    """A person holding requests of the case load, and how many."""

    user: User
    count: int


def caseload_area(user: User) -> list[ColumnElement[bool]]:
    """Return where the user may move requests (as permissions.can_reassign): their agency, state, or everywhere."""
    if user.is_active and user.role == "national_admin":
        return []
    if user.is_active and user.role == "po_supervisor":
        return [Ticket.agency_id == user.agency_id]
    if user.is_active and user.role == "compact_office" and user.state_code:
        return [Ticket.state_code == user.state_code]
    raise PermissionError(NOT_ALLOWED)


def caseload_scope(user: User) -> list[ColumnElement[bool]]:
    """Return the conditions of the requests held by someone in the user's area that may still need work."""
    return [Ticket.status.in_(HELD_STATUSES), Ticket.assignee_id.is_not(None), *caseload_area(user)]


def list_holders(session: Session, scope: list[ColumnElement[bool]]) -> list[Holder]:
    """Return the people holding requests of the case load, by name, with their counts."""
    rows = session.execute(select(Ticket.assignee_id, func.count()).where(*scope).group_by(Ticket.assignee_id))
    counts = {holder: count for holder, count in rows}
    people = session.scalars(select(User).where(User.id.in_(counts)).order_by(User.name, User.id))
    return [Holder(person, counts[person.id]) for person in people]


def held_by(session: Session, scope: list[ColumnElement[bool]], holder_id: int) -> list[Ticket]:
    """Return the requests of the case load one person holds, most urgent first (at most one batch)."""
    query = select(Ticket).where(*scope, Ticket.assignee_id == holder_id)
    return list(session.scalars(query.order_by(Ticket.resolution_due, Ticket.id).limit(MAX_BATCH)))


def takers(session: Session, tickets: list[Ticket], holder_id: int | None) -> list[User]:
    """Return the active people who may hold at least one of the requests (the holder excepted)."""
    states = {ticket.state_code for ticket in tickets if ticket.state_code}
    query = select(User).where(User.is_active.is_(True), User.role.in_(_WORKERS),
                               or_(User.state_code.in_(states), User.role == "national_admin"))
    people = session.scalars(query.order_by(User.name, User.id))
    # Who may hold a request depends on its tier, agency and state only: one request of each kind is enough.
    kinds = list({(ticket.tier, ticket.agency_id, ticket.state_code): ticket for ticket in tickets}.values())
    return [p for p in people if p.id != holder_id and any(can_be_assigned(p, ticket) for ticket in kinds)]


def _holder_id() -> int | None:
    form = CaseloadFilterForm(formdata=request.args)
    if not form.validate():
        abort(400, "Choose a person from the list of holders.")
    return int(form.holder.data) if form.holder.data else None


def _page(form: CaseloadForm | None = None, *, error: str | None = None, status: int = 200,
          changed: int | None = None) -> tuple[str, int]:
    actor, holder_id = acting_user(), _holder_id()
    scope = caseload_scope(actor)
    holders = list_holders(db.session, scope)
    holder = next((h for h in holders if h.user.id == holder_id), None)
    tickets = held_by(db.session, scope, holder_id) if holder is not None and holder_id is not None else []
    return render_template(
        "tickets/caseload.html", holders=holders, holder=holder, holder_id=holder_id, tickets=tickets,
        takers=takers(db.session, tickets, holder_id), form=form or CaseloadForm(formdata=None), error=error,
        changed=changed,
    ), status


def _checked(form: CaseloadForm) -> dict[int, int]:
    """Return {id: version seen} of the requests to move, or raise TicketError saying what is wrong."""
    seen = form.seen_versions()
    if seen is None:
        raise TicketError("The list of requests was changed in the page: reload it and try again.")
    picked = set(seen) if form.select_all.data else set(form.pick.data or [])
    if not picked:
        raise TicketError("Tick the requests to move, or all of this person's requests.")
    if not picked <= set(seen):
        raise TicketError("Tick only requests listed on the page.")
    return {ticket_id: seen[ticket_id] for ticket_id in sorted(picked)}


def _move(form: CaseloadForm) -> tuple[list[Ticket], int, User]:
    """Move the chosen requests; return those moved, how many were chosen, and who took them."""
    versions = _checked(form)
    # Checked before the service so that a request changed (or closed) since the page was loaded is a conflict,
    # and one of another agency or state is refused like a missing one.
    rows = db.session.execute(select(Ticket.id, Ticket.version).where(Ticket.id.in_(versions),
                                                                      *caseload_area(acting_user())))
    current = {ticket_id: version for ticket_id, version in rows}
    if set(current) != set(versions):
        raise TicketError("Tick only requests listed on the page.")
    for ticket_id, version in versions.items():
        if current[ticket_id] != version:
            raise TicketConflict(ticket_id, version, current[ticket_id])
    to = db.session.get(User, int(form.to.data or 0))
    # Someone of another state is refused like an unknown id, so that ids cannot be probed for names.
    if to is None or not can_name_user(acting_user(), to):
        raise TicketError("Choose who takes the requests from the list.")
    moved = reassign_tickets(db.session, triage(), versions, actor=acting_user(), to=to, origin=current_origin(),
                             reason=form.reason.data)
    return moved, len(versions), to


@bp.route("/caseload", methods=["GET", "POST"])
def caseload() -> ViewResult:
    """List who holds what; move the ticked requests (or all of one person's) to a named person, all or none."""
    try:
        caseload_area(acting_user())
    except PermissionError:
        abort(403, NOT_ALLOWED)
    if request.method == "GET":
        return _page()
    form = CaseloadForm()
    if not form.validate_on_submit():
        return _page(form, error="Some choices are missing or not valid: see below.", status=400)
    try:
        moved, chosen, to = _move(form)
    except TicketConflict as exc:
        db.session.rollback()
        return _page(form, error=f"{exc} Nothing was moved; your selection is kept below.", status=409,
                     changed=exc.ticket_id)
    except (TicketError, PermissionError) as exc:
        db.session.rollback()
        message = str(exc) if isinstance(exc, TicketError) else "You may not move one of the ticked requests."
        return _page(form, error=f"Nothing was moved. {message}", status=400)
    db.session.commit()
    already = chosen - len(moved)
    flash(f"Moved {len(moved)} request{'' if len(moved) == 1 else 's'} to {to.name}"
          + (f" ({already} already held by them)." if already else "."), "success")
    return redirect(url_for("tickets.caseload", holder=_holder_id()), 303)
