"""Reads for the administration pages, always scoped to the states the acting administrator manages (no Flask)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, State, User
from helpdesk.accounts.permissions import can_manage, is_national
from helpdesk.audit.models import AuditEvent
from helpdesk.pagination import Page

T = TypeVar("T")
PER_PAGE = 50
#: User statuses the list can filter on.
STATUSES = {"active": "Active", "locked": "Locked", "deactivated": "Deactivated"}


@dataclass(frozen=True, slots=True)
class UserFilter:
    """What the users list is narrowed to; `state_code` None means every state (national administrators)."""

    state_code: str | None = None
    text: str = ""
    role: str = ""
    agency_id: int | None = None
    status: str = ""


def _paginate(session: Session, query: Select[T], page: int, per_page: int = PER_PAGE) -> Page[T]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, page)
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)


def get_managed_user(session: Session, actor: User, user_id: int) -> User | None:
    """Return the user when `actor` may administer them; a user of another state is as absent as a missing one."""
    user = session.get(User, user_id)
    return user if user is not None and can_manage(actor, user.state_code) else None


def get_managed_state(session: Session, actor: User, code: str) -> State | None:
    """Return the state `code` when `actor` may administer its users."""
    state = session.get(State, code.upper()) if len(code) == 2 else None
    return state if state is not None and can_manage(actor, state.code) else None


def list_states(session: Session) -> list[State]:
    """Return every member state, by name."""
    return list(session.scalars(select(State).order_by(State.name)))


def list_agencies(session: Session, actor: User, state_code: str | None = None) -> list[Agency]:
    """Return the agencies `actor` may put users in (a national administrator: every one, or one state's)."""
    query = select(Agency).order_by(Agency.state_code.is_(None).desc(), Agency.state_code, Agency.kind, Agency.name)
    if not is_national(actor):
        query = query.where(Agency.state_code == actor.state_code)
    elif state_code is not None:
        query = query.where(Agency.state_code == state_code)
    return [agency for agency in session.scalars(query) if can_manage(actor, agency.state_code)]


def search_users(session: Session, where: UserFilter, *, now: dt.datetime, page: int = 1) -> Page[User]:
    """Return one page of users matching `where`, by name."""
    query = select(User).order_by(func.lower(User.name), User.id)
    if where.state_code is not None:
        query = query.where(User.state_code == where.state_code)
    if where.text:
        query = query.where(
            or_(User.name.icontains(where.text, autoescape=True), User.email.icontains(where.text, autoescape=True))
        )
    if where.role:
        query = query.where(User.role == where.role)
    if where.agency_id is not None:
        query = query.where(User.agency_id == where.agency_id)
    if where.status == "active":
        query = query.where(User.is_active.is_(True))
    elif where.status == "deactivated":
        query = query.where(User.is_active.is_(False))
    elif where.status == "locked":
        query = query.where(User.is_active.is_(True), User.locked_until > now)
    return _paginate(session, query, page)


def list_colleagues(session: Session, user: User) -> list[User]:
    """Return the other active users of the user's state, who may take over the user's work."""
    same_state = (User.state_code == user.state_code) if user.state_code else User.state_code.is_(None)
    query = select(User).where(same_state, User.is_active.is_(True), User.id != user.id)
    return list(session.scalars(query.order_by(func.lower(User.name), User.id)))


def list_user_events(session: Session, user: User, limit: int = 20) -> list[AuditEvent]:
    """Return the latest audit events about `user` (as target or actor)."""
    query = (
        select(AuditEvent)
        .where(
            or_(
                (AuditEvent.target_type == "user") & (AuditEvent.target_id == str(user.id)),
                AuditEvent.actor_id == user.id,
            )
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
