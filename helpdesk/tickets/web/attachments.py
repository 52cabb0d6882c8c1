"""Downloading a ticket's attachment: only for people who may see the ticket, always as a download."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, send_file
from werkzeug.wrappers import Response

from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db
from helpdesk.tickets.attachments import CONTENT_TYPES, DEFAULT_MAX_BYTES, stored_path
from helpdesk.tickets.history import record_ticket_access
from helpdesk.tickets.models import Attachment
from helpdesk.tickets.web.blueprint import acting_user, bp, ticket_or_404

#: A download is never a page: no script, no plugin, no frame, even if a browser were to render it.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def attachment_dir() -> Path:
    """Return where attachments are stored: the instance folder, outside the web root and the static files."""
    return Path(current_app.config["INSTANCE_DIR"]) / "attachments"


def max_attachment_bytes() -> int:
    """Return the size limit of one attachment (ATTACHMENT_MAX_BYTES, default 3 MB)."""
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


@bp.get("/requests/<id:ticket_id>/attachments/<id:attachment_id>")
def attachment(ticket_id: int, attachment_id: int) -> Response:
    """Send an attachment of a ticket the user may see; another ticket's attachment answers 404."""
    ticket = ticket_or_404(ticket_id)
    found = db.session.get(Attachment, attachment_id)
    if found is None or found.ticket_id != ticket.id:
        abort(404)
    path = stored_path(attachment_dir(), found.storage_name)
    if not path.is_file():
        current_app.logger.error("attachment %s of ticket %s is missing from %s", found.id, ticket.id, path)
        abort(404)
    # Only the types we accept are served as themselves (text with charset=utf-8, added by send_file); anything else
    # (never expected) as opaque bytes.
    mimetype = found.content_type if found.content_type in CONTENT_TYPES else "application/octet-stream"
    record_ticket_access(
        db.session,
        actor=acting_user(),
        origin=current_origin(),
        action="ticket_attachment_read",
        ticket=ticket,
        detail=f"attachment {found.id}: {found.filename}",
    )
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=True,
        download_name=found.filename,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response
