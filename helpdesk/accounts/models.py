"""Organisation and people: member states, agencies, users, their tokens (single-use and API), policy acceptances."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.orm import Base, utcnow
from helpdesk.vocabulary import ROLE_LABELS, AgencyKind, Role

#: Role labels by stored value (kept under this name: forms, the CLI and audit wording read it).
ROLES = ROLE_LABELS
#: Roles whose holders must use a second factor unless configured otherwise.
MFA_ROLES_DEFAULT = (Role.COMPACT_OFFICE, Role.STATE_ADMIN, Role.NATIONAL_ADMIN)
AGENCY_KINDS = tuple(AgencyKind)


class State(Base):
    """A member state or territory of the compact (two-letter code)."""

    __tablename__ = "state"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: The state requires a second factor of every one of its users.
    requires_mfa: Mapped[bool] = mapped_column(Boolean, default=False)


class Agency(Base):
    """An agency or office; one per state is its compact office, one agency in all is the national office."""

    __tablename__ = "agency"
    __table_args__ = (UniqueConstraint("state_code", "name", name="uq_agency_state_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None only for the national office.
    state_code: Mapped[str | None] = mapped_column(ForeignKey("state.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default=AgencyKind.LOCAL.value)
    #: A mailbox of the local IT team, for notifications only (it can never sign in).
    it_mailbox: Mapped[str | None] = mapped_column(String(254))
    time_zone: Mapped[str] = mapped_column(String(64), default="America/New_York")

    state: Mapped[State | None] = relationship(lazy="joined")


class User(Base):
    """One named person; the lowercase e-mail is the sign-in id, never reused; deactivated, never deleted."""

    __tablename__ = "user_account"
    __table_args__ = (Index("ix_user_account_state_role", "state_code", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: Copied from the agency so that every permission check can scope by state in one comparison.
    state_code: Mapped[str | None] = mapped_column(ForeignKey("state.code"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[dt.datetime | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    #: Bumped to end every session of the user (reset, deactivation, role change).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_enrolled_at: Mapped[dt.datetime | None]
    #: The last accepted authenticator time step: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    privacy_version: Mapped[int | None] = mapped_column(Integer)
    privacy_accepted_at: Mapped[dt.datetime | None]

    agency: Mapped[Agency] = relationship(lazy="joined")

    # The user interface Flask-Login expects, without importing Flask here.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """Return the session id: the user id and session version, so bumping the version ends every session."""
        return f"{self.id}:{self.session_version}"

    @property
    def role_label(self) -> str:
        """Return the role as people say it."""
        return ROLES.get(self.role, self.role)


class UserToken(Base):
    """A single-use link (password reset or first-time sign-in); only the SHA-256 of the token is kept."""

    __tablename__ = "user_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class RecoveryCode(Base):
    """A one-time second-factor recovery code (hashed)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None]


class MfaEnrolment(Base):
    """An authenticator being set up: its secret waits here (never in the session cookie) until a code confirms it."""

    __tablename__ = "mfa_enrolment"

    #: Random (never reused), so that the id kept in the session cannot point at a later enrolment.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class PrivacyAcceptance(Base):
    """A user's electronic acceptance of a version of the privacy policy."""

    __tablename__ = "privacy_acceptance"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    version: Mapped[int]
    accepted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))


class ApiToken(Base):
    """A personal API token (only its SHA-256 is stored)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
