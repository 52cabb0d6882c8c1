"""Escalation of open tickets (overdue, local causes ruled out, system-wide) and the explain preview."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from helpdesk.triage.explain import explain
from helpdesk.triage.policy import Cause, Tier, load_policy
from helpdesk.triage.routing import SYSTEM_NOTICE, AgencyInfo, Person, escalation_decision

POLICY = load_policy(Path(__file__).resolve().parents[2] / "tickets")
TRAVIS = AgencyInfo(
    10,
    "Travis County Probation",
    "TX",
    "Texas",
    "America/Chicago",
    it_mailbox="it@travis.example.gov",
    local_it=(Person(101, "Pat Lee", "pat@travis.example.gov"),),
)
HAYS = AgencyInfo(11, "Hays County Probation", "TX", "Texas", "America/Chicago")
NATIONAL = AgencyInfo(1, "National Office", None)
HOURS = dt.timedelta(hours=1)


def test_overdue_first_response_moves_tier_one_to_the_compact_office() -> None:
    step = escalation_decision(
        POLICY,
        category="login",
        tier=Tier.LOCAL_IT,
        agency=TRAVIS,
        cause=Cause.OVERDUE_FIRST_RESPONSE,
        elapsed=5.5 * HOURS,
    )
    assert step is not None
    assert (step.tier, step.queue_state, step.incident, step.notify) == (Tier.COMPACT_OFFICE, "TX", None, True)
    assert step.reason == (
        "escalated from tier 1 (local IT) to the Texas compact office: category login (I can't log in) starts at "
        "tier 1; no first response within the tier-1 target of 4 business hours (5.5 business hours elapsed)"
    )


def test_overdue_resolution_names_both_numbers() -> None:
    step = escalation_decision(
        POLICY,
        category="slow",
        tier=Tier.LOCAL_IT,
        agency=TRAVIS,
        cause=Cause.OVERDUE_RESOLUTION,
        elapsed=16.25 * HOURS,
    )
    assert step is not None and step.tier is Tier.COMPACT_OFFICE
    assert "not resolved within the tier-1 target of 16 business hours (16.25 business hours elapsed)" in step.reason


@pytest.mark.parametrize("elapsed", [None, 4 * HOURS, 3 * HOURS])
def test_overdue_needs_elapsed_time_beyond_the_target(elapsed: dt.timedelta | None) -> None:
    with pytest.raises(ValueError, match="needs the business time elapsed, more than the target of 4 business hours"):
        escalation_decision(
            POLICY,
            category="login",
            tier=Tier.LOCAL_IT,
            agency=TRAVIS,
            cause=Cause.OVERDUE_FIRST_RESPONSE,
            elapsed=elapsed,
        )


def test_ruled_out_local_causes() -> None:
    step = escalation_decision(POLICY, category="error", tier=Tier.LOCAL_IT, agency=TRAVIS, cause=Cause.LOCAL_RULED_OUT)
    assert step is not None and step.tier is Tier.COMPACT_OFFICE
    assert step.reason.startswith("escalated from tier 1 (local IT) to the Texas compact office: category error")
    assert "local causes at Travis County Probation were ruled out" in step.reason


@pytest.mark.parametrize("cause", [Cause.OVERDUE_FIRST_RESPONSE, Cause.OVERDUE_RESOLUTION, Cause.LOCAL_RULED_OUT])
def test_tier_two_is_not_moved_for_lateness_or_local_causes(cause: Cause) -> None:
    assert (
        escalation_decision(
            POLICY, category="access", tier=Tier.COMPACT_OFFICE, agency=HAYS, cause=cause, elapsed=100 * HOURS
        )
        is None
    )


def test_system_wide_moves_tier_two_to_the_national_office_once() -> None:
    origins = ((10, "TX"), (40, "OK"), (50, "NM"), (51, "NM"))
    step = escalation_decision(
        POLICY, category="error", tier=Tier.COMPACT_OFFICE, agency=HAYS, cause=Cause.SYSTEM_WIDE, recent_origins=origins
    )
    assert step is not None
    assert (step.tier, step.incident, step.notify, step.reporter_notice) == (
        Tier.NATIONAL,
        "system",
        True,
        SYSTEM_NOTICE,
    )
    assert step.reason.startswith("escalated from tier 2 (state compact office) to the national office")
    assert "reports from 4 agencies in 3 states" in step.reason
    again = escalation_decision(
        POLICY, category="error", tier=Tier.LOCAL_IT, agency=TRAVIS, cause=Cause.SYSTEM_WIDE, open_system_incident=True
    )
    assert again is not None and not again.notify and "part of a system-wide incident" in again.reason
    assert (
        escalation_decision(POLICY, category="error", tier=Tier.NATIONAL, agency=HAYS, cause=Cause.SYSTEM_WIDE) is None
    )


def test_escalation_from_an_agency_without_a_state_goes_to_tier_three() -> None:
    step = escalation_decision(
        POLICY, category="login", tier=Tier.LOCAL_IT, agency=NATIONAL, cause=Cause.LOCAL_RULED_OUT
    )
    assert step is not None and step.tier is Tier.NATIONAL
    assert "National Office belongs to no state, so tier 2 goes to tier 3" in step.reason


def test_explain_previews_route_incidents_sla_escalation_and_self_help() -> None:
    text = explain(POLICY, "login", TRAVIS)
    assert text.splitlines()[0] == (
        "“I can't log in” (login) starts at tier 1, with the local IT of the reporter's agency."
    )
    for line in [
        "Travis County Probation is in Texas (time zone America/Chicago) and has 1 local IT user and the IT mailbox "
        "it@travis.example.gov.",
        "One report goes to Local IT of Travis County Probation (tier 1).",
        "3 reports from this agency within 60 minutes make a location incident: Local IT of Travis County "
        "Probation is notified once, and reporters see “Others at your location have reported this too.”",
        "Reports from 3 agencies in 2 states within 60 minutes make a system-wide incident for the national office "
        "(tier 3), notified once.",
        "At tier 1 the first response is due within 4 business hours and the resolution within 16 business hours, "
        "counting business hours (Mon, Tue, Wed, Thu, Fri 08:00–17:00 in America/Chicago).",
        "Resolved requests close after 7 days unless the reporter answers.",
        "When the first response is late, the request goes to the Texas compact office (tier 2).",
        "When the problem turns out to be system-wide, the request goes to the national office (tier 3).",
        "  1. Double check your password, make sure your caps lock is off and try again.",
        "  What do i do when i get an error or if i cant log into icots "
        "(/articles/errors-and-technical-support#what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots)",
    ]:
        assert line in text.splitlines()
    # Machine words never show: no cause codes, no "(s)" plurals, no tier codes.
    for machine in ("overdue_first_response", "system_wide", "(s)", "local_it", "compact_office"):
        assert machine not in text, machine


def test_explain_names_answers_by_their_titles_when_known() -> None:
    titles = {
        "/articles/errors-and-technical-support#what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots": (
            "What do I do when I get an error? (Errors and technical support)"
        )
    }
    text = explain(POLICY, "login", TRAVIS, titles.get)
    assert "  What do I do when I get an error? (Errors and technical support) (/articles/errors-and" in text


def test_explain_counts_in_words() -> None:
    two = dataclasses.replace(TRAVIS, local_it=(*TRAVIS.local_it, Person(99, "Lee Park", "lee@travis.example.gov")))
    assert "has 2 local IT users and" in explain(POLICY, "login", two)
    assert "has no local IT" in explain(POLICY, "login", HAYS)


def test_explain_without_local_it_and_for_a_personal_category() -> None:
    text = explain(POLICY, "other", HAYS)
    assert "One report goes to the Texas compact office (tier 2)." in text
    assert "Hays County Probation has no local IT configured, so tier 1 goes to tier 2" in text
    assert "Reports of this category are never grouped into incidents: each is handled on its own." in text
    assert (
        "At tier 2 the first response is due within 8 business hours and the resolution within 40 business hours"
    ) in text
    assert "late" not in text
