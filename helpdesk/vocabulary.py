"""The stored names of roles, agency kinds, ticket tiers and statuses, with their labels (no Flask, no SQL)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "ROLE_LABELS",
    "STATUS_LABELS",
    "TIER_LABELS",
    "AgencyKind",
    "Role",
    "Status",
    "Tier",
]


class Role(StrEnum):
    """A user's role, lowest to highest; the value is what `user_account.role` stores."""

    PO_SUPPORT = "po_support"
    PO = "po"
    PO_SUPERVISOR = "po_supervisor"
    LOCAL_IT = "local_it"
    COMPACT_OFFICE = "compact_office"
    KB_EDITOR = "kb_editor"
    STATE_ADMIN = "state_admin"
    NATIONAL_ADMIN = "national_admin"


#: Keyed by str: a stored value read from a column finds its label as the member does (equal, same hash).
ROLE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        Role.PO_SUPPORT: "PO Support",
        Role.PO: "PO",
        Role.PO_SUPERVISOR: "PO Supervisor",
        Role.LOCAL_IT: "Local IT",
        Role.COMPACT_OFFICE: "Compact Office staff",
        Role.KB_EDITOR: "Knowledge base editor",
        Role.STATE_ADMIN: "State administrator",
        Role.NATIONAL_ADMIN: "National office administrator",
    }
)


class AgencyKind(StrEnum):
    """What an agency is: a local agency, its state's compact office, or the one national office."""

    LOCAL = "local"
    COMPACT_OFFICE = "compact_office"
    NATIONAL = "national"


class Tier(StrEnum):
    """Who works a ticket: the reporter's local IT, their state compact office, or the national office."""

    LOCAL_IT = "local_it"
    COMPACT_OFFICE = "compact_office"
    NATIONAL = "national"

    @property
    def level(self) -> int:
        """Return the tier number, 1 to 3."""
        return _TIER_LEVELS[self]


#: Computed once: `level` is called for every ticket of an escalation sweep.
_TIER_LEVELS = {tier: number for number, tier in enumerate(Tier, start=1)}
TIER_LABELS: Mapping[str, str] = MappingProxyType(
    {
        Tier.LOCAL_IT: "local IT",
        Tier.COMPACT_OFFICE: "state compact office",
        Tier.NATIONAL: "national office",
    }
)


class Status(StrEnum):
    """Where a ticket is in its life; the value is what `ticket.status` stores."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        Status.NEW: "New",
        Status.OPEN: "Open",
        Status.PENDING: "Pending (waiting on the reporter)",
        Status.RESOLVED: "Resolved",
        Status.CLOSED: "Closed",
    }
)
#: Work still to do; the partial indexes of `ticket` are written for exactly these.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)
#: Done: resolved (the reporter may still answer) or closed.
CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED)
