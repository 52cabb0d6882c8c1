"""Routing of new reports: a table of category × local IT × burst size × states, and the wording of reasons."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from helpdesk.triage.policy import AssigneeRule, Tier, TriagePolicy, UnknownCategoryError, load_policy
from helpdesk.triage.routing import (
    LOCATION_NOTICE,
    SYSTEM_NOTICE,
    AgencyInfo,
    Person,
    ReportOrigin,
    route_report,
)

POLICY = load_policy(Path(__file__).resolve().parents[2] / "tickets")
PAT = Person(101, "Pat Lee", "pat.lee@travis.example.gov")
ROBIN = Person(201, "Robin Diaz", "robin.diaz@tx.example.gov")
NOOR = Person(301, "Noor Haddad", "noor.haddad@national.example.gov")
TRAVIS = AgencyInfo(
    10,
    "Travis County Probation",
    "TX",
    "Texas",
    "America/Chicago",
    local_it=(PAT,),
    compact_office=(ROBIN,),
    national_office=(NOOR,),
)
HAYS = AgencyInfo(
    11, "Hays County Probation", "TX", "Texas", "America/Chicago", compact_office=(ROBIN,), national_office=(NOOR,)
)
NATIONAL = AgencyInfo(1, "National Office", None, None, "America/New_York", national_office=(NOOR,))
#: Earlier reports elsewhere within the system window: two more agencies, in Oklahoma and New Mexico.
OTHER_STATES: tuple[ReportOrigin, ...] = ((40, "OK"), (50, "NM"))
#: Many agencies, but all in Texas: not system-wide (2 states needed).
SAME_STATE: tuple[ReportOrigin, ...] = ((12, "TX"), (13, "TX"), (14, "TX"))

#: The issue's routing table: first tier of each category, with and without local IT.
FIRST_TIER = {
    ("login", True): Tier.LOCAL_IT,
    ("login", False): Tier.COMPACT_OFFICE,
    ("error", True): Tier.LOCAL_IT,
    ("error", False): Tier.COMPACT_OFFICE,
    ("slow", True): Tier.LOCAL_IT,
    ("slow", False): Tier.COMPACT_OFFICE,
    ("other", True): Tier.LOCAL_IT,
    ("other", False): Tier.COMPACT_OFFICE,
    ("access", True): Tier.COMPACT_OFFICE,
    ("access", False): Tier.COMPACT_OFFICE,
    ("privacy", True): Tier.COMPACT_OFFICE,
    ("privacy", False): Tier.COMPACT_OFFICE,
    ("reopen", True): Tier.COMPACT_OFFICE,
    ("reopen", False): Tier.COMPACT_OFFICE,
}
OUTAGE_CATEGORIES = {"login", "error", "slow"}


@pytest.mark.parametrize("origins", [(), SAME_STATE, OTHER_STATES], ids=["alone", "same-state", "multi-state"])
@pytest.mark.parametrize("burst", [1, 2, 3, 5])
@pytest.mark.parametrize("local_it", [True, False], ids=["local-it", "no-local-it"])
@pytest.mark.parametrize("category", ["login", "error", "slow", "access", "privacy", "reopen", "other"])
def test_routing_table(category: str, local_it: bool, burst: int, origins: tuple[ReportOrigin, ...]) -> None:
    agency = TRAVIS if local_it else HAYS
    decision = route_report(
        POLICY, category=category, agency=agency, recent_same_agency=burst - 1, recent_origins=origins
    )
    outage = category in OUTAGE_CATEGORIES
    if outage and origins == OTHER_STATES:
        expected_tier, expected_incident = Tier.NATIONAL, "system"
    else:
        expected_tier = FIRST_TIER[(category, local_it)]
        expected_incident = "location" if outage and burst >= 3 else None
    assert decision.tier is expected_tier
    assert decision.incident == expected_incident
    assert decision.notify  # no incident was open yet: whoever gets it is told
    assert decision.assignee is None
    assert (
        decision.reporter_notice
        == {"location": LOCATION_NOTICE, "system": SYSTEM_NOTICE, None: None}[expected_incident]
    )
    expected_queue = {Tier.LOCAL_IT: (agency.id, None), Tier.COMPACT_OFFICE: (None, "TX"), Tier.NATIONAL: (None, None)}[
        expected_tier
    ]
    assert (decision.queue_agency_id, decision.queue_state) == expected_queue
    assert decision.reason.startswith(f"routed to {decision.queue.label}: category {category} (")
    if expected_tier is Tier.COMPACT_OFFICE and FIRST_TIER[(category, True)] is Tier.LOCAL_IT:
        assert "Hays County Probation has no local IT configured, so tier 1 goes to tier 2" in decision.reason
    if expected_incident == "system":
        assert "reports from 3 agencies in 3 states in the last 60 minutes" in decision.reason
    elif outage:
        noun = "report of this kind" if burst == 1 else "similar reports"
        counts = f"{burst} {noun} from this office in the last 60 minutes (a location incident takes 3)"
        assert counts in decision.reason
    else:
        assert "from this office" not in decision.reason


def test_design_example_reason() -> None:
    decision = route_report(POLICY, category="login", agency=TRAVIS, recent_same_agency=2)
    assert decision.reason == (
        "routed to Local IT of Travis County Probation: category login (I can't log in) starts at tier 1; "
        "3 similar reports from this office in the last 60 minutes (a location incident takes 3); "
        "opened a location incident: Local IT of Travis County Probation is notified once for all its reports"
    )


def test_a_burst_notifies_local_it_once_and_tells_every_grouped_reporter() -> None:
    """Five reports in a row, the caller remembering the incident it opened, as the service layer does."""
    incident_open, notifications, notices = False, [], []
    for earlier in range(5):
        decision = route_report(
            POLICY, category="slow", agency=TRAVIS, recent_same_agency=earlier, open_location_incident=incident_open
        )
        if decision.incident == "location":
            incident_open = True
            notices.append(decision.reporter_notice)
            if decision.notify:
                notifications.append(decision.queue.label)
    assert notifications == ["Local IT of Travis County Probation"]
    assert notices == [LOCATION_NOTICE] * 3


def test_joining_an_open_incident_is_silent_even_below_the_threshold() -> None:
    decision = route_report(POLICY, category="error", agency=HAYS, recent_same_agency=0, open_location_incident=True)
    assert (decision.tier, decision.incident, decision.notify) == (Tier.COMPACT_OFFICE, "location", False)
    assert decision.reason.endswith("joined the open location incident: the Texas compact office was already notified")


def test_open_system_incident_takes_precedence_over_a_location_one() -> None:
    decision = route_report(
        POLICY,
        category="login",
        agency=TRAVIS,
        recent_same_agency=4,
        open_location_incident=True,
        open_system_incident=True,
    )
    assert (decision.tier, decision.incident, decision.notify) == (Tier.NATIONAL, "system", False)
    assert "joined the open system-wide incident: the national office was already notified" in decision.reason
    assert "reports from 1 agency in 1 state in the last 60 minutes" in decision.reason


def test_incident_flags_are_ignored_for_personal_categories() -> None:
    decision = route_report(
        POLICY,
        category="privacy",
        agency=TRAVIS,
        recent_same_agency=9,
        recent_origins=OTHER_STATES,
        open_location_incident=True,
        open_system_incident=True,
    )
    assert (decision.tier, decision.incident, decision.notify) == (Tier.COMPACT_OFFICE, None, True)


def test_system_thresholds_count_distinct_agencies_and_states() -> None:
    two_agencies = route_report(POLICY, category="login", agency=TRAVIS, recent_origins=((40, "OK"), (40, "OK")))
    assert two_agencies.incident is None
    no_state = route_report(POLICY, category="login", agency=TRAVIS, recent_origins=((1, None), (14, "TX")))
    assert no_state.incident is None  # 3 agencies but one state
    three = route_report(POLICY, category="login", agency=TRAVIS, recent_origins=((1, None), (40, "OK")))
    assert three.incident == "system" and "3 agencies in 2 states" in three.reason


def test_agency_without_a_state_goes_to_the_national_office() -> None:
    decision = route_report(POLICY, category="access", agency=NATIONAL)
    assert decision.tier is Tier.NATIONAL
    assert "National Office belongs to no state, so tier 2 goes to tier 3" in decision.reason
    login = route_report(POLICY, category="login", agency=NATIONAL)
    assert login.tier is Tier.NATIONAL
    assert "has no local IT configured, so tier 1 goes to tier 2; National Office belongs to no state" in login.reason


def test_state_code_names_the_queue_when_the_state_name_is_unknown() -> None:
    agency = dataclasses.replace(HAYS, state_name=None)
    assert route_report(POLICY, category="reopen", agency=agency).target == "the TX compact office"


def with_rules(*rules: AssigneeRule) -> TriagePolicy:
    return dataclasses.replace(POLICY, assignees=rules)


def test_named_assignee_rule() -> None:
    policy = with_rules(AssigneeRule(Tier.COMPACT_OFFICE, ROBIN.email, frozenset({"privacy"}), frozenset({"TX"})))
    decision = route_report(policy, category="privacy", agency=HAYS)
    assert decision.assignee == ROBIN
    assert decision.queue_state == "TX"
    assert decision.reason.startswith("assigned to Robin Diaz of the Texas compact office: category privacy")
    assert "a policy rule names Robin Diaz for these tickets" in decision.reason
    assert route_report(policy, category="reopen", agency=HAYS).assignee is None  # other category
    elsewhere = dataclasses.replace(HAYS, state_code="OK", state_name="Oklahoma")
    assert route_report(policy, category="privacy", agency=elsewhere).assignee is None  # other state


def test_named_assignee_who_is_not_in_the_queue_leaves_the_ticket_in_the_queue() -> None:
    policy = with_rules(AssigneeRule(Tier.LOCAL_IT, "gone@travis.example.gov"), AssigneeRule(Tier.LOCAL_IT, PAT.email))
    decision = route_report(policy, category="login", agency=TRAVIS)
    assert decision.assignee == PAT  # the second rule, after the first person was not found
    assert "the named assignee gone@travis.example.gov is not active in Local IT of Travis County Probation" in (
        decision.reason
    )
    only_gone = with_rules(AssigneeRule(Tier.LOCAL_IT, "gone@travis.example.gov"))
    decision = route_report(only_gone, category="login", agency=TRAVIS)
    assert decision.assignee is None and decision.target == "Local IT of Travis County Probation"
    assert decision.reason.startswith("routed to Local IT of Travis County Probation")


def test_bad_inputs() -> None:
    with pytest.raises(UnknownCategoryError, match="unknown category 'printer'"):
        route_report(POLICY, category="printer", agency=TRAVIS)
    with pytest.raises(ValueError, match="recent_same_agency must not be negative, got -1"):
        route_report(POLICY, category="login", agency=TRAVIS, recent_same_agency=-1)
