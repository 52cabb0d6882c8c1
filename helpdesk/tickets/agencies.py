"""What routing needs to know about an agency, read from the database: its people, mailbox and time zone."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, State, User
from helpdesk.tickets.context import TicketError
from helpdesk.tickets.policy import Tier
from helpdesk.tickets.routing import AgencyInfo, Person

#: The role that works each tier (as in permissions.TIER_ROLES).
TIER_ROLE = {Tier.LOCAL_IT: "local_it", Tier.COMPACT_OFFICE: "compact_office", Tier.NATIONAL: "national_admin"}


def agency_info(session: Session, agency: Agency) -> AgencyInfo:
    """Return the agency with its active local IT, its state's active compact office and the national office."""
    scopes = [and_(User.role == "local_it", User.agency_id == agency.id), User.role == "national_admin"]
    if agency.state_code:
        scopes.append(and_(User.role == "compact_office", User.state_code == agency.state_code))
    rows = session.execute(select(User.id, User.name, User.email, User.role)
                           .where(User.is_active.is_(True), or_(*scopes)).order_by(User.name, User.id)).all()
    people: dict[str, list[Person]] = {"local_it": [], "compact_office": [], "national_admin": []}
    for user_id, name, email, role in rows:
        people[role].append(Person(user_id, name, email))
    state_name = agency.state.name if agency.state is not None else None
    return AgencyInfo(
        id=agency.id, name=agency.name, state_code=agency.state_code, state_name=state_name,
        time_zone=agency.time_zone, it_mailbox=agency.it_mailbox, local_it=tuple(people["local_it"]),
        compact_office=tuple(people["compact_office"]), national_office=tuple(people["national_admin"]),
    )


class AgencyDirectory:
    """AgencyInfo by agency id, read once per run (a sweep touches many tickets of few agencies)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._infos: dict[int, AgencyInfo] = {}

    def get(self, agency: Agency) -> AgencyInfo:
        """Return the agency's info, from the cache when already read."""
        if agency.id not in self._infos:
            self._infos[agency.id] = agency_info(self._session, agency)
        return self._infos[agency.id]

    def rebind(self, session: Session) -> None:
        """Use another session for the agencies not read yet (a sweep opens one per batch)."""
        self._session = session


def tier_staff(info: AgencyInfo, tier: Tier) -> tuple[Person, ...]:
    """Return the people who work `tier` for this agency: its local IT, its state's office, or the national office."""
    return {Tier.LOCAL_IT: info.local_it, Tier.COMPACT_OFFICE: info.compact_office,
            Tier.NATIONAL: info.national_office}[tier]


def active_users(session: Session, ids: Iterable[int]) -> dict[int, User]:
    """Return the active users among `ids`, by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    users = session.scalars(select(User).where(User.id.in_(wanted), User.is_active.is_(True)))
    return {user.id: user for user in users}


def find_agency(session: Session, name: str, state_code: str | None = None) -> Agency:
    """Return the agency called `name` (in `state_code`), or raise TicketError naming the candidates."""
    query = select(Agency).where(func.lower(Agency.name) == " ".join(name.split()).lower())
    if state_code:
        query = query.where(Agency.state_code == state_code.strip().upper())
    matches = list(session.scalars(query.order_by(Agency.state_code)))
    if len(matches) == 1:
        return matches[0]
    where = f" in {state_code.upper()}" if state_code else ""
    if not matches:
        raise TicketError(f"No agency is called {name!r}{where}.")
    states = ", ".join(agency.state_code or "national" for agency in matches)
    raise TicketError(f"Several agencies are called {name!r} ({states}): give the state with --state.")


def state_name(session: Session, code: str | None) -> str | None:
    """Return a state's name, or None."""
    state = session.get(State, code) if code else None
    return state.name if state else None
