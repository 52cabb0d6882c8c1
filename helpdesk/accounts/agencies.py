"""Organisation settings: create agencies (offices) of a state, require a second factor in a state (no Flask)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, State, User
from helpdesk.accounts.permissions import can_manage
from helpdesk.accounts.policy import AccountPolicy
from helpdesk.accounts.services import AccountError, check_email
from helpdesk.audit.services import CLI_ACTOR, Origin, record_event
from helpdesk.text import clean_line
from helpdesk.vocabulary import AgencyKind


def create_agency(
    session: Session,
    *,
    actor: User | None,
    state_code: str,
    name: str,
    origin: Origin,
    policy: AccountPolicy,
    it_mailbox: str | None = None,
    time_zone: str | None = None,
) -> Agency:
    """Create a local agency of a state (the compact offices and the national office come with the database)."""
    state = session.get(State, state_code.strip().upper())
    if state is None:
        raise AccountError(f"Unknown state {state_code!r}: use a two-letter code such as TX.")
    if actor is not None and not can_manage(actor, state.code):
        raise PermissionError("not allowed to manage agencies of this state")
    name = " ".join(clean_line(name).split())
    if not 2 <= len(name) <= 120:
        raise AccountError("Give the agency's name (2 to 120 characters).")
    taken = select(Agency.id).where(Agency.state_code == state.code, func.lower(Agency.name) == name.lower())
    if session.scalars(taken).first() is not None:
        raise AccountError(f"{state.name} already has an agency named {name!r}.")
    mailbox = None
    if it_mailbox:
        # A notification mailbox may be shared (it never signs in), so only the address form is checked.
        mailbox = check_email(it_mailbox, AccountPolicy(role_mailboxes=()))
    compact = session.scalars(
        select(Agency).where(Agency.state_code == state.code, Agency.kind == AgencyKind.COMPACT_OFFICE)
    ).first()
    zone = time_zone or (compact.time_zone if compact else "America/New_York")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError(f"Unknown time zone {zone!r}: use a name such as America/Chicago.") from None
    agency = Agency(state_code=state.code, name=name, kind=AgencyKind.LOCAL, it_mailbox=mailbox, time_zone=zone)
    session.add(agency)
    session.flush()
    record_event(
        session,
        "agency_created",
        origin=origin,
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else CLI_ACTOR,
        target_type="agency",
        target_id=agency.id,
        state_code=state.code,
        detail=name,
    )
    return agency


def set_state_mfa(session: Session, state: State, *, required: bool, actor: User | None, origin: Origin) -> None:
    """Require (or stop requiring) a second factor of every user of the state, from their next sign-in."""
    if actor is not None and not can_manage(actor, state.code):
        raise PermissionError("not allowed to change this state's settings")
    if state.requires_mfa == required:
        return
    state.requires_mfa = required
    record_event(
        session,
        "state_mfa_changed",
        origin=origin,
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else CLI_ACTOR,
        target_type="state",
        target_id=state.code,
        state_code=state.code,
        detail="second factor required" if required else "second factor optional",
    )
