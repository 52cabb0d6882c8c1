"""Account policy values (lockout, link lifetimes, session limits, second factor), read once from the config."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helpdesk.accounts.models import MFA_ROLES_DEFAULT
from helpdesk.accounts.passwords import PasswordPolicy

#: Role mailboxes are shared by several people: CJIS requires one named person per account.
ROLE_MAILBOXES_DEFAULT = (
    "admin",
    "compact",
    "contact",
    "help",
    "helpdesk",
    "info",
    "it",
    "mail",
    "no-reply",
    "noreply",
    "office",
    "postmaster",
    "support",
    "webmaster",
)


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """Every account rule that a deployment may tune."""

    base_url: str = "http://127.0.0.1:5000"
    passwords: PasswordPolicy = PasswordPolicy()
    lockout_threshold: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=10)
    link_lifetime: dt.timedelta = dt.timedelta(minutes=20)
    resets_per_quarter_hour: int = 3
    idle_timeout: dt.timedelta = dt.timedelta(minutes=30)
    absolute_timeout: dt.timedelta = dt.timedelta(hours=12)
    privacy_version: int = 1
    mfa_roles: tuple[str, ...] = MFA_ROLES_DEFAULT
    role_mailboxes: tuple[str, ...] = ROLE_MAILBOXES_DEFAULT
    inactive_days: int = 90

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AccountPolicy:
        """Build the policy from the Flask config (keys set by helpdesk.config)."""
        return cls(
            base_url=config["BASE_URL"],
            passwords=PasswordPolicy(config.get("PASSWORD_MIN_LENGTH", 15)),
            lockout_threshold=config.get("LOCKOUT_THRESHOLD", 5),
            lockout=dt.timedelta(minutes=config.get("LOCKOUT_MINUTES", 10)),
            link_lifetime=dt.timedelta(minutes=config.get("LINK_MINUTES", 20)),
            idle_timeout=dt.timedelta(minutes=config.get("IDLE_MINUTES", 30)),
            absolute_timeout=dt.timedelta(hours=config.get("SESSION_HOURS", 12)),
            privacy_version=config.get("PRIVACY_VERSION", 1),
            mfa_roles=tuple(config.get("MFA_ROLES", MFA_ROLES_DEFAULT)),
            role_mailboxes=tuple(config.get("ROLE_MAILBOXES", ROLE_MAILBOXES_DEFAULT)),
            inactive_days=config.get("INACTIVE_DAYS", 90),
        )

    def link(self, path: str) -> str:
        """Return an absolute link built from the configured base URL (never from the request's Host)."""
        return f"{self.base_url}{path}"
