"""Administration actions beyond single-user changes: finding agencies, bulk deactivation, audit reading."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, State, User
from helpdesk.accounts.permissions import can_read_audit
from helpdesk.accounts.services import AccountError, deactivate_user
from helpdesk.accounts.workload import list_open_work
from helpdesk.admin.audit_queries import AuditFilter, iter_audit_events, list_audit_events
from helpdesk.admin.queries import PER_PAGE
from helpdesk.audit.models import AuditEvent
from helpdesk.audit.services import Origin, record_event
from helpdesk.pagination import Page
from helpdesk.vocabulary import AgencyKind, Role


def home_agency(session: Session, state_code: str | None, name: str | None, role: str) -> Agency:
    """Return the agency named `name` of the state, or the default for `role`; raise AccountError when unclear."""
    if role == Role.NATIONAL_ADMIN or state_code is None:
        if state_code is not None:
            raise AccountError("National office administrators belong to the National Office: leave out the state.")
        national = session.scalars(select(Agency).where(Agency.kind == AgencyKind.NATIONAL)).first()
        if national is None or (name and name.strip().lower() != national.name.lower()):
            raise AccountError("Users without a state belong to the National Office.")
        return national
    state = session.get(State, state_code.upper())
    if state is None:
        raise AccountError(f"Unknown state {state_code!r}: use a two-letter code such as TX.")
    agencies = list(session.scalars(select(Agency).where(Agency.state_code == state.code).order_by(Agency.name)))
    if name:
        found = [a for a in agencies if a.name.lower() == " ".join(name.split()).lower()]
        if found:
            return found[0]
        raise AccountError(
            f"{state.name} has no agency named {name!r}; its agencies are: {'; '.join(a.name for a in agencies)}."
        )
    office = [a for a in agencies if a.kind == AgencyKind.COMPACT_OFFICE]
    if role == Role.COMPACT_OFFICE and office:
        return office[0]
    local = [a for a in agencies if a.kind == AgencyKind.LOCAL]
    if len(local) == 1:
        return local[0]
    raise AccountError(f"Name the agency with --agency; {state.name} has: {'; '.join(a.name for a in agencies)}.")


@dataclass(slots=True)
class BulkOutcome:
    """What a bulk deactivation did: who was deactivated, who was skipped and why."""

    deactivated: list[User] = field(default_factory=list)
    skipped: list[tuple[User, str]] = field(default_factory=list)


def deactivate_inactive_users(
    session: Session, users: list[User], *, actor: User | None, origin: Origin, now: dt.datetime, days: int
) -> BulkOutcome:
    """Deactivate users still unseen for `days` days; skip (with the reason) those who hold work or came back."""
    outcome = BulkOutcome()
    cutoff = now - dt.timedelta(days=days)
    for user in users:
        work = list_open_work(session, user)
        if not user.is_active:
            outcome.skipped.append((user, "already deactivated"))
        elif (user.last_seen_at or user.created_at) >= cutoff:
            outcome.skipped.append((user, f"signed in within the last {days} days"))
        elif work:
            outcome.skipped.append((user, f"holds {len(work)} open items: reassign them from the user's page"))
        else:
            try:
                deactivate_user(session, user, actor=actor, origin=origin, now=now)
            except AccountError as exc:
                outcome.skipped.append((user, str(exc)))
            else:
                outcome.deactivated.append(user)
    return outcome


def read_audit_trail(
    session: Session, actor: User, where: AuditFilter, *, page: int = 1, origin: Origin, per_page: int = PER_PAGE
) -> Page[AuditEvent]:
    """Return a page of the audit trail matching `where` (state None: every state), and audit the reading itself."""
    if not can_read_audit(actor, where.state_code):
        raise PermissionError("not allowed to read this audit trail")
    events = list_audit_events(session, where, page=page, per_page=per_page)
    record_event(
        session,
        "audit_viewed",
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        state_code=where.state_code,
        detail=f"{where.describe()}, page {events.page}",
    )
    return events


def export_audit_trail(session: Session, actor: User, where: AuditFilter, *, origin: Origin) -> list[AuditEvent]:
    """Return every event matching `where` (up to the export limit) for a CSV file, and audit the export."""
    if not can_read_audit(actor, where.state_code):
        raise PermissionError("not allowed to read this audit trail")
    events = [event for batch in iter_audit_events(session, where) for event in batch]
    record_event(
        session,
        "audit_exported",
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        state_code=where.state_code,
        detail=f"{where.describe()}: {len(events)} rows",
    )
    return events
