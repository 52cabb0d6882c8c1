"""Who may see which insights, over which people and period (no Flask: the pages, API and CLI share it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.domain_errors import DomainError
from helpdesk.search.learning import person_of
from helpdesk.vocabulary import Role

Report = Literal["content", "desk"]
DEFAULT_DAYS = 30
MAX_DAYS = 366
#: Who sees each report, and how far: "all" (every state, a state filter), "state" (their own), "agency".
REACH: dict[Report, dict[str, str]] = {
    # Editors close the content gaps: the national office's see every state, a state's editors their state.
    "content": {Role.NATIONAL_ADMIN: "all", Role.COMPACT_OFFICE: "state", Role.KB_EDITOR: "editor"},
    "desk": {
        Role.NATIONAL_ADMIN: "all",
        Role.COMPACT_OFFICE: "state",
        Role.STATE_ADMIN: "state",
        Role.PO_SUPERVISOR: "agency",
        Role.LOCAL_IT: "agency",
    },
}


class ReportInputError(DomainError):
    """A bad period or state: the message says what is accepted."""

    code = "invalid_period"


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose activity a report covers: every state (state None), one state, or one agency."""

    state: str | None = None
    agency_id: int | None = None

    @property
    def everyone(self) -> bool:
        """Tell whether the report covers every state, signed-out visitors included."""
        return self.state is None and self.agency_id is None

    def label(self) -> str:
        """Return the scope in words."""
        return "every state" if self.everyone else (f"agency {self.agency_id}" if self.agency_id else self.state or "")


@dataclass(frozen=True, slots=True)
class Period:
    """A range of whole UTC days, both ends included."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        """Return the first instant of the period."""
        return dt.datetime.combine(self.first, dt.time(), tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """Return the instant just after the period."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def days(self) -> list[dt.date]:
        """Return every day of the period."""
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def can_see(user: User, report: Report) -> bool:
    """Tell whether the user may open a report at all."""
    return user.is_active and user.role in REACH[report]


def report_scope(user: User, report: Report, state: str | None = None) -> Scope:
    """Return the scope of `user`'s report; a state filter beyond their reach raises PermissionError."""
    reach = REACH[report].get(user.role) if user.is_active else None
    if reach is None:
        raise PermissionError("this report is not open to your role")
    state = (state or "").strip().upper() or None
    if reach == "editor":
        reach = "state" if user.state_code else "all"
    if reach == "all":
        return Scope(state=state)
    if state is not None and state != user.state_code:
        raise PermissionError("you can see the activity of your own state only")
    if reach == "agency":
        return Scope(state=user.state_code, agency_id=user.agency_id)
    return Scope(state=user.state_code)


def parse_period(first: str | None, last: str | None, *, today: dt.date) -> Period:
    """Return the period of `from`/`to` ISO dates (default: the last 30 days to today); bad input raises."""
    try:
        end = dt.date.fromisoformat(last) if last else today
        start = dt.date.fromisoformat(first) if first else end - dt.timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise ReportInputError("from and to must be dates such as 2026-03-31") from None
    if start > end:
        raise ReportInputError("from must not come after to")
    if (end - start).days >= MAX_DAYS:
        raise ReportInputError(f"a report covers at most {MAX_DAYS} days")
    return Period(start, end)


def scope_people(session: Session, scope: Scope) -> list[str] | None:
    """Return the search log's names (hashes) of the people in scope, or None for everyone (no filter)."""
    if scope.everyone:
        return None
    query = select(User.id)
    query = (
        query.where(User.agency_id == scope.agency_id)
        if scope.agency_id
        else query.where(User.state_code == scope.state)
    )
    return [person_of(f"u:{user_id}") for user_id in session.scalars(query)]


def scope_voter_keys(session: Session, scope: Scope) -> list[str] | None:
    """Return the vote keys of the people in scope ("u:<id>"), or None for everyone."""
    if scope.everyone:
        return None
    query = select(User.id)
    query = (
        query.where(User.agency_id == scope.agency_id)
        if scope.agency_id
        else query.where(User.state_code == scope.state)
    )
    return [f"u:{user_id}" for user_id in session.scalars(query)]


def is_everywhere(user: User) -> bool:
    """Tell whether the user sees every state (and gets a state filter)."""
    return is_national(user)
