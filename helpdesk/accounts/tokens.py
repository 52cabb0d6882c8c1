"""Single-use links (password reset, first-time sign-in): random tokens of which only a SHA-256 is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User, UserToken

PURPOSES = ("reset", "first_time")


def digest(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """Return a fresh raw token: 256 bits from the OS CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def save_token(
    session: Session, user: User, purpose: str, raw: str, *, lifetime: dt.timedelta, now: dt.datetime
) -> None:
    """Store the hash of `raw` as `user`'s open token (the caller has ended the older ones)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    session.add(
        UserToken(user_id=user.id, purpose=purpose, token_hash=digest(raw), created_at=now, expires_at=now + lifetime)
    )
    session.flush()


def issue_token(session: Session, user: User, purpose: str, *, lifetime: dt.timedelta, now: dt.datetime) -> str:
    """Create a token for `user` (ending the user's other open tokens) and return the raw value for the link."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    revoke_tokens(session, user, now=now)
    raw = new_token()
    save_token(session, user, purpose, raw, lifetime=lifetime, now=now)
    return raw


def revoke_tokens(session: Session, user: User, *, now: dt.datetime) -> None:
    """Mark every open token of the user used (a new token, a password change or a deactivation ends them)."""
    revoke_tokens_of(session, user.id, now=now)


def revoke_tokens_of(session: Session, user_id: int, *, now: dt.datetime) -> None:
    """Mark every open token of the user with this id used (an id of no user: the same statement, no change)."""
    session.execute(
        update(UserToken).where(UserToken.user_id == user_id, UserToken.used_at.is_(None)).values(used_at=now)
    )


def find_token(session: Session, raw: str, *, now: dt.datetime) -> UserToken | None:
    """Return the open, unexpired token with this raw value, or None."""
    if not raw or len(raw) > 128:
        return None
    token = session.scalars(select(UserToken).where(UserToken.token_hash == digest(raw))).first()
    if token is None or token.used_at is not None:
        return None
    return token if now < token.expires_at else None
