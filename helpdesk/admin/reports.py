"""Administration reports: users not seen for a while, with bulk deactivation (the audit trail: audit_views.py)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.accounts.services import list_inactive_users
from helpdesk.accounts.session import account_policy, current_origin
from helpdesk.accounts.workload import list_open_work
from helpdesk.admin.blueprint import acting_user, bp, scope_state
from helpdesk.admin.forms import BulkDeactivateForm, InactiveFilterForm
from helpdesk.admin.queries import get_managed_user, list_states
from helpdesk.admin.services import deactivate_inactive_users
from helpdesk.extensions import db
from helpdesk.orm import utcnow


def _inactive_page(
    form: InactiveFilterForm, *, status: int = 200, bulk: BulkDeactivateForm | None = None
) -> tuple[str, int]:
    actor = acting_user()
    valid = form.validate()
    state = scope_state(form.state.data if valid else None)
    days = (form.days.data if valid else None) or account_policy().inactive_days
    users = list_inactive_users(db.session, days=days, now=utcnow(), state_code=state)
    work = {user.id: len(list_open_work(db.session, user)) for user in users}
    return render_template(
        "admin/inactive.html",
        form=form,
        bulk=bulk or BulkDeactivateForm(formdata=None),
        users=users,
        work=work,
        days=days,
        state=state,
        states=list_states(db.session) if is_national(actor) else [],
    ), status if valid else 400


@bp.get("/inactive")
def inactive() -> tuple[str, int]:
    """List the active users not seen for the policy's number of days (never-seen: since their creation)."""
    return _inactive_page(InactiveFilterForm(formdata=request.args))


@bp.post("/inactive")
def inactive_deactivate() -> Response | tuple[str, int]:
    """Deactivate the ticked users; those holding open work (or seen meanwhile) are skipped, with the reason."""
    form = BulkDeactivateForm()
    if not form.validate_on_submit():
        flash("Tick at least one user to deactivate.", "error")
        return _inactive_page(InactiveFilterForm(formdata=request.args), status=400, bulk=form)
    actor = acting_user()
    users: list[User] = []
    for user_id in dict.fromkeys(form.user_ids.data or []):
        user = get_managed_user(db.session, actor, user_id)
        if user is None:
            abort(404)  # another state's user, exactly like a missing one: nothing is changed
        users.append(user)
    outcome = deactivate_inactive_users(
        db.session,
        users,
        actor=actor,
        origin=current_origin(),
        now=utcnow(),
        days=form.days.data or account_policy().inactive_days,
    )
    if outcome.deactivated:
        flash(
            f"Deactivated {len(outcome.deactivated)} users: {', '.join(user.email for user in outcome.deactivated)}.",
            "success",
        )
    for user, reason in outcome.skipped:
        flash(f"Skipped {user.name} ({user.email}): {reason}.", "error")
    return redirect(url_for("admin.inactive", days=form.days.data, state=request.args.get("state") or None), 303)
