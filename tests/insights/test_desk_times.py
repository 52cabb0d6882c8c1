"""The O(1) business-hours difference of the dashboard equals the SLA module's day-by-day walk."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from flask import Flask
from sqlalchemy import select

from helpdesk.accounts.models import Agency
from helpdesk.extensions import db
from helpdesk.insights.desk_times import business_times, percentile, wall_clock_hours
from helpdesk.tickets.models import Ticket
from helpdesk.triage.sla import BusinessCalendar, WorkingHours, business_time_between
from tests.insights.conftest import T0, H, Org


@pytest.mark.parametrize("zone", ["America/Chicago", "America/New_York", "America/Phoenix", "Pacific/Honolulu"])
def test_wall_clock_hours_match_business_time_between(zone: str) -> None:
    holidays = frozenset({dt.date(2026, 3, 9), dt.date(2026, 11, 2), dt.date(2026, 12, 25), dt.date(2026, 3, 14)})
    calendar = BusinessCalendar.for_zone(zone, WorkingHours(holidays=holidays))
    fast = wall_clock_hours(calendar)
    assert fast is not None
    rng = random.Random(zone)
    start = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)  # across both daylight-saving changes and the holidays
    for _ in range(400):
        a = start + dt.timedelta(minutes=rng.randint(0, 300 * 1440))
        b = a + dt.timedelta(minutes=rng.choice([rng.randint(0, 600), rng.randint(0, 40 * 1440)]))
        expected = business_time_between(a, b, calendar).total_seconds() / 3600
        assert fast(a, b) == pytest.approx(expected, abs=1e-6), (a, b)


def test_calendars_spanning_the_night_use_the_walk() -> None:
    assert wall_clock_hours(BusinessCalendar.for_zone("America/Chicago", WorkingHours(opens=0, closes=1440))) is None


def test_percentiles_by_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert (percentile([1.0, 5.0], 0.5), percentile([1.0, 5.0], 0.9)) == (1.0, 5.0)
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0


@pytest.mark.db
@pytest.mark.parametrize("hours", [WorkingHours(), WorkingHours(opens=0, closes=1440)])
def test_business_times_of_the_desk_equal_the_sla_walk(app: Flask, org: Org, hours: WorkingHours) -> None:
    """Each milestone's hours (the opening's clock read once, a resolution without first response too) = the walk."""
    with app.app_context():
        session = db.session
        first = session.scalars(select(Ticket).order_by(Ticket.id)).first()
        assert first is not None
        # Resolved without a first response: both milestones are the one instant.
        session.add(
            Ticket(
                reporter_id=first.reporter_id,
                agency_id=first.agency_id,
                state_code="TX",
                category="slow",
                subject="Slow #7",
                description="It is slow",
                tier="national",
                route_reason="test",
                idempotency_key="key-7",
                created_at=T0,
                updated_at=T0,
                status="resolved",
                resolved_at=T0 + 30 * H,
            )
        )
        session.flush()
        calendars = {zone: BusinessCalendar.for_zone(zone, hours) for zone in ("America/Chicago",)}
        expected: dict[tuple[str, str], list[float]] = {}
        for ticket in session.scalars(select(Ticket)):
            zone = session.get(Agency, ticket.agency_id).time_zone  # type: ignore[union-attr]
            reached = {
                "first_response": ticket.first_responded_at or ticket.resolved_at,
                "resolution": ticket.resolved_at,
            }
            for milestone, at in reached.items():
                if at is not None:
                    expected.setdefault((ticket.tier, milestone), []).append(
                        business_time_between(_aware(ticket.created_at), _aware(at), calendars[zone]).total_seconds()
                        / 3600
                    )
        opened = select(Ticket.id).where(Ticket.created_at >= T0 - H)
        times = business_times(session, opened, calendars.__getitem__)
        for (tier, milestone), values in expected.items():
            values.sort()
            assert times[tier][milestone] == (
                round(percentile(values, 0.5) or 0, 2),
                round(percentile(values, 0.9) or 0, 2),
            ), (tier, milestone)
        assert times["national"]["first_response"] == times["national"]["resolution"] != (None, None)
        # Tuesday 10:00 to Wednesday 16:00 in Texas: 7 h + 8 h of business time, or 30 h round the clock.
        assert times["national"]["first_response"][0] == (7 + 8 if hours.closes < 1440 else 30)
        session.rollback()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
