"""The actions of a request's page: small forms posted here, checked again on the server, done by the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from helpdesk.tickets.actions import may_try
from helpdesk.tickets.assignment import assign_ticket
from helpdesk.tickets.attachments import AttachmentStore, check_uploads
from helpdesk.tickets.errors import TicketConflict, TicketError
from helpdesk.tickets.escalation.escalate import escalate_ticket
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.web.attachments import attachment_dir, max_attachment_bytes
from helpdesk.tickets.web.blueprint import acting_user, bp, ticket_or_404, triage
from helpdesk.tickets.web.ticket import STATUS_WORDS, Refusal, render_ticket, set_assignees
from helpdesk.tickets.web.work_forms import (
    STALE,
    AskReopenForm,
    AssignForm,
    EscalateForm,
    NoteForm,
    ReopenForm,
    ReplyForm,
    ResolveForm,
    StatusForm,
    TicketActionForm,
)
from helpdesk.tickets.workflow import reopen_ticket, reply_ticket, request_reopen, resolve_ticket, set_ticket_status

ViewResult = Response | tuple[str, int]
F = TypeVar("F", bound=TicketActionForm)


def _problem(form: TicketActionForm) -> str:
    """Return the first problem of an invalid form, in words."""
    if form.version.errors or form.seen.errors:  # hidden fields: the page itself is broken or old
        return STALE
    for field in form:
        if field.errors:
            return str(field.errors[0])
    return "The form has expired: reload the request and try again."


def _perform(ticket_id: int, action: str, form_class: type[F], run: Callable[[Ticket, User, F], str]) -> ViewResult:
    """Check the version, the permission and the form, run the change; commit and confirm, or explain the refusal."""
    ticket, actor, form = ticket_or_404(ticket_id), acting_user(), form_class()
    if isinstance(form, AssignForm):
        set_assignees(form, ticket)
    if isinstance(form.version.data, int) and form.version.data != ticket.version:
        # Based on an older page: show what changed before anything else (even a right the person lost since).
        conflict = TicketConflict(ticket.id, form.version.data, ticket.version)
        return render_ticket(ticket, refusal=Refusal(action, str(conflict), form, conflict=True), status=409)
    if not may_try(actor, ticket, action):
        abort(403)
    if not form.validate_on_submit():
        return render_ticket(ticket, refusal=Refusal(action, _problem(form), form), status=400)
    try:
        message = run(ticket, actor, form)
    except TicketConflict as exc:  # changed between loading and saving: nothing of this change was written
        db.session.rollback()  # the page shows what is saved, not what the refused change left in memory
        return render_ticket(
            ticket_or_404(ticket_id), refusal=Refusal(action, str(exc), form, conflict=True), status=409
        )
    except TicketError as exc:
        db.session.rollback()  # the page shows what is saved, not what the refused change left in memory
        field = getattr(form, exc.field, None) if exc.field else None
        if field is not None:  # the service names the field it refused: shown next to it
            field.errors = [str(exc)]
        return render_ticket(ticket_or_404(ticket_id), refusal=Refusal(action, str(exc), form), status=400)
    except PermissionError:
        abort(403)
    flash(message, "success")
    return redirect(url_for("tickets.ticket", ticket_id=ticket_id), 303)


def _version(form: TicketActionForm) -> int:
    return int(form.version.data or 0)  # validated: a positive integer


@bp.post("/requests/<id:ticket_id>/reply")
def reply(ticket_id: int) -> ViewResult:
    """Add a public reply (the reporter, or the people who work the request; they may set the status with it)."""

    def run(ticket: Ticket, actor: User, form: ReplyForm) -> str:
        files = [(f.filename, f.stream) for f in request.files.getlist(form.attachments.name) if f.filename]
        uploads = check_uploads(files, max_bytes=max_attachment_bytes())  # one bad file: nothing is saved
        with AttachmentStore(attachment_dir()) as store:
            reply_ticket(
                db.session,
                triage(),
                ticket,
                actor=actor,
                body=form.body.data or "",
                origin=current_origin(),
                expected_version=_version(form),
                status=form.status.data or None,
            )
            # The files go if the request's transaction rolls back (a failed commit included).
            store.save(db.session, ticket, uploads, uploader=actor, origin=current_origin(), now=utcnow())
        attached = f" with {len(uploads)} file{'s' if len(uploads) != 1 else ''}" if uploads else ""
        if actor.id == ticket.reporter_id:
            return f"Your reply was added{attached}; the people working on your request were told."
        return f"Your reply was added{attached} and e-mailed to {ticket.reporter.name}."

    return _perform(ticket_id, "reply", ReplyForm, run)


@bp.post("/requests/<id:ticket_id>/note")
def note(ticket_id: int) -> ViewResult:
    """Add an internal note, which the reporter never sees."""

    def run(ticket: Ticket, actor: User, form: NoteForm) -> str:
        reply_ticket(
            db.session,
            triage(),
            ticket,
            actor=actor,
            body=form.body.data or "",
            public=False,
            expected_version=_version(form),
            origin=current_origin(),
        )
        return "Internal note added: only the people who work this request can read it."

    return _perform(ticket_id, "note", NoteForm, run)


@bp.post("/requests/<id:ticket_id>/status")
def status(ticket_id: int) -> ViewResult:
    """Set an open request to open or pending (waiting on the reporter)."""

    def run(ticket: Ticket, actor: User, form: StatusForm) -> str:
        set_ticket_status(
            db.session,
            triage(),
            ticket,
            actor=actor,
            status=form.status.data or "",
            reason=form.reason.data,
            expected_version=_version(form),
            origin=current_origin(),
        )
        return f"Status: {STATUS_WORDS[ticket.status]}."

    return _perform(ticket_id, "status", StatusForm, run)


@bp.post("/requests/<id:ticket_id>/resolve")
def resolve(ticket_id: int) -> ViewResult:
    """Resolve the request with its resolution, which is mailed to the reporter."""

    def run(ticket: Ticket, actor: User, form: ResolveForm) -> str:
        resolve_ticket(
            db.session,
            triage(),
            ticket,
            actor=actor,
            resolution=form.resolution.data or "",
            expected_version=_version(form),
            origin=current_origin(),
        )
        days = triage().policy.auto_close.days
        return (
            f"Resolved. {ticket.reporter.name} was told by e-mail; the request closes by itself after {days} "
            "days unless they answer."
        )

    return _perform(ticket_id, "resolve", ResolveForm, run)


@bp.post("/requests/<id:ticket_id>/assign")
def assign(ticket_id: int) -> ViewResult:
    """Give the request to a named, active person who may hold it ("assign to me" posts here too)."""

    def run(ticket: Ticket, actor: User, form: AssignForm) -> str:
        assignee = db.session.get(User, form.assignee.data)
        if assignee is None:  # one of the choices offered, unless deleted meanwhile (users never are)
            raise TicketError("Choose the person who takes the request.")
        if ticket.assignee_id == assignee.id:
            return f"{assignee.name} already holds this request."
        assign_ticket(
            db.session,
            triage(),
            ticket,
            actor=actor,
            assignee=assignee,
            reason=form.reason.data,
            expected_version=_version(form),
            origin=current_origin(),
        )
        return "You hold this request now." if assignee.id == actor.id else f"Assigned to {assignee.name}."

    return _perform(ticket_id, "assign", AssignForm, run)


@bp.post("/requests/<id:ticket_id>/escalate")
def escalate(ticket_id: int) -> ViewResult:
    """Move the request up a tier: local IT once local causes are ruled out, the compact office to national."""

    def run(ticket: Ticket, actor: User, form: EscalateForm) -> str:
        decision = escalate_ticket(
            db.session,
            triage(),
            ticket,
            actor=actor,
            checked=form.checked.data or "",
            ruled_out=bool(form.ruled_out.data),
            expected_version=_version(form),
            origin=current_origin(),
        )
        return f"Escalated to {decision.target}; they and {ticket.reporter.name} were told."

    return _perform(ticket_id, "escalate", EscalateForm, run)


@bp.post("/requests/<id:ticket_id>/reopen")
def reopen(ticket_id: int) -> ViewResult:
    """Reopen a resolved or closed request (compact office of its state and national staff only)."""

    def run(ticket: Ticket, actor: User, form: ReopenForm) -> str:
        reopen_ticket(
            db.session,
            triage(),
            ticket,
            actor=actor,
            reason=form.reason.data or "",
            expected_version=_version(form),
            origin=current_origin(),
        )
        return "Request reopened; the reporter and the people who work it were told."

    return _perform(ticket_id, "reopen", ReopenForm, run)


@bp.post("/requests/<id:ticket_id>/ask-reopen")
def ask_reopen(ticket_id: int) -> ViewResult:
    """Let the reporter ask for a closed request to be reopened; the state compact office is told."""

    def run(ticket: Ticket, actor: User, form: AskReopenForm) -> str:
        request_reopen(
            db.session,
            triage(),
            ticket,
            actor=actor,
            reason=form.reason.data or "",
            expected_version=_version(form),
            origin=current_origin(),
        )
        return "Your request to reopen was sent to the compact office; you will hear from them by e-mail."

    return _perform(ticket_id, "ask_reopen", AskReopenForm, run)
