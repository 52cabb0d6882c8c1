"""Reading the audit trail: one filter (state, action, person, dates) for the page and its CSV export (no Flask)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.pagination import Page

T = TypeVar("T")
#: The most people a person filter may match (a filter that broad narrows nothing).
MAX_PEOPLE = 500
#: The most rows one CSV export holds (narrow the filters for more).
MAX_EXPORT = 20_000


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the audit trail is narrowed to; `state_code` None means every state (national staff)."""

    state_code: str | None = None
    action: str = ""
    person: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def describe(self) -> str:
        """Return the filter in words, for the audit row that records its reading."""
        parts = [self.state_code or "all states"]
        if self.action:
            parts.append(f"action {self.action}")
        if self.person:
            parts.append(f"person {self.person!r}")
        if self.since or self.until:
            parts.append(f"from {self.since or 'the start'} to {self.until or 'today'}")
        return ", ".join(parts)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _person(session: Session, text: str, state_code: str | None) -> ColumnElement[bool]:
    """Events done by, or done to, people whose name or e-mail contains `text` (within the scope)."""
    people = select(User.id).where(
        or_(User.name.icontains(text, autoescape=True), User.email.icontains(text, autoescape=True))
    )
    if state_code is not None:
        people = people.where(User.state_code == state_code)
    ids = list(session.scalars(people.limit(MAX_PEOPLE)))
    return or_(
        AuditEvent.actor_email.icontains(text, autoescape=True),
        AuditEvent.actor_id.in_(ids) if ids else false(),
        (AuditEvent.target_type == "user") & AuditEvent.target_id.in_([str(i) for i in ids]) if ids else false(),
    )


def audit_query(session: Session, where: AuditFilter) -> Select[AuditEvent]:
    """Return the events matching `where`, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if where.state_code is not None:
        query = query.where(AuditEvent.state_code == where.state_code)
    if where.action:
        query = query.where(AuditEvent.action == where.action)
    if where.person:
        query = query.where(_person(session, where.person, where.state_code))
    if where.since:
        query = query.where(AuditEvent.created_at >= _start_of(where.since))
    if where.until:  # the whole of the last day
        query = query.where(AuditEvent.created_at < _start_of(where.until + dt.timedelta(days=1)))
    return query


def list_audit_actions(session: Session, state_code: str | None) -> list[str]:
    """Return the distinct actions recorded in the scope (None: every state)."""
    query = select(AuditEvent.action).distinct()
    if state_code is not None:
        query = query.where(AuditEvent.state_code == state_code)
    return sorted(session.scalars(query))


def list_audit_events(session: Session, where: AuditFilter, *, page: int = 1, per_page: int = 50) -> Page[AuditEvent]:
    """Return one page of the events matching `where`, newest first."""
    query = audit_query(session, where)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, page)
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)


def iter_audit_events(session: Session, where: AuditFilter, *, batch: int = 1000) -> Iterator[list[AuditEvent]]:
    """Yield the events matching `where` (at most MAX_EXPORT), newest first, in batches."""
    # Rows added meanwhile (this export's own audit row included) have higher ids: fixing the top keeps offsets true.
    top = session.scalar(select(func.max(AuditEvent.id))) or 0
    query = audit_query(session, where).where(AuditEvent.id <= top)
    for offset in range(0, MAX_EXPORT, batch):
        rows = list(session.scalars(query.limit(min(batch, MAX_EXPORT - offset)).offset(offset)))
        if rows:
            yield rows
        if len(rows) < batch:
            return
