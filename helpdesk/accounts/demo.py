"""The demo organisation: two states, their offices and ready users of every role, loaded idempotently (no Flask)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.auth import accept_privacy_policy, find_user
from helpdesk.accounts.mfa import mfa_required
from helpdesk.accounts.models import Agency, User
from helpdesk.accounts.passwords import hash_password, verify_password
from helpdesk.accounts.policy import AccountPolicy
from helpdesk.accounts.services import create_user
from helpdesk.audit.services import CLI_ACTOR, SYSTEM, Origin, record_event
from helpdesk.vocabulary import AgencyKind, Role

#: A reserved top-level domain (RFC 2606): mail to demo users can never reach anyone.
DEMO_DOMAIN = "demo.helpdesk.test"
#: Local agencies: key -> (state, name, IT mailbox for agencies without local IT users).
AGENCIES: dict[str, tuple[str, str, str | None]] = {
    "travis.tx": ("TX", "Travis County Probation", None),
    "harris.tx": ("TX", "Harris County CSCD", f"it-desk@harris.tx.{DEMO_DOMAIN}"),
    "franklin.oh": ("OH", "Franklin County Adult Probation", None),
    "cuyahoga.oh": ("OH", "Cuyahoga County Probation", f"it-desk@cuyahoga.oh.{DEMO_DOMAIN}"),
}
#: The people: (name, role, agency key); `compact.XX` is the state's compact office, `national` the National Office.
PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("Maria Alvarez", Role.PO, "travis.tx"),
    ("James Carter", Role.PO, "travis.tx"),
    ("Linda Nguyen", Role.PO_SUPPORT, "travis.tx"),
    ("Robert Hayes", Role.PO_SUPERVISOR, "travis.tx"),
    ("Kevin Brooks", Role.LOCAL_IT, "travis.tx"),
    ("Angela Price", Role.PO, "harris.tx"),
    ("Daniel Kim", Role.PO_SUPPORT, "harris.tx"),
    ("Patricia Young", Role.PO_SUPERVISOR, "harris.tx"),
    ("Susan Ortiz", Role.COMPACT_OFFICE, "compact.tx"),
    ("Michael Reed", Role.COMPACT_OFFICE, "compact.tx"),
    ("Karen Walsh", Role.STATE_ADMIN, "compact.tx"),
    ("David Miller", Role.PO, "franklin.oh"),
    ("Emily Foster", Role.PO_SUPPORT, "franklin.oh"),
    ("Thomas Grant", Role.PO_SUPERVISOR, "franklin.oh"),
    ("Rachel Adams", Role.LOCAL_IT, "franklin.oh"),
    ("Brian Lewis", Role.PO, "cuyahoga.oh"),
    ("Nancy Hill", Role.PO_SUPPORT, "cuyahoga.oh"),
    ("Steven Clark", Role.COMPACT_OFFICE, "compact.oh"),
    ("Laura Bennett", Role.STATE_ADMIN, "compact.oh"),
    ("Catherine Moore", Role.NATIONAL_ADMIN, "national"),
    # Knowledge base editors: the national office's writes the FAQ; Texas's writes only where per-state sections
    # are enabled (HELPDESK_KB_STATE_SECTIONS). Last in the list: the others keep their demo passwords.
    ("Olivia Turner", Role.KB_EDITOR, "national"),
    ("Grace Howard", Role.KB_EDITOR, "compact.tx"),
)
#: The demo editor whose articles show history: an article with three revisions, and a draft.
DEMO_EDITOR = "Olivia Turner"
#: The demo user who has not accepted the privacy policy yet, to show that step at their first sign-in.
PRIVACY_PENDING = "James Carter"
_WORDS = (
    "amber",
    "bison",
    "cobalt",
    "dune",
    "ember",
    "fjord",
    "glacier",
    "harbor",
    "iris",
    "juniper",
    "kelp",
    "lantern",
    "meadow",
    "nectar",
    "orchid",
    "pepper",
    "quartz",
    "raven",
    "saffron",
    "thistle",
    "umber",
    "violet",
    "willow",
    "yarrow",
    "zephyr",
    "walnut",
)


@dataclass(frozen=True, slots=True)
class DemoSignIn:
    """How to sign in as one demo user."""

    email: str
    password: str
    role: str
    state: str | None
    agency: str
    totp_secret: str | None
    #: False for the one demo user left to accept the privacy policy at first sign-in (not in the JSON).
    privacy_accepted: bool = True

    def to_dict(self) -> dict[str, str | None]:
        """Return the JSON form printed by `helpdesk demo --json` (the keys scripts rely on)."""
        data = asdict(self)
        del data["privacy_accepted"]
        return data


def demo_email(name: str, agency_key: str) -> str:
    """Return a demo user's address: first.last@<agency>.<state>.demo.helpdesk.test."""
    return f"{name.lower().replace(' ', '.')}@{agency_key}.{DEMO_DOMAIN}"


def demo_password(number: int) -> str:
    """Return the demo passphrase of the user at position `number`: three unrelated words and a number."""
    count = len(_WORDS)
    words = (_WORDS[number % count], _WORDS[(number + 9) % count], _WORDS[(number + 17) % count])
    return f"{'-'.join(words)}-{10 + 3 * number}"


def demo_totp_secret(email: str) -> str:
    """Return the demo user's TOTP secret: base32 of a hash of the address, so it is the same on every run."""
    return base64.b32encode(hashlib.sha256(f"helpdesk demo totp: {email}".encode()).digest()[:20]).decode()


def _agencies(session: Session) -> dict[str, Agency]:
    found: dict[str, Agency] = {}
    for key, (state, name, mailbox) in AGENCIES.items():
        office = session.scalars(
            select(Agency).where(Agency.state_code == state, Agency.kind == AgencyKind.COMPACT_OFFICE)
        ).one()
        found[f"compact.{state.lower()}"] = office
        agency = session.scalars(select(Agency).where(Agency.state_code == state, Agency.name == name)).first()
        if agency is None:
            agency = Agency(state_code=state, name=name, kind=AgencyKind.LOCAL, time_zone=office.time_zone)
            session.add(agency)
        agency.it_mailbox = mailbox
        found[key] = agency
    found["national"] = session.scalars(select(Agency).where(Agency.kind == AgencyKind.NATIONAL)).one()
    session.flush()
    return found


def _restore(user: User, *, name: str, role: str, agency: Agency, password: str) -> None:
    """Put a demo user back as the demo defines it (a changed role or agency ends the user's sessions)."""
    if (user.role, user.agency_id) != (role, agency.id):
        user.session_version += 1
    user.name, user.role, user.agency_id, user.state_code = name, role, agency.id, agency.state_code
    user.is_active, user.deactivated_at, user.locked_until, user.failed_logins = True, None, None, 0
    if not verify_password(user.password_hash, password):
        user.password_hash = hash_password(password)


def load_demo(
    session: Session, *, now: dt.datetime, policy: AccountPolicy, origin: Origin = SYSTEM
) -> list[DemoSignIn]:
    """Create the demo organisation, or restore it as defined (same users, passwords, secrets); return its sign-ins."""
    agencies = _agencies(session)
    sign_ins: list[DemoSignIn] = []
    created = 0
    for number, (name, role, key) in enumerate(PEOPLE):
        agency, email, password = agencies[key], demo_email(name, key), demo_password(number)
        user = find_user(session, email)
        if user is None:
            user = create_user(
                session,
                actor=None,
                email=email,
                name=name,
                role=role,
                agency=agency,
                origin=origin,
                now=now,
                policy=policy,
                password=password,
            )
            created += 1
        else:
            _restore(user, name=name, role=role, agency=agency, password=password)
        secret = demo_totp_secret(email) if mfa_required(session, user, policy) else None
        if user.totp_secret != secret:
            user.totp_secret, user.mfa_enrolled_at = secret, now if secret else None
        pending = name == PRIVACY_PENDING
        if pending:  # restored as defined on every run: the privacy step is there to be seen again
            user.privacy_version, user.privacy_accepted_at = None, None
        elif user.privacy_version != policy.privacy_version:
            accept_privacy_policy(session, user, policy.privacy_version, origin=origin, now=now)
        sign_ins.append(
            DemoSignIn(
                email=email,
                password=password,
                role=role,
                state=agency.state_code,
                agency=agency.name,
                totp_secret=secret,
                privacy_accepted=not pending,
            )
        )
    record_event(
        session,
        "demo_loaded",
        origin=origin,
        actor_email=CLI_ACTOR,
        detail=f"{created} demo users created, {len(sign_ins) - created} restored",
    )
    session.flush()
    return sign_ins
