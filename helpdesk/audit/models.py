"""The audit trail: who did what, when (UTC), from where, with what outcome. Append-only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.orm import Base, utcnow


class AuditEvent(Base):
    """One audited action."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_state_created", "state_code", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    actor_id: Mapped[int | None]
    #: The e-mail the actor gave (also for failed sign-ins of unknown e-mails).
    actor_email: Mapped[str | None] = mapped_column(String(254))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    #: The state whose administrators may read the event (None: national only).
    state_code: Mapped[str | None] = mapped_column(String(2))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(String(1000))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(*_args: object) -> None:
    raise PermissionError("the audit trail is append-only")
