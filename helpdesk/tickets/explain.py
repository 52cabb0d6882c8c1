"""A preview in words of how the policy treats one category from one agency (`helpdesk triage explain`)."""

from __future__ import annotations

import datetime as dt

from helpdesk.tickets.policy import Cause, TriagePolicy
from helpdesk.tickets.routing import LOCATION_NOTICE, AgencyInfo, escalation_decision, route_report
from helpdesk.tickets.sla import MINUTES_PER_DAY

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def explain(policy: TriagePolicy, category: str, agency: AgencyInfo) -> str:
    """Return, as plain text, where a report would go, when it groups or escalates, its SLA and its self-help."""
    cat = policy.category(category)
    single = route_report(policy, category=cat.code, agency=agency)
    where = agency.state_code or "no state"
    people = f"{len(agency.local_it)} local IT user(s)" if agency.has_local_it else "no local IT"
    lines = [
        f"Category {cat.code}: {cat.label} (starts at tier {cat.tier.level}, {cat.tier.value})",
        f"Agency: {agency.name} ({where}, {agency.time_zone}); {people}"
        + (f"; IT mailbox {agency.it_mailbox}" if agency.it_mailbox else ""),
        f"One report goes to: {single.target} (tier {single.tier.level}, {single.tier.value})",
        f"  reason: {single.reason}",
    ]
    if policy.groups_incidents(cat.code):
        loc, sys = policy.location, policy.system
        lines += [
            f"Location incident: {loc.reports} reports from this agency within {_minutes(loc.window)} are grouped; "
            f"{single.queue.label} is notified once and reporters see \"{LOCATION_NOTICE}\"",
            f"System-wide incident: reports from {sys.agencies} agencies in {sys.states} states within "
            f"{_minutes(sys.window)} go to the national office (tier 3), notified once",
        ]
    else:
        lines.append("Incidents: none; every report of this category is handled on its own")
    target = policy.targets[single.tier]
    lines.append(
        f"SLA at tier {single.tier.level}: first response within {_hours(target.first_response)}, resolution within "
        f"{_hours(target.resolution)}; business hours {_business_hours(policy)} in {agency.time_zone}"
        f"{_holidays(policy)}; resolved tickets close after {policy.auto_close.days} days"
    )
    for cause in Cause:
        rule = policy.escalation_rule(cause, single.tier)
        if rule is None:
            continue
        elapsed = target.allowed("first_response" if cause is Cause.OVERDUE_FIRST_RESPONSE else "resolution")
        step = escalation_decision(policy, category=cat.code, tier=single.tier, agency=agency, cause=cause,
                                   elapsed=elapsed + dt.timedelta(minutes=1))
        if step is not None:
            lines.append(f"Escalation on {cause.value}: to {step.target} (tier {step.tier.level})")
    lines.append("Self-help checklist:")
    lines += [f"  {number}. {step}" for number, step in enumerate(cat.checklist, start=1)]
    lines.append("Knowledge-base answers:")
    lines += [f"  {link}" for link in cat.articles]
    return "\n".join(lines)


def _minutes(window: dt.timedelta) -> str:
    return f"{int(window.total_seconds() // 60)} minutes"


def _hours(span: dt.timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} business hours"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}" if minutes < MINUTES_PER_DAY else "24:00"


def _business_hours(policy: TriagePolicy) -> str:
    days = ", ".join(_DAY_NAMES[day] for day in sorted(policy.hours.days))
    return f"{days} {_clock(policy.hours.opens)}-{_clock(policy.hours.closes)}"


def _holidays(policy: TriagePolicy) -> str:
    count = len(policy.hours.holidays)
    return f" except {count} holiday(s)" if count else ""
