"""The `tickets` blueprint and its gate: every request page needs a signed-in user; helpers the views share."""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_login import current_user
from werkzeug.wrappers import Response

from helpdesk.accounts.session import acting_user as acting_user  # re-exported: the ticket views import it here
from helpdesk.extensions import db, login_manager
from helpdesk.tickets.context import EXTENSION_KEY, Triage
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.queries import get_visible_ticket

bp = Blueprint("tickets", __name__)


@bp.before_request
def _require_sign_in() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # to the sign-in page, coming back here afterwards
    return None


def triage() -> Triage:
    """Return the app's triage policy and link builder."""
    found: Triage = current_app.extensions[EXTENSION_KEY]
    return found


def ticket_or_404(ticket_id: int) -> Ticket:
    """Return a ticket the signed-in user may see; one they may not answers 404, exactly like a missing one."""
    ticket = get_visible_ticket(db.session, acting_user(), ticket_id)
    if ticket is None:
        abort(404)
    return ticket
