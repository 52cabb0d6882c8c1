"""The page of one request: what it is, where it went and why, its history, and the forms of what the viewer may do."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db
from helpdesk.forms import SelectChoice
from helpdesk.kb import get_library
from helpdesk.tickets.actions import assignment_candidates, offered_actions, tier_words
from helpdesk.tickets.attachments import list_attachments
from helpdesk.tickets.history import record_ticket_access
from helpdesk.tickets.models import Incident, Ticket, TicketEvent
from helpdesk.tickets.permissions import can_be_assigned
from helpdesk.tickets.queries import list_ticket_events, sees_internal
from helpdesk.tickets.web.blueprint import acting_user, bp, ticket_or_404, triage
from helpdesk.tickets.web.work_forms import FORMS, AssignForm, TicketActionForm
from helpdesk.triage.routing import LOCATION_NOTICE, SYSTEM_NOTICE
from helpdesk.vocabulary import STATUS_LABELS

#: The one table of status labels, under the name the pages already use.
STATUS_WORDS = STATUS_LABELS
AFFECTED_WORDS = {"me": "Just me", "location": "Others at my location too", "unknown": "Don't know"}
EVENT_WORDS = {
    "submitted": "Request submitted",
    "routed": "Routed",
    "incident": "Grouped with similar reports",
    "reply": "Reply",
    "note": "Internal note",
    "status": "Status changed",
    "resolved": "Resolved",
    "closed": "Closed",
    "reopened": "Reopened",
    "reopen_requested": "Asked to reopen",
    "escalated": "Escalated",
    "assigned": "Assigned",
    "attached": "File attached",
}
#: History entries shown as "what changed" after a conflict when the page did not say what it had shown.
RECENT_CHANGES = 3


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a posted change was not made (a conflict, or a reason in words) and the form as it was posted."""

    action: str
    message: str
    form: TicketActionForm
    conflict: bool = False


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A knowledge-base answer shown to the reporter before they filed the request."""

    url: str
    title: str


def set_assignees(form: AssignForm, ticket: Ticket) -> None:
    """Offer the named, active people who may hold the ticket now."""
    form.assignee.choices = [
        SelectChoice(str(user.id), f"{user.name} ({user.role_label})")
        for user in assignment_candidates(db.session, ticket)
    ]


def _suggestions(ticket: Ticket) -> list[Suggestion]:
    library, found = get_library(), []
    for answer in ticket.suggestions_shown.split():
        slug, _, question_id = answer.partition("#")
        article = library.get(slug)
        question = article.question(question_id) if article is not None and question_id else None
        title = question.text if question else article.title if article else answer
        found.append(Suggestion(f"/articles/{slug}" + (f"#{question_id}" if question_id else ""), title))
    return found


def _incident(ticket: Ticket) -> tuple[Incident | None, str | None]:
    incident = db.session.get(Incident, ticket.incident_id) if ticket.incident_id else None
    if incident is None:
        return None, None
    return incident, LOCATION_NOTICE if incident.scope == "location" else SYSTEM_NOTICE


def _changed(events: list[TicketEvent], refusal: Refusal | None) -> list[TicketEvent]:
    """Return the history entries the person had not seen when a conflict refused their change."""
    if refusal is None or not refusal.conflict:
        return []
    seen = refusal.form.seen.data
    return [event for event in events if event.id > seen] if isinstance(seen, int) else events[-RECENT_CHANGES:]


def render_ticket(ticket: Ticket, *, refusal: Refusal | None = None, status: int = 200) -> tuple[str, int]:
    """Render the request's page; a refused change keeps its form as posted, so nothing typed is lost."""
    viewer = acting_user()
    offered = offered_actions(viewer, ticket)
    forms: dict[str, TicketActionForm] = {action: FORMS[action](formdata=None) for action in offered}
    if refusal is not None and refusal.action in forms:
        forms[refusal.action] = refusal.form
    assign = forms.get("assign")
    if isinstance(assign, AssignForm):
        set_assignees(assign, ticket)
    events = list_ticket_events(db.session, ticket, viewer)
    incident, notice = _incident(ticket)
    category = triage().policy.categories.get(ticket.category)
    return render_template(
        "tickets/ticket.html",
        ticket=ticket,
        viewer=viewer,
        zone=ticket.agency.time_zone,
        staff=sees_internal(viewer, ticket),
        forms=forms,
        refusal=refusal,
        kept=refusal.form.text() if refusal and refusal.action not in forms else "",
        events=events,
        changed={event.id for event in _changed(events, refusal)},
        seen=max((event.id for event in events), default=0),
        tier=tier_words(ticket),
        category=category.label if category else ticket.category,
        status_words=STATUS_WORDS,
        affected=AFFECTED_WORDS.get(ticket.affected, ticket.affected),
        event_words=EVENT_WORDS,
        incident=incident,
        notice=notice,
        suggestions=_suggestions(ticket),
        attachments=list_attachments(db.session, ticket),
        take="assign" in forms and ticket.assignee_id != viewer.id and can_be_assigned(viewer, ticket),
        close_days=triage().policy.auto_close.days,
    ), status


@bp.get("/requests/<id:ticket_id>")
def ticket(ticket_id: int) -> tuple[str, int]:
    """Show one request to its reporter and the people who work it (another state's request answers 404)."""
    found = ticket_or_404(ticket_id)
    record_ticket_access(db.session, actor=acting_user(), origin=current_origin(), action="ticket_viewed", ticket=found)
    return render_ticket(found)
