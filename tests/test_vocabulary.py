"""The enums of roles, agency kinds, tiers and statuses: one label each, stored as the same strings as before."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text

from helpdesk.accounts.models import ROLES, Agency, User
from helpdesk.extensions import db
from helpdesk.tickets.models import OPEN_STATUSES, STATUSES, TIERS, Ticket
from helpdesk.tickets.permissions import TIER_ROLES
from helpdesk.tickets.web.ticket import STATUS_WORDS
from helpdesk.triage import policy
from helpdesk.triage.routing import TIER_NAMES
from helpdesk.vocabulary import (
    OPEN_STATUSES as VOCABULARY_OPEN,
)
from helpdesk.vocabulary import (
    ROLE_LABELS,
    STATUS_LABELS,
    TIER_LABELS,
    AgencyKind,
    Role,
    Status,
    Tier,
)
from tests.factories import make_user
from tests.test_layering import loaded_after_import


def test_every_member_has_one_label_and_the_old_names_are_that_table() -> None:
    assert set(ROLE_LABELS) == set(Role) and set(STATUS_LABELS) == set(Status) and set(TIER_LABELS) == set(Tier)
    assert ROLES is ROLE_LABELS and STATUS_WORDS is STATUS_LABELS and TIER_NAMES is TIER_LABELS
    assert policy.Tier is Tier and OPEN_STATUSES is VOCABULARY_OPEN
    assert tuple(Tier) == TIERS and tuple(Status) == STATUSES
    assert set(TIER_ROLES) == set(Tier) and set(TIER_ROLES.values()) <= set(Role)


def test_members_are_their_stored_strings() -> None:
    # A member is the string itself: dict lookups, `in`, JSON and templates see the value, never the name.
    assert Role.NATIONAL_ADMIN == "national_admin" and f"{Status.PENDING}" == "pending"
    assert {Status.OPEN: 1}["open"] == 1 and "compact_office" in (Tier.COMPACT_OFFICE,)
    assert [member.value for member in AgencyKind] == ["local", "compact_office", "national"]


def test_the_vocabulary_loads_nothing_but_itself() -> None:
    loaded = loaded_after_import(["helpdesk.vocabulary"])
    assert [name for name in loaded if name.split(".")[0] in ("flask", "sqlalchemy", "yaml")] == []
    assert [name for name in loaded if name.startswith("helpdesk.")] == ["helpdesk.vocabulary"]


@pytest.mark.db
def test_the_database_keeps_the_plain_strings(app: Flask) -> None:
    user = make_user(app, role=Role.COMPACT_OFFICE, state="TX")
    with app.app_context():
        # The migration's agencies parse as kinds; the enum writes the exact string a literal wrote before.
        assert {AgencyKind(kind) for kind in db.session.scalars(select(Agency.kind))} >= {AgencyKind.COMPACT_OFFICE}
        stored = db.session.execute(text("SELECT role FROM user_account WHERE id = :id"), {"id": user.id}).scalar()
        assert stored == "compact_office" and type(stored) is str
        assert db.session.scalars(select(User.id).where(User.role == Role.COMPACT_OFFICE)).all() == [user.id]
        ticket = Ticket(
            reporter_id=user.id,
            agency_id=user.agency_id,
            state_code="TX",
            category="login",
            subject="Stored",
            description="x",
            tier=Tier.COMPACT_OFFICE,
            route_reason="test",
            idempotency_key="vocabulary-1",
        )
        db.session.add(ticket)
        db.session.commit()
        row = db.session.execute(text("SELECT status, tier FROM ticket WHERE id = :id"), {"id": ticket.id}).one()
        assert tuple(row) == ("new", "compact_office")
        assert db.session.scalar(select(Ticket.id).where(Ticket.status.in_(OPEN_STATUSES))) == ticket.id
