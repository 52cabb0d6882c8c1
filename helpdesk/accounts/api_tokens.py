"""Personal API tokens: created with a name, shown once, stored only as a SHA-256, revoked by their owner."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import ApiToken, User
from helpdesk.accounts.tokens import digest
from helpdesk.audit.services import SYSTEM, SYSTEM_ACTOR, Origin, record_event
from helpdesk.domain_errors import DomainError
from helpdesk.orm import utcnow
from helpdesk.text import clean_line

#: Every token starts with this, so that a leaked one is recognisable (secret scanners, logs).
PREFIX = "hd_"
MAX_NAME = 100
#: Enough for a few scripts and machines; more usually means old tokens nobody revoked.
MAX_ACTIVE_TOKENS = 20
#: last_used_at tells the owner whether a token is still in use: a write every 5 minutes is plenty.
TOUCH_SECONDS = 300
_MAX_TOKEN_LENGTH = 128


class TokenError(DomainError):
    """A refused token change, with the reason in words for the person who asked."""

    code = "token_refused"


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    """Return the user's tokens, active ones first, newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    return list(session.scalars(query.order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def create_api_token(
    session: Session, *, actor: User, name: str, origin: Origin, now: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `actor` and return it with its plaintext, which is never stored and never shown again."""
    if not actor.is_active:
        raise PermissionError("a deactivated user cannot create API tokens")
    name = " ".join(clean_line(name).split())
    if not 1 <= len(name) <= MAX_NAME:
        raise TokenError(f"Give the token a name of 1 to {MAX_NAME} characters, such as the script that uses it.")
    active = (
        session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None))
        )
        or 0
    )
    if active >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"You already have {MAX_ACTIVE_TOKENS} active tokens: revoke one you no longer use first.")
    plaintext = PREFIX + secrets.token_urlsafe(32)  # 256 bits from the OS CSPRNG
    token = ApiToken(user_id=actor.id, name=name, token_hash=digest(plaintext), created_at=now or utcnow())
    session.add(token)
    session.flush()
    record_event(
        session,
        "api_token_created",
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        target_type="api_token",
        target_id=token.id,
        state_code=actor.state_code,
        detail=name,
    )
    return token, plaintext


def revoke_api_token(
    session: Session, *, actor: User, token_id: int, origin: Origin, now: dt.datetime | None = None
) -> ApiToken:
    """Revoke one of the actor's tokens (revoking it again changes nothing); another user's is LookupError."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise LookupError(f"no API token {token_id} of this user")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        record_event(
            session,
            "api_token_revoked",
            origin=origin,
            actor_id=actor.id,
            actor_email=actor.email,
            target_type="api_token",
            target_id=token.id,
            state_code=actor.state_code,
            detail=token.name,
        )
        session.flush()
    return token


def authenticate_token(session: Session, plaintext: str, *, now: dt.datetime | None = None) -> User | None:
    """Return the active user of an unrevoked token, else None; notes when the token was last used."""
    if not plaintext.startswith(PREFIX) or len(plaintext) > _MAX_TOKEN_LENGTH:
        return None
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(plaintext))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > TOUCH_SECONDS:
        token.last_used_at = now  # the caller commits
    return user


def revoke_tokens_of_deactivated(session: Session, _context: object, _instances: object) -> None:
    """Revoke the API tokens of users being deactivated, in the deactivating transaction (a `before_flush` hook).

    Every path that deactivates (the admin pages, `helpdesk users deactivate`, the inactive-users report) sets
    `User.is_active` to False; reactivating a user must not bring their old tokens back.
    """
    for user in [obj for obj in session.dirty if isinstance(obj, User)]:
        added = inspect(user).attrs.is_active.history.added
        if added and added[0] is False:
            now = utcnow()
            for token in session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            ):
                token.revoked_at = now
                record_event(
                    session,
                    "api_token_revoked",
                    origin=SYSTEM,
                    actor_email=SYSTEM_ACTOR,
                    target_type="api_token",
                    target_id=token.id,
                    state_code=user.state_code,
                    detail=f"{token.name} (user deactivated)",
                )


def install_token_revocation() -> None:
    """Revoke a user's API tokens whenever they are deactivated, whoever does it."""
    if not event.contains(Session, "before_flush", revoke_tokens_of_deactivated):
        event.listen(Session, "before_flush", revoke_tokens_of_deactivated)
