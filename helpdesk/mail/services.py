"""Queue an e-mail: a row in the outbox, written in the caller's transaction; delivery happens afterwards."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from helpdesk.mail.models import OutboxMessage
from helpdesk.mail.rendering import render_mail

#: The domain part of generated Message-IDs.
MESSAGE_ID_DOMAIN = "helpdesk.local"


def queue_mail(session: Session, *, to: str, kind: str, **context: Any) -> OutboxMessage:
    """Render the mail `kind` for `to` and add it to the outbox; it is sent only if the transaction commits."""
    return queue_rendered(session, to=to, kind=kind, rendered=render_mail(kind, **context))


def queue_rendered(session: Session, *, to: str, kind: str, rendered: tuple[str, str, str | None]) -> OutboxMessage:
    """Add a mail rendered beforehand by `render_mail` (subject, text, HTML) to the outbox."""
    subject, text, html = rendered
    message = OutboxMessage(
        message_id=f"<{secrets.token_hex(16)}@{MESSAGE_ID_DOMAIN}>",
        recipient=to,
        subject=subject,
        body_text=text,
        body_html=html,
        kind=kind,
    )
    session.add(message)
    return message
