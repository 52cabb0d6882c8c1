"""Properties of routing over generated reports: one tier, one target, a reason that names both."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.triage.policy import AssigneeRule, Cause, Tier, TriagePolicy, load_policy
from helpdesk.triage.routing import MAX_REASON, AgencyInfo, Person, RoutingDecision, escalation_decision, route_report

POLICY = load_policy(Path(__file__).resolve().parents[2] / "tickets")
STATES = ["TX", "OK", "NM", "CA"]
EMAILS = [f"person{n}@example.gov" for n in range(6)]
# No example database: nothing is written into the working tree.
SETTINGS = settings(database=None, deadline=None, max_examples=200)

names = st.text(st.characters(categories=["L", "N", "Zs", "Pd"]), min_size=1, max_size=60).filter(str.strip)
people = st.lists(
    st.builds(Person, id=st.integers(1, 10_000), name=names, email=st.sampled_from(EMAILS)), max_size=3
).map(tuple)
agencies = st.builds(
    AgencyInfo,
    id=st.integers(1, 30),
    name=names,
    state_code=st.none() | st.sampled_from(STATES),
    state_name=st.none() | names,
    local_it=people,
    compact_office=people,
    national_office=people,
)
rules = st.builds(
    AssigneeRule,
    tier=st.sampled_from(list(Tier)),
    email=st.sampled_from(EMAILS),
    categories=st.frozensets(st.sampled_from(list(POLICY.categories)), max_size=2),
    states=st.frozensets(st.sampled_from(STATES), max_size=2),
)
policies = st.lists(rules, max_size=3).map(lambda found: dataclasses.replace(POLICY, assignees=tuple(found)))
origins = st.lists(st.tuples(st.integers(1, 30), st.none() | st.sampled_from(STATES)), max_size=8)


def staff(agency: AgencyInfo, tier: Tier) -> tuple[Person, ...]:
    """Return the people of a tier's queue for the agency."""
    return {
        Tier.LOCAL_IT: agency.local_it,
        Tier.COMPACT_OFFICE: agency.compact_office,
        Tier.NATIONAL: agency.national_office,
    }[tier]


def check_one_target(decision: RoutingDecision, agency: AgencyInfo, category: str) -> None:
    """Every decision has exactly one tier, a queue of that tier or a named person in it, and a readable reason."""
    assert isinstance(decision.tier, Tier) and decision.queue.tier is decision.tier
    queue = decision.queue
    if decision.tier is Tier.LOCAL_IT:
        assert (queue.agency_id, queue.state_code) == (agency.id, None) and agency.has_local_it
    elif decision.tier is Tier.COMPACT_OFFICE:
        assert (queue.agency_id, queue.state_code) == (None, agency.state_code) and agency.state_code
    else:
        assert (queue.agency_id, queue.state_code) == (None, None)
    assert decision.assignee is None or decision.assignee in staff(agency, decision.tier)
    assert decision.reason.strip() and len(decision.reason) <= MAX_REASON
    assert f"category {category} (" in decision.reason
    assert decision.target in decision.reason and queue.label in decision.reason
    if decision.assignee is not None:
        assert decision.assignee.name in decision.reason


@SETTINGS
@given(
    policy=policies,
    category=st.sampled_from(list(POLICY.categories)),
    agency=agencies,
    same=st.integers(0, 40),
    earlier=origins,
    location_open=st.booleans(),
    system_open=st.booleans(),
)
def test_every_report_gets_one_tier_one_target_and_a_reason(
    policy: TriagePolicy,
    category: str,
    agency: AgencyInfo,
    same: int,
    earlier: list[tuple[int, str | None]],
    location_open: bool,
    system_open: bool,
) -> None:
    decision = route_report(
        policy,
        category=category,
        agency=agency,
        recent_same_agency=same,
        recent_origins=earlier,
        open_location_incident=location_open,
        open_system_incident=system_open,
    )
    check_one_target(decision, agency, category)
    first = policy.category(category).tier
    if decision.incident is None:
        assert decision.notify and decision.reporter_notice is None
        assert decision.tier.level >= first.level  # only fallbacks move a report up, never down
    else:
        assert policy.groups_incidents(category) and decision.reporter_notice
        assert decision.notify is not (location_open if decision.incident == "location" else system_open)
    if decision.incident == "system":
        assert decision.tier is Tier.NATIONAL
    if first is Tier.COMPACT_OFFICE and agency.state_code:
        assert decision.tier is Tier.COMPACT_OFFICE  # personal requests stay with the state
    if same + 1 >= policy.location.reports and policy.groups_incidents(category):
        assert decision.incident is not None


@SETTINGS
@given(
    policy=policies,
    category=st.sampled_from(list(POLICY.categories)),
    agency=agencies,
    tier=st.sampled_from(list(Tier)),
    cause=st.sampled_from(list(Cause)),
    over=st.integers(1, 10_000),
    earlier=origins,
)
def test_escalation_only_moves_up_and_explains_itself(
    policy: TriagePolicy,
    category: str,
    agency: AgencyInfo,
    tier: Tier,
    cause: Cause,
    over: int,
    earlier: list[tuple[int, str | None]],
) -> None:
    elapsed = policy.targets[tier].resolution + dt.timedelta(minutes=over)
    step = escalation_decision(
        policy, category=category, tier=tier, agency=agency, cause=cause, elapsed=elapsed, recent_origins=earlier
    )
    if step is None:
        assert policy.escalation_rule(cause, tier) is None
        return
    check_one_target(step, agency, category)
    assert step.tier.level > tier.level
    assert step.reason.startswith(f"escalated from tier {tier.level} ")
    assert (step.incident == "system") is (cause is Cause.SYSTEM_WIDE)
