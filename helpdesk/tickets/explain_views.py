"""Routing preview: where a report of a category from an agency would go, and why (as `helpdesk triage explain`)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from itertools import groupby

from flask import abort, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, User
from helpdesk.admin.forms import choices
from helpdesk.extensions import db
from helpdesk.tickets.agencies import agency_info
from helpdesk.tickets.blueprint import acting_user, bp, triage
from helpdesk.tickets.explain import explain
from helpdesk.tickets.queue_forms import ExplainForm

NOT_ALLOWED = "The routing preview is for compact office staff (their state's agencies) and national staff."


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the preview: its text and how deep it is indented (0 for a heading line)."""

    text: str
    depth: int


def preview_agencies(session: Session, user: User) -> list[Agency]:
    """Return the agencies the user may preview: their state's (compact office) or every one (national staff)."""
    query = select(Agency).order_by(Agency.state_code, Agency.name)
    if user.is_active and user.role == "national_admin":
        return list(session.scalars(query))
    if user.is_active and user.role == "compact_office" and user.state_code:
        return list(session.scalars(query.where(Agency.state_code == user.state_code)))
    raise PermissionError(NOT_ALLOWED)


def _state_of(agency: Agency) -> str | None:
    return agency.state_code


def preview_lines(text: str) -> list[Line]:
    """Split the plain-text preview into lines that keep their indentation as a depth (rendered escaped)."""
    return [Line(line.strip(), (len(line) - len(line.lstrip(" "))) // 2) for line in text.splitlines() if line.strip()]


def command_line(category: str, agency: Agency) -> str:
    """Return the shell command that prints the same preview."""
    state = f" --state {agency.state_code}" if agency.state_code else ""
    return f"helpdesk triage explain --category {shlex.quote(category)} --agency {shlex.quote(agency.name)}{state}"


@bp.get("/triage/explain", endpoint="explain")
def explain_page() -> tuple[str, int]:
    """Show the preview form and, once a category and an agency are chosen, the preview."""
    try:
        agencies = preview_agencies(db.session, acting_user())
    except PermissionError:
        abort(403, NOT_ALLOWED)
    policy = triage().policy
    form = ExplainForm(formdata=request.args if request.args else None)
    form.category.choices = choices((c.code, c.label) for c in policy.categories.values())
    lines, agency, error = None, None, None
    if request.args:
        by_id = {str(a.id): a for a in agencies}
        if not form.validate():
            error = "Choose a category and an agency from the lists."
        elif (agency := by_id.get(form.agency.data or "")) is None:
            error = "Choose an agency from the list: that one is unknown or not in your state."
            form.agency.errors = [*form.agency.errors, "Not one of the agencies you may preview."]
        else:
            lines = preview_lines(explain(policy, form.category.data or "", agency_info(db.session, agency)))
    return render_template(
        "tickets/explain.html", form=form, lines=lines, agency=agency, error=error,
        groups=[(state or "National office", list(group)) for state, group in groupby(agencies, _state_of)],
        command=command_line(form.category.data or "", agency) if lines and agency else None,
    ), 400 if error else 200
