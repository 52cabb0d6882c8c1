"""User administration: create, change role, unlock, deactivate (never delete) and reactivate users."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.auth import normalize_email
from helpdesk.accounts.models import ROLES, Agency, User
from helpdesk.accounts.passwords import hash_password
from helpdesk.accounts.permissions import assignable_roles, can_manage
from helpdesk.accounts.policy import AccountPolicy
from helpdesk.accounts.tokens import issue_token, revoke_tokens
from helpdesk.accounts.workload import list_open_work, reassign_all_work, work_holding_problem
from helpdesk.audit.services import CLI_ACTOR, Origin, record_event
from helpdesk.domain_errors import DomainError
from helpdesk.mail.services import queue_mail
from helpdesk.text import clean_line
from helpdesk.vocabulary import AgencyKind, Role

_EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class AccountError(DomainError):
    """A refused account change, with the reason in words for the administrator."""

    status = 409  # refused by the account's present state (own account, open work, last administrator…)
    code = "account_refused"


class TakeoverError(AccountError):
    """The person chosen to take over a deactivated user's work cannot hold it."""

    status = 400
    code = "invalid_reassign_to"
    field = "reassign_to"


#: Said of every unusable hand-over target alike: inactive, of another state, the user themself.
TAKEOVER_WORDS = "Choose another active user of your state to take over the work."


def check_takeover(session: Session, user: User, to: User) -> None:
    """Raise TakeoverError unless `to` may take over all of the user's open work (the rule the list offers by)."""
    if not to.is_active or to.id == user.id or to.state_code != user.state_code:
        raise TakeoverError(TAKEOVER_WORDS)
    problem = work_holding_problem(session, user, to)
    if problem:
        raise TakeoverError(problem)


def check_email(email: str, policy: AccountPolicy) -> str:
    """Return the normalised sign-in e-mail, or raise when it is malformed or a shared role mailbox."""
    email = normalize_email(email)
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise AccountError("Enter a valid e-mail address such as jane.doe@agency.gov.")
    if email.split("@", 1)[0] in policy.role_mailboxes:
        raise AccountError(
            f"{email} is a shared role mailbox. The CJIS Security Policy requires every account to belong to one "
            "named person, so use the person's own address. To keep a shared inbox informed, set up a mail "
            "forwarding rule from the personal address to it."
        )
    return email


def check_role(actor: User | None, role: str, agency: Agency) -> None:
    """Raise unless `actor` (None: the operator at the command line) may give `role` to a member of `agency`."""
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}.")
    if actor is not None and role not in assignable_roles(actor):
        raise AccountError(f"You cannot give the role {ROLES[role]}.")
    if role == Role.COMPACT_OFFICE and agency.kind != AgencyKind.COMPACT_OFFICE:
        raise AccountError("Only members of the state compact office can have the Compact Office staff role.")
    if role == Role.NATIONAL_ADMIN and agency.kind != AgencyKind.NATIONAL:
        raise AccountError("National office administrators must belong to the National Office.")
    if role not in (Role.NATIONAL_ADMIN, Role.KB_EDITOR) and agency.kind == AgencyKind.NATIONAL:
        raise AccountError(
            "Members of the National Office are national office administrators or knowledge base editors."
        )


def _require_manage(actor: User | None, user_state: str | None) -> None:
    # None is the operator at the command line of the server, who may manage every state.
    if actor is not None and not can_manage(actor, user_state):
        raise PermissionError("not allowed to manage users of this state")


class _ActorFields(TypedDict):
    """Who acted, as `record_event` takes it."""

    actor_id: int | None
    actor_email: str | None


def _actor(actor: User | None) -> _ActorFields:
    return {"actor_id": actor.id, "actor_email": actor.email} if actor else {"actor_id": None, "actor_email": CLI_ACTOR}


def create_user(
    session: Session,
    *,
    actor: User | None,
    email: str,
    name: str,
    role: str,
    agency: Agency,
    origin: Origin,
    now: dt.datetime,
    policy: AccountPolicy,
    password: str | None = None,
) -> User:
    """Create a user of `agency`: mail the first-time link, or (operator at the CLI only) set `password`."""
    _require_manage(actor, agency.state_code)
    email = check_email(email, policy)
    name = " ".join(clean_line(name).split())
    if not 2 <= len(name) <= 120:
        raise AccountError("Enter the person's full name (2 to 120 characters).")
    check_role(actor, role, agency)
    # Sign-in ids are never reused: a deactivated user's address stays taken.
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise AccountError(f"An account with {email} already exists (or existed): e-mail addresses are never reused.")
    if password is not None:
        if actor is not None:  # administrators never see or choose a user's password
            raise PermissionError("only the operator at the server may set a password")
        problems = policy.passwords.problems(password, context=(name, email, agency.name))
        if problems:
            raise AccountError(" ".join(problems))
    user = User(email=email, name=name, role=role, agency_id=agency.id, state_code=agency.state_code, created_at=now)
    session.add(user)
    session.flush()
    record_event(
        session,
        "user_created",
        origin=origin,
        **_actor(actor),
        target_type="user",
        target_id=user.id,
        state_code=user.state_code,
        detail=f"{email} as {role}",
    )
    if password is not None:
        user.password_hash, user.password_changed_at = hash_password(password), now
        record_event(
            session,
            "password_set",
            origin=origin,
            **_actor(actor),
            target_type="user",
            target_id=user.id,
            state_code=user.state_code,
            detail="set by the operator at the server",
        )
        return user
    raw = issue_token(session, user, "first_time", lifetime=policy.link_lifetime, now=now)
    queue_mail(
        session,
        to=user.email,
        kind="first_time",
        user=user,
        link=policy.link(f"/reset/{raw}"),
        minutes=int(policy.link_lifetime.total_seconds() // 60),
        forgot_link=policy.link("/forgot"),
    )
    return user


def change_role(session: Session, user: User, role: str, *, actor: User | None, origin: Origin) -> None:
    """Give the user another role; their sessions end so that the new rights apply at once."""
    _require_manage(actor, user.state_code)
    if actor is not None and actor.id == user.id:
        raise AccountError("You cannot change your own role; ask another administrator.")
    check_role(actor, role, user.agency)
    if role == user.role:
        return
    old, user.role = user.role, role
    user.session_version += 1
    record_event(
        session,
        "role_changed",
        origin=origin,
        **_actor(actor),
        target_type="user",
        target_id=user.id,
        state_code=user.state_code,
        detail=f"{old} -> {role}",
    )


def unlock_user(session: Session, user: User, *, actor: User | None, origin: Origin) -> None:
    """Release a lockout caused by failed sign-ins."""
    _require_manage(actor, user.state_code)
    user.locked_until = None
    user.failed_logins = 0
    record_event(
        session,
        "account_unlocked",
        origin=origin,
        **_actor(actor),
        target_type="user",
        target_id=user.id,
        state_code=user.state_code,
    )


def deactivate_user(
    session: Session,
    user: User,
    *,
    actor: User | None,
    origin: Origin,
    now: dt.datetime,
    reassign_to: User | None = None,
) -> int:
    """Deactivate a user (never delete); open work must be reassigned first, or in the same step."""
    _require_manage(actor, user.state_code)
    if actor is not None and user.id == actor.id:
        raise AccountError("You cannot deactivate your own account; ask another administrator.")
    if not user.is_active:
        return 0
    if reassign_to is not None:  # a chosen taker is checked even when no work is left to hand over
        check_takeover(session, user, reassign_to)
    moved = 0
    if list_open_work(session, user):
        if reassign_to is None:
            raise AccountError("This user still holds open work: reassign it to another active user first.")
        moved = reassign_all_work(session, user, reassign_to, actor=actor, origin=origin)
        record_event(
            session,
            "work_reassigned",
            origin=origin,
            **_actor(actor),
            target_type="user",
            target_id=user.id,
            state_code=user.state_code,
            detail=f"{moved} {'item' if moved == 1 else 'items'} to {reassign_to.name} ({reassign_to.email})",
        )
    user.is_active = False
    user.deactivated_at = now
    user.session_version += 1  # ends every live session at the next request
    revoke_tokens(session, user, now=now)
    record_event(
        session,
        "user_deactivated",
        origin=origin,
        **_actor(actor),
        target_type="user",
        target_id=user.id,
        state_code=user.state_code,
    )
    return moved


def reactivate_user(session: Session, user: User, *, actor: User | None, origin: Origin) -> None:
    """Let a deactivated user sign in again (with their existing password, or a reset)."""
    _require_manage(actor, user.state_code)
    if user.is_active:
        return
    user.is_active = True
    user.deactivated_at = None
    user.failed_logins = 0
    user.locked_until = None
    record_event(
        session,
        "user_reactivated",
        origin=origin,
        **_actor(actor),
        target_type="user",
        target_id=user.id,
        state_code=user.state_code,
    )


def list_inactive_users(session: Session, *, days: int, now: dt.datetime, state_code: str | None = None) -> list[User]:
    """Return active users not seen for `days` days (never-seen users count from their creation)."""
    cutoff = now - dt.timedelta(days=days)
    query = select(User).where(User.is_active.is_(True)).order_by(User.state_code, User.email)
    if state_code is not None:
        query = query.where(User.state_code == state_code)
    return [u for u in session.scalars(query) if (u.last_seen_at or u.created_at) < cutoff]
