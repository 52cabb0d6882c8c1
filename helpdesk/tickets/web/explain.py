"""Routing preview: where a report of a category from an agency would go, and why (as `helpdesk triage explain`)."""

from __future__ import annotations

import shlex
from itertools import groupby

import yaml
from flask import abort, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, User
from helpdesk.admin.forms import choices
from helpdesk.extensions import db
from helpdesk.kb import get_library
from helpdesk.tickets.agencies import agency_info
from helpdesk.tickets.web.blueprint import acting_user, bp, triage
from helpdesk.tickets.web.queue_forms import ExplainForm, TryPolicyForm
from helpdesk.triage.explain import explain_lines, titles_from
from helpdesk.triage.policy import PolicyError, TriagePolicy, load_policy
from helpdesk.vocabulary import Role

NOT_ALLOWED = "The routing preview is for compact office staff (their state's agencies) and national staff."


def preview_agencies(session: Session, user: User) -> list[Agency]:
    """Return the agencies the user may preview: their state's (compact office) or every one (national staff)."""
    query = select(Agency).order_by(Agency.state_code, Agency.name)
    if user.is_active and user.role == Role.NATIONAL_ADMIN:
        return list(session.scalars(query))
    if user.is_active and user.role == Role.COMPACT_OFFICE and user.state_code:
        return list(session.scalars(query.where(Agency.state_code == user.state_code)))
    raise PermissionError(NOT_ALLOWED)


def _state_of(agency: Agency) -> str | None:
    return agency.state_code


def command_line(category: str, agency: Agency) -> str:
    """Return the shell command that prints the same preview."""
    state = f" --state {agency.state_code}" if agency.state_code else ""
    return f"helpdesk triage explain --category {shlex.quote(category)} --agency {shlex.quote(agency.name)}{state}"


def tried_policy(text: str) -> TriagePolicy:
    """Return the current policy with `text` as its routing.yml, validated by the policy loader (never saved)."""
    try:
        aliases = any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        aliases = False  # the loader below reports the error with its line
    if aliases:  # an alias can make a small text a huge document
        raise PolicyError("routing.yml: anchors and aliases (& and *) are not accepted in a pasted policy")
    return load_policy(triage().directory, routing_text=text)


@bp.route("/triage/explain", methods=["GET", "POST"], endpoint="explain")
def explain_page() -> tuple[str, int]:
    """Show the preview form and, once a category and an agency are chosen, the preview (with a policy to try)."""
    try:
        agencies = preview_agencies(db.session, acting_user())
    except PermissionError:
        abort(403, NOT_ALLOWED)
    policy = triage().policy
    posted = request.method == "POST"
    form: ExplainForm | TryPolicyForm = (
        TryPolicyForm() if posted else ExplainForm(formdata=request.args if request.args else None)
    )
    form.category.choices = choices((c.code, c.label) for c in policy.categories.values())
    lines, agency, error, policy_error, tried = None, None, None, None, False
    if posted or request.args:
        by_id = {str(a.id): a for a in agencies}
        text = (form.policy.data or "").strip() if isinstance(form, TryPolicyForm) else ""
        if not form.validate():
            error = "Correct what is marked below, then preview again."
            if isinstance(form, TryPolicyForm) and form.policy.errors:
                policy_error = str(form.policy.errors[0])
        elif (agency := by_id.get(form.agency.data or "")) is None:
            error = "Choose an agency from the list: that one is unknown or not in your state."
            form.agency.errors = [*form.agency.errors, "Not one of the agencies you may preview."]
        else:
            try:
                used, tried = (tried_policy(text), True) if text else (policy, False)
            except PolicyError as exc:
                error, policy_error = "The pasted policy cannot be used: nothing was previewed.", str(exc)
            else:
                lines = explain_lines(
                    used, form.category.data or "", agency_info(db.session, agency), titles_from(get_library())
                )
    return render_template(
        "tickets/explain.html",
        form=form,
        lines=lines,
        agency=agency,
        error=error,
        policy_error=policy_error,
        tried=tried,
        policy_text=form.policy.data if isinstance(form, TryPolicyForm) else "",
        groups=[(state or "National office", list(group)) for state, group in groupby(agencies, _state_of)],
        command=command_line(form.category.data or "", agency) if lines and agency and not tried else None,
    ), 400 if error else 200
