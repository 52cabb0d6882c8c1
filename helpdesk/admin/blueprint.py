"""The `admin` blueprint and its gate: signed-in administrators only, each confined to the states they manage."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import can_manage, is_national
from helpdesk.accounts.session import acting_user as acting_user  # re-exported: the admin views import it here
from helpdesk.accounts.session import require_recent_sign_in
from helpdesk.admin.queries import get_managed_state, get_managed_user
from helpdesk.extensions import db, login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")


def is_admin(user: User) -> bool:
    """Return whether the user administers users at all (a state's, or every state's)."""
    return can_manage(user, user.state_code)


@bp.before_request
def _require_admin() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # to the sign-in page, coming back here afterwards
    if not is_admin(current_user):
        abort(403)
    if request.method == "POST":
        # Changes to accounts need a recent sign-in; the form's page is where the administrator comes back to.
        return require_recent_sign_in(_form_page())
    return None


def _form_page() -> str:
    """Return the admin page the form was posted from (same site only), to come back to after signing in."""
    referrer = urlsplit(request.referrer or "")
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    same_site = referrer.netloc in ("", request.host)
    return path if same_site and path.startswith("/admin") else url_for("admin.users")


def user_or_404(user_id: int) -> User:
    """Return a user the actor may administer; another state's user answers 404, exactly like a missing one."""
    user = get_managed_user(db.session, acting_user(), user_id)
    if user is None:
        abort(404)
    return user


def scope_state(code: str | None) -> str | None:
    """Return the state a page shows: a state administrator's own; for national staff `code`, or None for all."""
    actor = acting_user()
    code = (code or "").strip().upper() or None
    if not is_national(actor):
        if code is not None and code != actor.state_code:
            abort(404)
        return actor.state_code
    if code is not None and get_managed_state(db.session, actor, code) is None:
        abort(404)
    return code
