"""Write audit events in the caller's transaction (services call this; it never commits)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from helpdesk.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an action came from: the client address (from a trusted proxy hop only) and user agent."""

    ip: str | None = None
    user_agent: str | None = None


#: Actions done by the system itself (CLI, background jobs) have no network origin.
SYSTEM = Origin(ip=None, user_agent="helpdesk cli")
#: The actor_email of a change no person made: the help desk itself (sweeps, the deactivation hook).
SYSTEM_ACTOR = "system"
#: The actor_email of a change made by an operator's command at the server (`helpdesk users ...`).
CLI_ACTOR = "cli"


def _one_line(text: str | None, limit: int) -> str | None:
    # CR/LF would let a value forge a second log line in exports of the trail.
    return None if text is None else " ".join(text.split())[:limit]


def record_event(
    session: Session,
    action: str,
    *,
    origin: Origin,
    actor_id: int | None = None,
    actor_email: str | None = None,
    outcome: str = "success",
    target_type: str | None = None,
    target_id: object = None,
    state_code: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add one audit event to the session (flushed with the change it records)."""
    event = AuditEvent(
        action=action,
        outcome=outcome,
        actor_id=actor_id,
        actor_email=_one_line(actor_email, 254),
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        state_code=state_code,
        ip=_one_line(origin.ip, 45),
        user_agent=_one_line(origin.user_agent, 255),
        detail=_one_line(detail, 1000),
    )
    session.add(event)
    return event
