"""What routing needs to know about an agency, read from the database: its people, mailbox and time zone."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, User
from helpdesk.tickets.errors import TicketError
from helpdesk.triage.policy import Tier
from helpdesk.triage.routing import AgencyInfo, Person
from helpdesk.vocabulary import Role


def agency_info(session: Session, agency: Agency) -> AgencyInfo:
    """Return the agency with its active local IT, its state's active compact office and the national office."""
    return agency_infos(session, [agency])[agency.id]


def agency_infos(session: Session, agencies: Iterable[Agency]) -> dict[int, AgencyInfo]:
    """Return the AgencyInfo of several agencies by id, reading their people in one query."""
    agencies = list(agencies)
    ids = {agency.id for agency in agencies}
    states = {agency.state_code for agency in agencies if agency.state_code}
    scopes = [and_(User.role == Role.LOCAL_IT, User.agency_id.in_(ids)), User.role == Role.NATIONAL_ADMIN]
    if states:
        scopes.append(and_(User.role == Role.COMPACT_OFFICE, User.state_code.in_(states)))
    rows = session.execute(
        select(User.id, User.name, User.email, User.role, User.agency_id, User.state_code)
        .where(User.is_active.is_(True), or_(*scopes))
        .order_by(User.name, User.id)
    ).all()
    local: dict[int | None, list[Person]] = {}  # by agency (the column is nullable)
    compact: dict[str | None, list[Person]] = {}  # by state
    national: list[Person] = []
    for user_id, name, email, role, agency_id, state in rows:
        person = Person(user_id, name, email)
        if role == Role.LOCAL_IT:
            local.setdefault(agency_id, []).append(person)
        elif role == Role.COMPACT_OFFICE:
            compact.setdefault(state, []).append(person)
        else:
            national.append(person)
    return {
        agency.id: AgencyInfo(
            id=agency.id,
            name=agency.name,
            state_code=agency.state_code,
            state_name=agency.state.name if agency.state is not None else None,
            time_zone=agency.time_zone,
            it_mailbox=agency.it_mailbox,
            local_it=tuple(local.get(agency.id, ())),
            compact_office=tuple(compact.get(agency.state_code or "", ())),
            national_office=tuple(national),
        )
        for agency in agencies
    }


class AgencyDirectory:
    """AgencyInfo by agency id, read once per run (a sweep touches many tickets of few agencies)."""

    def __init__(self) -> None:
        self._infos: dict[int, AgencyInfo] = {}

    def load(self, session: Session, agency_ids: Iterable[int]) -> None:
        """Read the agencies not read yet, in two queries."""
        missing = set(agency_ids) - set(self._infos)
        if missing:
            agencies = session.scalars(select(Agency).where(Agency.id.in_(missing)))
            self._infos.update(agency_infos(session, agencies))

    def __getitem__(self, agency_id: int) -> AgencyInfo:
        return self._infos[agency_id]


def tier_staff(info: AgencyInfo, tier: Tier) -> tuple[Person, ...]:
    """Return the people who work `tier` for this agency: its local IT, its state's office, or the national office."""
    return {
        Tier.LOCAL_IT: info.local_it,
        Tier.COMPACT_OFFICE: info.compact_office,
        Tier.NATIONAL: info.national_office,
    }[tier]


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
