"""Sign-in with lockout, the self-service password reset, and privacy-policy acceptance (no Flask)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helpdesk.accounts.models import PrivacyAcceptance, User, UserToken
from helpdesk.accounts.passwords import hash_password, needs_rehash, verify_password
from helpdesk.accounts.policy import AccountPolicy
from helpdesk.accounts.tokens import find_token, new_token, revoke_tokens, revoke_tokens_of, save_token
from helpdesk.audit.services import Origin, record_event
from helpdesk.mail.rendering import render_mail
from helpdesk.mail.services import queue_mail, queue_rendered
from helpdesk.text import clean_line


def normalize_email(email: str) -> str:
    """Return the sign-in id form of an e-mail address: normalised (no hidden characters), trimmed, lowercase."""
    return clean_line(email).lower()


def find_user(session: Session, email: str) -> User | None:
    """Return the user with this sign-in e-mail (any status)."""
    return session.scalars(select(User).where(User.email == normalize_email(email))).first()


def is_locked(user: User, now: dt.datetime) -> bool:
    """Return whether failed attempts have locked the account right now."""
    return user.locked_until is not None and now < user.locked_until


def password_context(user: User) -> tuple[str, ...]:
    """Return the words a password of this user must not be built from."""
    return (user.name, user.email, user.agency.name if user.agency else "")


def authenticate(
    session: Session, email: str, password: str, *, origin: Origin, now: dt.datetime, policy: AccountPolicy
) -> User | None:
    """Return the user when the password is right and the account may sign in; audit every attempt."""
    user = find_user(session, email)
    # Exactly one hash verification whatever the case, so that timing tells nothing about the account.
    correct = verify_password(user.password_hash if user else None, password)
    if user is None or not user.is_active or is_locked(user, now):
        reason = "unknown e-mail" if user is None else ("deactivated" if not user.is_active else "locked")
        record_event(
            session,
            "sign_in",
            outcome="failure",
            origin=origin,
            actor_id=user.id if user else None,
            actor_email=normalize_email(email)[:254],
            state_code=user.state_code if user else None,
            detail=reason,
        )
        return None
    if not correct:
        count_failed_attempt(session, user, origin=origin, now=now, policy=policy)
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # The failure count is cleared by finish_sign_in only: with a second factor still owed, the right password
    # alone must not give the guesser a fresh set of code attempts.
    return user


def finish_sign_in(session: Session, user: User, *, origin: Origin, now: dt.datetime, how: str) -> None:
    """Record a completed sign-in (password, and second factor when required): the failure count starts again."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_seen_at = now
    record_event(
        session,
        "sign_in",
        origin=origin,
        actor_id=user.id,
        actor_email=user.email,
        state_code=user.state_code,
        detail=how,
    )


def count_failed_attempt(
    session: Session, user: User, *, origin: Origin, now: dt.datetime, policy: AccountPolicy
) -> None:
    """Count a wrong password or code; lock the account (and tell its owner) at the threshold."""
    # One atomic increment: concurrent wrong guesses must all count.
    failures = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    ).scalar_one()
    record_event(
        session,
        "sign_in",
        outcome="failure",
        origin=origin,
        actor_id=user.id,
        actor_email=user.email,
        state_code=user.state_code,
        detail=f"wrong password or code ({failures} in a row)",
    )
    if failures >= policy.lockout_threshold:
        minutes = int(policy.lockout.total_seconds() // 60)
        session.execute(
            update(User).where(User.id == user.id).values(locked_until=now + policy.lockout, failed_logins=0)
        )
        record_event(
            session,
            "account_locked",
            origin=origin,
            actor_id=user.id,
            actor_email=user.email,
            target_type="user",
            target_id=user.id,
            state_code=user.state_code,
            detail=f"{failures} failed sign-ins; locked for {minutes} minutes",
        )
        queue_mail(
            session, to=user.email, kind="account_locked", user=user, minutes=minutes, reset_link=policy.link("/forgot")
        )
    session.refresh(user)


def request_password_reset(
    session: Session, email: str, *, origin: Origin, now: dt.datetime, policy: AccountPolicy
) -> None:
    """Mail a reset link to an active account; do the same work, without keeping it, for any other address.

    Every case counts the recent links, runs the revoking update, draws and hashes a token and renders the mail,
    so that the time taken does not tell whether the address has an account; only an active account's token and
    mail are then written.
    """
    user = find_user(session, email)
    active = user is not None and user.is_active
    # A stand-in (never added to the session) is rendered for an unknown or deactivated address.
    person = user if active and user is not None else User(id=0, name="Helpdesk user", email=normalize_email(email))
    recent = (
        session.scalar(
            select(func.count())
            .select_from(UserToken)
            .where(
                UserToken.user_id == person.id,
                UserToken.purpose == "reset",
                UserToken.created_at > now - dt.timedelta(minutes=15),
            )
        )
        or 0
    )
    throttled = active and recent >= policy.resets_per_quarter_hour
    send = active and not throttled
    revoke_tokens_of(session, person.id if send else 0, now=now)  # id 0 matches no row: the same statement
    raw = new_token()
    minutes = int(policy.link_lifetime.total_seconds() // 60)
    rendered = render_mail(
        "password_reset",
        user=person,
        link=policy.link(f"/reset/{raw}"),
        minutes=minutes,
        help_link=policy.link("/request"),
    )
    if user is None or not user.is_active:
        record_event(
            session,
            "password_reset_requested",
            outcome="ignored",
            origin=origin,
            actor_email=normalize_email(email)[:254],
            actor_id=user.id if user else None,
            state_code=user.state_code if user else None,
            detail="unknown e-mail" if user is None else "deactivated",
        )
    elif throttled:
        record_event(
            session,
            "password_reset_requested",
            outcome="throttled",
            origin=origin,
            actor_id=user.id,
            actor_email=user.email,
            state_code=user.state_code,
        )
    else:
        save_token(session, user, "reset", raw, lifetime=policy.link_lifetime, now=now)
        queue_rendered(session, to=user.email, kind="password_reset", rendered=rendered)
        record_event(
            session,
            "password_reset_requested",
            origin=origin,
            actor_id=user.id,
            actor_email=user.email,
            state_code=user.state_code,
            detail="link mailed",
        )


def check_link(session: Session, raw: str, *, now: dt.datetime) -> UserToken | None:
    """Return the open token of a reset or first-time link, if it is still valid for an active user."""
    token = find_token(session, raw, now=now)
    if token is None:
        return None
    user = session.get(User, token.user_id)
    return token if user is not None and user.is_active else None


def set_password_from_link(
    session: Session, raw: str, password: str, *, origin: Origin, now: dt.datetime, policy: AccountPolicy
) -> tuple[User | None, list[str]]:
    """Use a link to set a password: (user, []) on success, (None, reasons) when refused; the link is then spent."""
    token = check_link(session, raw, now=now)
    if token is None:
        record_event(session, "password_reset", outcome="failure", origin=origin, detail="invalid or expired link")
        return None, ["This link has expired or has already been used."]
    user = session.get(User, token.user_id)
    assert user is not None  # check_link found it
    problems = policy.passwords.problems(password, context=password_context(user))
    if problems:
        return None, problems
    first_time = token.purpose == "first_time"
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.failed_logins = 0
    user.session_version += 1  # every other session of the user ends now
    revoke_tokens(session, user, now=now)
    record_event(
        session,
        "password_set" if first_time else "password_reset",
        origin=origin,
        actor_id=user.id,
        actor_email=user.email,
        target_type="user",
        target_id=user.id,
        state_code=user.state_code,
    )
    queue_mail(session, to=user.email, kind="password_changed", user=user, when=now, forgot_link=policy.link("/forgot"))
    return user, []


def accept_privacy_policy(session: Session, user: User, version: int, *, origin: Origin, now: dt.datetime) -> None:
    """Record the user's electronic acceptance of the privacy policy `version`."""
    user.privacy_version = version
    user.privacy_accepted_at = now
    session.add(PrivacyAcceptance(user_id=user.id, version=version, accepted_at=now, ip=origin.ip))
    record_event(
        session,
        "privacy_accepted",
        origin=origin,
        actor_id=user.id,
        actor_email=user.email,
        state_code=user.state_code,
        detail=f"privacy policy version {version}",
    )
