"""The audit trail pages: filtered by state, action, person and days; as sentences, or as a CSV file."""

from __future__ import annotations

from flask import Response, render_template, request

from helpdesk.accounts.permissions import is_national
from helpdesk.accounts.session import current_origin
from helpdesk.admin.audit_export import audit_csv
from helpdesk.admin.audit_queries import AuditFilter, list_audit_actions
from helpdesk.admin.audit_rows import describe_events
from helpdesk.admin.blueprint import acting_user, bp, scope_state
from helpdesk.admin.forms import AuditFilterForm
from helpdesk.admin.queries import list_states
from helpdesk.admin.services import export_audit_trail, read_audit_trail
from helpdesk.audit.wording import action_label
from helpdesk.extensions import db
from helpdesk.orm import utcnow


def _filter(form: AuditFilterForm, valid: bool) -> AuditFilter:
    """Return the filter of a validated form (an invalid one filters on the scope only)."""
    state = scope_state(form.state.data if valid else None)
    if not valid:
        return AuditFilter(state_code=state)
    person = " ".join((form.person.data or "").split())
    return AuditFilter(
        state_code=state, action=form.action.data or "", person=person, since=form.since.data, until=form.until.data
    )


@bp.get("/audit")
def audit() -> tuple[str, int]:
    """Show the audit trail of the actor's state, newest first (national staff: every state); reading is audited."""
    actor, form = acting_user(), AuditFilterForm(formdata=request.args)
    valid = form.validate()
    where = _filter(form, valid)
    events = read_audit_trail(
        db.session, actor, where, page=(form.page.data or 1) if valid else 1, origin=current_origin()
    )
    actions = [(action, action_label(action)) for action in list_audit_actions(db.session, where.state_code)]
    rows = describe_events(db.session, events.items, actor)
    db.keep_refused()  # events are shown even beside a bad filter (400): the record of reading them is kept
    export_args = {key: value for key, value in request.args.items() if key != "page"} if valid else {}
    return render_template(
        "admin/audit.html",
        form=form,
        events=events,
        rows=rows,
        where=where,
        state=where.state_code,
        actions=sorted(actions, key=lambda pair: pair[1]),
        export_args=export_args,
        states=list_states(db.session) if is_national(actor) else [],
    ), 200 if valid else 400


@bp.get("/audit.csv")
def audit_export() -> Response | tuple[str, int]:
    """Download the filtered audit trail as CSV (same scope as the page; the export itself is audited)."""
    actor, form = acting_user(), AuditFilterForm(formdata=request.args)
    if not form.validate():
        return audit()  # the page, with the errors next to the filters (400)
    where = _filter(form, True)
    events = export_audit_trail(db.session, actor, where, origin=current_origin())
    text = audit_csv(describe_events(db.session, events, actor))
    name = f"audit-{where.state_code or 'all'}-{utcnow():%Y-%m-%d}.csv"
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
