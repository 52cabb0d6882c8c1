"""Bulk changes from the queue: the ticked requests assigned to one person or set to one status, all or none."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db
from helpdesk.tickets.bulk import BulkChange, bulk_change_tickets
from helpdesk.tickets.errors import TicketConflict, TicketError
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import visibility
from helpdesk.tickets.web.blueprint import acting_user, bp, triage
from helpdesk.tickets.web.queue import BULK_ROLES, BulkState, queue_people, render_queue
from helpdesk.tickets.web.queue_forms import QueueBulkForm, QueueFilterForm

ViewResult = Response | tuple[str, int]
NOT_LISTED = "Tick only requests listed in the queue."


def _picked(form: QueueBulkForm) -> dict[int, int]:
    """Return {id: version seen} of the ticked requests, or raise TicketError saying what is wrong."""
    seen = form.seen_versions()
    if seen is None:
        raise TicketError("The list of requests was changed in the page: reload it and try again.")
    picks = form.pick.data or []
    if not all(pick.isdigit() and len(pick) <= 9 for pick in picks):
        raise TicketError(NOT_LISTED)
    picked = set(seen) if form.select_all.data else {int(pick) for pick in picks}
    if not picked:
        raise TicketError("Tick the requests to change, or every request on this page.")
    if not picked <= set(seen):
        raise TicketError(NOT_LISTED)
    # A request the user may not see is refused exactly like a missing one: its existence is not revealed.
    visible = set(db.session.scalars(select(Ticket.id).where(Ticket.id.in_(picked), visibility(acting_user()))))
    if visible != picked:
        raise TicketError(NOT_LISTED)
    return {ticket_id: seen[ticket_id] for ticket_id in sorted(picked)}


def _change(form: QueueBulkForm) -> BulkChange:
    """Return the change the form asks for, or raise TicketError."""
    if form.action.data == "assign":
        people = {str(person.id): person for person in queue_people(db.session, acting_user())}
        person: User | None = people.get(form.to.data or "")
        if person is None:  # someone outside the queue's people answers like an unknown id
            raise TicketError("Choose who takes the requests from the list.")
        return BulkChange(assignee=person, note=form.note.data)
    if not form.status.data:
        raise TicketError("Choose the status to set.")
    return BulkChange(status=form.status.data, note=form.note.data)


def _done(action: str, changed: int, chosen: int, change: BulkChange) -> str:
    what = f"{changed} request{'' if changed == 1 else 's'}"
    if action == "assign" and change.assignee is not None:
        words = f"Assigned {what} to {change.assignee.name}"
    else:
        words = f"Set {what} to {change.status}"
    already = chosen - changed
    return words + (f" ({already} already {'held by them' if action == 'assign' else 'so'})." if already else ".")


@bp.post("/queue/bulk")
def queue_bulk() -> ViewResult:
    """Apply one change to the ticked requests of the queue; a refusal changes nothing and keeps the selection."""
    user = acting_user()
    if user.role not in BULK_ROLES or not user.is_active:
        abort(403, "Your role does not change requests from a queue.")
    form = QueueBulkForm()
    if not form.validate_on_submit():
        return render_queue(
            error="Nothing was changed: some choices are missing or not valid.", status=400, bulk=BulkState(form)
        )
    try:
        versions, change = _picked(form), _change(form)
        changed = bulk_change_tickets(
            db.session, triage(), versions, actor=user, change=change, origin=current_origin()
        )
    except TicketConflict as exc:
        db.session.rollback()  # the page shows what is saved, not what the refused change left in memory
        return render_queue(
            error=f"{exc} Nothing was changed; your selection is kept below.",
            status=409,
            bulk=BulkState(form, exc.ticket_id),
        )
    except PermissionError:
        abort(403, "You may not change one of the ticked requests. Nothing was changed.")
    except TicketError as exc:
        db.session.rollback()  # the page shows what is saved, not what the refused change left in memory
        return render_queue(error=f"Nothing was changed. {exc}", status=400, bulk=BulkState(form))
    flash(_done(form.action.data or "", len(changed), len(versions), change), "success")
    args: dict[str, Any] = {key: value for key, value in request.args.items() if key in QueueFilterForm.FIELDS}
    return redirect(url_for("tickets.queue", **args), 303)
