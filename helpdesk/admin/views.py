"""User administration pages: the users list, creating a user, and one user's page with its actions (no delete)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from helpdesk.accounts.agencies import set_state_mfa
from helpdesk.accounts.auth import is_locked
from helpdesk.accounts.forms import EmptyForm
from helpdesk.accounts.models import ROLES, Agency, State, User
from helpdesk.accounts.permissions import assignable_roles, is_national
from helpdesk.accounts.services import (
    TAKEOVER_WORDS,
    AccountError,
    change_role,
    create_user,
    deactivate_user,
    reactivate_user,
    unlock_user,
)
from helpdesk.accounts.session import account_policy, current_origin
from helpdesk.accounts.workload import list_open_work, list_work_takers
from helpdesk.admin.audit_rows import describe_events
from helpdesk.admin.blueprint import acting_user, bp, scope_state, user_or_404
from helpdesk.admin.forms import (
    CreateUserForm,
    DeactivateForm,
    RoleForm,
    StateSettingsForm,
    UserFilterForm,
    choices,
)
from helpdesk.admin.queries import (
    UserFilter,
    get_managed_user,
    list_agencies,
    list_colleagues,
    list_states,
    list_user_events,
    search_users,
)
from helpdesk.extensions import db
from helpdesk.forms import SelectChoice
from helpdesk.orm import utcnow

ViewResult = Response | tuple[str, int]


def _role_choices(actor: User) -> list[SelectChoice]:
    return choices((role, ROLES[role]) for role in assignable_roles(actor))


@bp.get("/")
def index() -> Response:
    """Send the administration home to the users list."""
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users() -> tuple[str, int]:
    """List the users of the actor's state (national staff: every state), with search and filters."""
    actor, form = acting_user(), UserFilterForm(formdata=request.args)
    valid = form.validate()
    state = scope_state(form.state.data if valid else None)
    where = UserFilter(state_code=state)
    if valid:
        where = UserFilter(
            state_code=state,
            text=(form.q.data or "").strip(),
            role=form.role.data or "",
            agency_id=int(form.agency.data) if form.agency.data else None,
            status=form.status.data or "",
        )
    now = utcnow()
    found = search_users(db.session, where, now=now, page=(form.page.data or 1) if valid else 1)
    return render_template(
        "admin/users.html",
        form=form,
        found=found,
        state=state,
        now=now,
        is_locked=is_locked,
        agencies=list_agencies(db.session, actor, state),
        states=list_states(db.session) if is_national(actor) else [],
    ), 200 if valid else 400


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> ViewResult:
    """Create a user of the actor's state; the service mails the first-time link to choose a password."""
    actor, form = acting_user(), CreateUserForm()
    agencies = list_agencies(db.session, actor)
    form.agency.choices = choices((a.id, a.name) for a in agencies)
    form.role.choices = _role_choices(actor)
    error = None
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency.data)
        assert agency is not None  # one of the choices offered above
        try:
            user = create_user(
                db.session,
                actor=actor,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                agency=agency,
                origin=current_origin(),
                now=utcnow(),
                policy=account_policy(),
            )
        except AccountError as exc:  # the form is shown again with the reason; the 400 rolls the request back
            error = str(exc)
        else:
            flash(
                f"Account created for {user.name}. A link to choose a password was e-mailed to {user.email}.", "success"
            )
            return redirect(url_for("admin.user", user_id=user.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/new_user.html", form=form, agencies=agencies, error=error), status


def _user_page(
    user: User,
    *,
    error: str | None = None,
    status: int = 200,
    deactivate_form: DeactivateForm | None = None,
    role_form: RoleForm | None = None,
) -> tuple[str, int]:
    actor = acting_user()
    if role_form is None:
        role_form = RoleForm(formdata=None, data={"role": user.role})
    role_form.role.choices = _role_choices(actor)
    work = list_open_work(db.session, user)
    return render_template(
        "admin/user.html",
        user=user,
        error=error,
        work=work,
        locked=is_locked(user, utcnow()),
        colleagues=list_work_takers(db.session, user, list_colleagues(db.session, user))
        if work and user.is_active
        else [],
        role_form=role_form,
        deactivate_form=deactivate_form or DeactivateForm(formdata=None),
        action_form=EmptyForm(formdata=None),
        events=describe_events(db.session, list_user_events(db.session, user), actor),
    ), status


@bp.get("/users/<id:user_id>")
def user(user_id: int) -> tuple[str, int]:
    """Show one user: details, open work, history, and the actions (change role, unlock, (de)activate)."""
    return _user_page(user_or_404(user_id))


def _done(user: User, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=user.id), 303)


@bp.post("/users/<id:user_id>/role")
def user_role(user_id: int) -> ViewResult:
    """Give the user another role (their sessions end so that the new rights apply at once)."""
    user, form = user_or_404(user_id), RoleForm()
    form.role.choices = _role_choices(acting_user())
    if not form.validate_on_submit():
        return _user_page(user, error="Choose one of the roles offered.", status=400, role_form=form)
    try:
        change_role(db.session, user, form.role.data or "", actor=acting_user(), origin=current_origin())
    except AccountError as exc:
        db.session.rollback()  # the page shows the user as saved, not as the refused change left them in memory
        return _user_page(user, error=str(exc), status=exc.status, role_form=form)
    return _done(user, f"{user.name} is now {user.role_label}.")


@bp.post("/users/<id:user_id>/unlock")
def user_unlock(user_id: int) -> ViewResult:
    """Release a lockout caused by failed sign-ins."""
    user = user_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        return _user_page(user, error="The form has expired: please try again.", status=400)
    unlock_user(db.session, user, actor=acting_user(), origin=current_origin())
    return _done(user, f"{user.name} can sign in again.")


@bp.post("/users/<id:user_id>/deactivate")
def user_deactivate(user_id: int) -> ViewResult:
    """Deactivate the user; open work must go to an active colleague of the same state in the same step."""
    user, form = user_or_404(user_id), DeactivateForm()
    if not form.validate_on_submit():
        return _user_page(user, error="Choose a colleague from the list.", status=400, deactivate_form=form)
    if not user.is_active:
        flash(f"{user.name} is already deactivated.", "info")
        return redirect(url_for("admin.user", user_id=user.id), 303)
    target = None
    if form.reassign_to.data:
        target = get_managed_user(db.session, acting_user(), int(form.reassign_to.data))
        if target is None:  # another state's user, exactly like a missing one
            return _user_page(user, error=TAKEOVER_WORDS, status=400, deactivate_form=form)
    try:  # the service checks the taker by the rule the list offers by (TakeoverError: 400)
        moved = deactivate_user(
            db.session, user, actor=acting_user(), origin=current_origin(), now=utcnow(), reassign_to=target
        )
    except AccountError as exc:
        db.session.rollback()  # the page shows the user as saved, not as the refused change left them in memory
        return _user_page(user, error=str(exc), status=exc.status, deactivate_form=form)
    handed = f" {moved} open items went to {target.name}." if target is not None and moved else ""
    return _done(user, f"{user.name} is deactivated and signed out everywhere.{handed}")


@bp.post("/users/<id:user_id>/reactivate")
def user_reactivate(user_id: int) -> ViewResult:
    """Let a deactivated user sign in again."""
    user = user_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        return _user_page(user, error="The form has expired: please try again.", status=400)
    reactivate_user(db.session, user, actor=acting_user(), origin=current_origin())
    return _done(user, f'{user.name} is active again and can sign in (or use "What was my password again?").')


@bp.route("/state", methods=["GET", "POST"])
def state_settings() -> ViewResult:
    """Show and change the settings of the actor's state (national staff: ?state=XX)."""
    code = scope_state(request.args.get("state"))
    if code is None:  # national staff choose a state first
        return render_template("admin/state.html", state=None, states=list_states(db.session), form=None), 200
    state = db.session.get(State, code)
    if state is None:
        abort(404)
    form = StateSettingsForm(data={"require_mfa": state.requires_mfa})
    if form.validate_on_submit():
        set_state_mfa(
            db.session, state, required=bool(form.require_mfa.data), actor=acting_user(), origin=current_origin()
        )
        flash(
            f"{state.name}: a second factor is now {'required of every user' if state.requires_mfa else 'optional'}"
            " (from each user's next sign-in).",
            "success",
        )
        return redirect(url_for("admin.state_settings", state=state.code), 303)
    return render_template("admin/state.html", form=form, state=state), 400 if form.errors else 200
