"""Second factor: TOTP (pyotp) enrolment and checks, and one-time recovery codes (no Flask)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
import segno
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from helpdesk.accounts.auth import count_failed_attempt, finish_sign_in
from helpdesk.accounts.models import MfaEnrolment, RecoveryCode, State, User
from helpdesk.accounts.policy import AccountPolicy
from helpdesk.audit.services import Origin, record_event
from helpdesk.mail.services import queue_mail

ISSUER = "Helpdesk"
RECOVERY_CODES = 10
#: How long the secret of an authenticator being set up waits for its first code (within the 15-minute recent sign-in).
ENROL_MINUTES = 10


def mfa_required(session: Session, user: User, policy: AccountPolicy) -> bool:
    """Return whether the user must use a second factor (by role, or because the state requires it)."""
    if user.role in policy.mfa_roles:
        return True
    state = session.get(State, user.state_code) if user.state_code else None
    return bool(state and state.requires_mfa)


def new_secret() -> str:
    """Return a new random TOTP secret (base32)."""
    return pyotp.random_base32()


def pending_enrolment(session: Session, user: User, enrolment_id: object, *, now: dt.datetime) -> MfaEnrolment:
    """Return the user's enrolment under way with id `enrolment_id`, or start one with a new secret."""
    found = session.get(MfaEnrolment, enrolment_id) if isinstance(enrolment_id, str) else None
    if found is not None and found.user_id == user.id and found.expires_at > now:
        return found
    session.execute(delete(MfaEnrolment).where(MfaEnrolment.expires_at <= now))  # tidy forgotten ones
    enrolment = MfaEnrolment(
        id=secrets.token_urlsafe(16),
        user_id=user.id,
        secret=new_secret(),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=ENROL_MINUTES),
    )
    session.add(enrolment)
    session.flush()
    return enrolment


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// URI an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """Return the URI as an inline SVG QR code (made here: no outside service sees the secret)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1b1f24", light="#ffffff")


def _code_digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def totp_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """Return the time step a 6-digit code belongs to (one 30-second step of drift allowed), or None."""
    code = code.replace(" ", "").strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_ok(secret: str, code: str, now: dt.datetime) -> bool:
    """Check a 6-digit code."""
    return totp_step(secret, code, now) is not None


def enrol_totp(
    session: Session, user: User, secret: str, code: str, *, origin: Origin, now: dt.datetime
) -> list[str] | None:
    """Confirm enrolment with a first code; return fresh recovery codes, or None when the code is wrong."""
    step = totp_step(secret, code, now)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    user.mfa_enrolled_at = now
    session.execute(delete(MfaEnrolment).where(MfaEnrolment.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_digest(c)) for c in codes)
    record_event(
        session, "mfa_enrolled", origin=origin, actor_id=user.id, actor_email=user.email, state_code=user.state_code
    )
    # The owner learns of every new authenticator: one set up by someone else must not go unnoticed.
    queue_mail(session, to=user.email, kind="authenticator_changed", user=user, when=now)
    return codes


def verify_second_factor(
    session: Session, user: User, code: str, *, origin: Origin, now: dt.datetime, policy: AccountPolicy
) -> bool:
    """Check a TOTP code or spend a recovery code; audit the outcome; wrong codes count towards lockout."""
    step = totp_step(user.totp_secret, code, now) if user.totp_secret else None
    # A code at or before the last accepted step was already used (or is older): refuse a replay.
    ok = step is not None and (user.totp_last_step is None or step > user.totp_last_step)
    if ok:
        user.totp_last_step = step
    how = "authenticator code"
    if not ok:
        digest = _code_digest(code)
        for recovery in session.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ):
            if hmac.compare_digest(recovery.code_hash, digest):
                recovery.used_at = now
                ok, how = True, "recovery code"
                break
    if not ok:
        count_failed_attempt(session, user, origin=origin, now=now, policy=policy)
        return False
    record_event(
        session,
        "second_factor",
        origin=origin,
        actor_id=user.id,
        actor_email=user.email,
        state_code=user.state_code,
        detail=how,
    )
    finish_sign_in(session, user, origin=origin, now=now, how=f"password and {how}")
    return True
