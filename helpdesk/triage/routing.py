"""Routing and escalation of reports: one tier, one target and a reason in words, from plain inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from helpdesk.triage.policy import Category, Cause, Tier, TriagePolicy
from helpdesk.triage.sla import Milestone
from helpdesk.vocabulary import TIER_LABELS

IncidentKind = Literal["location", "system"]
#: Where an earlier report came from: (agency id, state code; None for an agency without a state).
ReportOrigin = tuple[int, str | None]

LOCATION_NOTICE = "Others at your location have reported this too."
SYSTEM_NOTICE = "Offices in several states have reported this too; the national office is working on it."
#: Longest reason stored (ticket.route_reason and ticket_event.reason are String(1000)).
MAX_REASON = 1000
#: The tier labels under the name routing and notifications already use.
TIER_NAMES = TIER_LABELS


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who can be given a ticket by name."""

    id: int
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    """What routing needs to know about the reporter's agency; the service layer fills it from queries."""

    id: int
    name: str
    state_code: str | None
    state_name: str | None = None
    time_zone: str = "America/New_York"
    #: A mailbox of the local IT team: notified, but it cannot work tickets (it never signs in).
    it_mailbox: str | None = None
    #: Active local-IT users of this agency: the tier-1 queue. None means the agency has no local IT.
    local_it: tuple[Person, ...] = ()
    #: Active compact-office staff of the agency's state: the tier-2 queue.
    compact_office: tuple[Person, ...] = ()
    #: Active national-office staff: the tier-3 queue.
    national_office: tuple[Person, ...] = ()

    @property
    def has_local_it(self) -> bool:
        """Tell whether someone at the agency can work tier-1 tickets."""
        return bool(self.local_it)


@dataclass(frozen=True, slots=True)
class Queue:
    """The queue of a tier: an agency's local IT, a state's compact office, or the national office."""

    tier: Tier
    agency_id: int | None
    state_code: str | None
    label: str


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """One routing step: the tier, its queue, a named assignee if a rule says so, and why."""

    category: str
    tier: Tier
    queue: Queue
    assignee: Person | None
    incident: IncidentKind | None
    notify: bool
    reason: str
    reporter_notice: str | None = None

    @property
    def target(self) -> str:
        """Return who gets the ticket, in words."""
        return f"{self.assignee.name} of {self.queue.label}" if self.assignee else self.queue.label

    @property
    def queue_agency_id(self) -> int | None:
        """Return the agency whose local IT queue takes the ticket (tier 1 only)."""
        return self.queue.agency_id

    @property
    def queue_state(self) -> str | None:
        """Return the state whose compact office queue takes the ticket (tier 2 only)."""
        return self.queue.state_code


def route_report(
    policy: TriagePolicy,
    *,
    category: str,
    agency: AgencyInfo,
    recent_same_agency: int = 0,
    recent_origins: Collection[ReportOrigin] = (),
    open_location_incident: bool = False,
    open_system_incident: bool = False,
) -> RoutingDecision:
    """Route a new report.

    :param recent_same_agency: earlier reports of this category from this agency within the location window.
    :param recent_origins: (agency id, state) of each earlier report of this category, from any agency, within
        the system window.
    :param open_location_incident: an incident for this category and agency is open; the report joins it.
    :param open_system_incident: a system-wide incident for this category is open; the report joins it.
    """
    cat = policy.category(category)
    if recent_same_agency < 0:
        raise ValueError(f"recent_same_agency must not be negative, got {recent_same_agency}")
    if policy.groups_incidents(cat.code):
        agencies = {origin[0] for origin in recent_origins} | {agency.id}
        states = {origin[1] for origin in recent_origins if origin[1]} | ({agency.state_code} - {None})
        rule = policy.system
        if open_system_incident or (len(agencies) >= rule.agencies and len(states) >= rule.states):
            counts = (
                f"reports from {_count(len(agencies), 'agency', 'agencies')} in "
                f"{_count(len(states), 'state', 'states')} in the last {_span(rule.window)} "
                f"(system-wide at {rule.agencies} agencies in {rule.states} states)"
            )
            queue, notes = _place(Tier.NATIONAL, agency)
            return _decide(
                policy, cat, agency, queue, [counts, *notes], incident="system", opened=not open_system_incident
            )
    queue, notes = _place(cat.tier, agency)
    if not policy.groups_incidents(cat.code):
        return _decide(policy, cat, agency, queue, notes)
    location = policy.location
    total = recent_same_agency + 1
    noun = "report of this kind" if total == 1 else "similar reports"
    notes.append(
        f"{total} {noun} from this office in the last {_span(location.window)} "
        f"(a location incident takes {location.reports})"
    )
    if open_location_incident or total >= location.reports:
        return _decide(policy, cat, agency, queue, notes, incident="location", opened=not open_location_incident)
    return _decide(policy, cat, agency, queue, notes)


def escalation_decision(
    policy: TriagePolicy,
    *,
    category: str,
    tier: Tier,
    agency: AgencyInfo,
    cause: Cause,
    elapsed: dt.timedelta | None = None,
    recent_origins: Collection[ReportOrigin] = (),
    open_system_incident: bool = False,
) -> RoutingDecision | None:
    """Move an open ticket up a tier for `cause`, or return None when no escalation rule applies.

    :param tier: the tier the ticket is at now.
    :param elapsed: business time since the ticket reached `tier`; required for the overdue causes.
    :param recent_origins: for system_wide, (agency id, state) of the reports that make it system-wide.
    """
    cat = policy.category(category)
    rule = policy.escalation_rule(cause, tier)
    if rule is None:
        return None
    queue, notes = _place(rule.to, agency)
    why = _cause_words(policy, cause, tier, agency, elapsed, recent_origins)
    if cause is Cause.SYSTEM_WIDE:
        return _decide(
            policy,
            cat,
            agency,
            queue,
            [why, *notes],
            incident="system",
            opened=not open_system_incident,
            escalated_from=tier,
        )
    return _decide(policy, cat, agency, queue, [why, *notes], escalated_from=tier)


def _cause_words(
    policy: TriagePolicy,
    cause: Cause,
    tier: Tier,
    agency: AgencyInfo,
    elapsed: dt.timedelta | None,
    origins: Collection[ReportOrigin],
) -> str:
    if cause is Cause.LOCAL_RULED_OUT:
        return f"local causes at {agency.name} were ruled out"
    if cause is Cause.SYSTEM_WIDE:
        if not origins:
            return "part of a system-wide incident"
        agencies = {origin[0] for origin in origins}
        states = {origin[1] for origin in origins if origin[1]}
        return (
            f"part of a system-wide incident: reports from {_count(len(agencies), 'agency', 'agencies')} in "
            f"{_count(len(states), 'state', 'states')}"
        )
    milestone: Milestone = "first_response" if cause is Cause.OVERDUE_FIRST_RESPONSE else "resolution"
    allowed = policy.targets[tier].allowed(milestone)
    if elapsed is None or elapsed <= allowed:
        raise ValueError(
            f"{cause.value} needs the business time elapsed, more than the target of {hours_words(allowed)}"
        )
    missed = "no first response" if milestone == "first_response" else "not resolved"
    return f"{missed} within the tier-{tier.level} target of {hours_words(allowed)} ({hours_words(elapsed)} elapsed)"


def _place(tier: Tier, agency: AgencyInfo) -> tuple[Queue, list[str]]:
    """Return the queue of `tier` for the agency, falling back up a tier where there is no one to take it."""
    notes: list[str] = []
    if tier is Tier.LOCAL_IT:
        if agency.has_local_it:
            return Queue(tier, agency.id, None, f"Local IT of {agency.name}"), notes
        notes.append(f"{agency.name} has no local IT configured, so tier 1 goes to tier 2")
        tier = Tier.COMPACT_OFFICE
    if tier is Tier.COMPACT_OFFICE:
        if agency.state_code:
            label = f"the {agency.state_name or agency.state_code} compact office"
            return Queue(tier, None, agency.state_code, label), notes
        notes.append(f"{agency.name} belongs to no state, so tier 2 goes to tier 3")
    return Queue(Tier.NATIONAL, None, None, "the national office"), notes


def _assign(policy: TriagePolicy, queue: Queue, category: str, agency: AgencyInfo) -> tuple[Person | None, list[str]]:
    """Return the named assignee of the first matching rule whose person is in the queue, with notes."""
    staff = {
        Tier.LOCAL_IT: agency.local_it,
        Tier.COMPACT_OFFICE: agency.compact_office,
        Tier.NATIONAL: agency.national_office,
    }[queue.tier]
    notes: list[str] = []
    for rule in policy.assignees:
        if not rule.matches(queue.tier, category, agency.state_code):
            continue
        person = next((p for p in staff if p.email.lower() == rule.email), None)
        if person is not None:
            return person, [*notes, f"a policy rule names {person.name} for these tickets"]
        notes.append(f"the named assignee {rule.email} is not active in {queue.label}, so it stays in the queue")
    return None, notes


def _decide(
    policy: TriagePolicy,
    cat: Category,
    agency: AgencyInfo,
    queue: Queue,
    notes: list[str],
    *,
    incident: IncidentKind | None = None,
    opened: bool = True,
    escalated_from: Tier | None = None,
) -> RoutingDecision:
    assignee, assign_notes = _assign(policy, queue, cat.code, agency)
    parts = [f"category {cat.code} ({cat.label}) starts at tier {cat.tier.level}", *notes, *assign_notes]
    kind = "system-wide" if incident == "system" else "location"
    if incident and opened:
        parts.append(f"opened a {kind} incident: {queue.label} is notified once for all its reports")
    elif incident:
        parts.append(f"joined the open {kind} incident: {queue.label} was already notified")
    notice = {"location": LOCATION_NOTICE, "system": SYSTEM_NOTICE, None: None}[incident]
    target = f"{assignee.name} of {queue.label}" if assignee else queue.label
    if escalated_from is not None:
        head = f"escalated from tier {escalated_from.level} ({TIER_NAMES[escalated_from]}) to {target}"
    else:
        head = f"{'assigned' if assignee else 'routed'} to {target}"
    reason = f"{head}: {'; '.join(parts)}"
    if len(reason) > MAX_REASON:  # only with very long names; the head and the numbers come first
        reason = reason[: MAX_REASON - 1] + "…"
    return RoutingDecision(cat.code, queue.tier, queue, assignee, incident, opened, reason, notice)


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _span(window: dt.timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60} hours" if minutes % 60 == 0 and minutes > 60 else f"{minutes} minutes"


def hours_words(span: dt.timedelta) -> str:
    """Return a business-time span as reasons word it."""
    return f"{span.total_seconds() / 3600:.4g} business hours"
