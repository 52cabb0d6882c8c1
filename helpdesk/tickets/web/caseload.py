"""Manage Case Load: the requests each named person holds, moved to someone else one or many at once."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import can_name_user
from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db
from helpdesk.tickets.assignment import reassign_tickets
from helpdesk.tickets.caseload import NOT_ALLOWED, caseload_area, caseload_scope, held_by, list_holders, takers
from helpdesk.tickets.errors import TicketConflict, TicketError
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.web.blueprint import acting_user, bp, triage
from helpdesk.tickets.web.queue_forms import CaseloadFilterForm, CaseloadForm

ViewResult = Response | tuple[str, int]


def _holder_id() -> int | None:
    form = CaseloadFilterForm(formdata=request.args)
    if not form.validate():
        abort(400, "Choose a person from the list of holders.")
    return int(form.holder.data) if form.holder.data else None


def _page(
    form: CaseloadForm | None = None, *, error: str | None = None, status: int = 200, changed: int | None = None
) -> tuple[str, int]:
    actor, holder_id = acting_user(), _holder_id()
    scope = caseload_scope(actor)
    holders = list_holders(db.session, scope)
    holder = next((h for h in holders if h.user.id == holder_id), None)
    tickets = held_by(db.session, scope, holder_id) if holder is not None and holder_id is not None else []
    return render_template(
        "tickets/caseload.html",
        holders=holders,
        holder=holder,
        holder_id=holder_id,
        tickets=tickets,
        takers=takers(db.session, tickets, holder_id),
        form=form or CaseloadForm(formdata=None),
        error=error,
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
    rows = db.session.execute(
        select(Ticket.id, Ticket.version).where(Ticket.id.in_(versions), *caseload_area(acting_user()))
    )
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
    moved = reassign_tickets(
        db.session, triage(), versions, actor=acting_user(), to=to, origin=current_origin(), reason=form.reason.data
    )
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
        db.session.rollback()  # the page shows what is saved, not what the refused change left in memory
        return _page(
            form, error=f"{exc} Nothing was moved; your selection is kept below.", status=409, changed=exc.ticket_id
        )
    except (TicketError, PermissionError) as exc:
        db.session.rollback()  # the page shows what is saved, not what the refused change left in memory
        message = str(exc) if isinstance(exc, TicketError) else "You may not move one of the ticked requests."
        return _page(form, error=f"Nothing was moved. {message}", status=400)
    already = chosen - len(moved)
    flash(
        f"Moved {len(moved)} request{'' if len(moved) == 1 else 's'} to {to.name}"
        + (f" ({already} already held by them)." if already else "."),
        "success",
    )
    return redirect(url_for("tickets.caseload", holder=_holder_id()), 303)
