"""A preview in sentences of how the policy treats one category from one agency (`helpdesk triage explain`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from helpdesk.kb.library import ArticleLibrary
from helpdesk.triage.policy import Cause, Tier, TriagePolicy
from helpdesk.triage.routing import LOCATION_NOTICE, AgencyInfo, escalation_decision, route_report
from helpdesk.triage.sla import MINUTES_PER_DAY

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Who works each tier, in words.
TIER_WORDS = {
    Tier.LOCAL_IT: "the local IT of the reporter's agency",
    Tier.COMPACT_OFFICE: "the compact office of the reporter's state",
    Tier.NATIONAL: "the national office",
}
#: When each escalation cause applies, in words.
CAUSE_WORDS = {
    Cause.OVERDUE_FIRST_RESPONSE: "When the first response is late",
    Cause.OVERDUE_RESOLUTION: "When the resolution is late",
    Cause.LOCAL_RULED_OUT: "When local IT has ruled out local causes",
    Cause.SYSTEM_WIDE: "When the problem turns out to be system-wide",
}
#: Returns the title of a knowledge-base link ("/articles/slug#question"), or None when it is unknown.
TitleOf = Callable[[str], str | None]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return "1 user" / "2 users" (or the given plural form)."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the preview: its words, how deep it is indented, and the answer it links to (if any)."""

    text: str
    depth: int = 0
    href: str | None = None

    def plain(self) -> str:
        """Return the line as the command prints it (a link's address after its title)."""
        return "  " * self.depth + (f"{self.text} ({self.href})" if self.href else self.text)


def explain_lines(
    policy: TriagePolicy, category: str, agency: AgencyInfo, title_of: TitleOf | None = None
) -> list[Line]:
    """Return, as sentences, where a report would go, when it groups or escalates, its SLA and its self-help."""
    cat = policy.category(category)
    single = route_report(policy, category=cat.code, agency=agency)
    people = f"has {plural(len(agency.local_it), 'local IT user')}" if agency.has_local_it else "has no local IT"
    mailbox = f" and the IT mailbox {agency.it_mailbox}" if agency.it_mailbox else ""
    where = agency.state_name or agency.state_code or "no state"
    lines = [
        Line(f"“{cat.label}” ({cat.code}) starts at tier {cat.tier.level}, with {TIER_WORDS[cat.tier]}."),
        Line(f"{agency.name} is in {where} (time zone {agency.time_zone}) and {people}{mailbox}."),
        Line(f"One report goes to {single.target} (tier {single.tier.level})."),
        Line(f"Why: {single.reason}.", 1),
    ]
    if policy.groups_incidents(cat.code):
        loc, sys = policy.location, policy.system
        lines += [
            Line(
                f"{plural(loc.reports, 'report')} from this agency within {_minutes(loc.window)} make a location "
                f"incident: {single.queue.label} is notified once, and reporters see “{LOCATION_NOTICE}”"
            ),
            Line(
                f"Reports from {plural(sys.agencies, 'agency', 'agencies')} in {plural(sys.states, 'state')} within "
                f"{_minutes(sys.window)} make a system-wide incident for the national office (tier 3), "
                "notified once."
            ),
        ]
    else:
        lines.append(Line("Reports of this category are never grouped into incidents: each is handled on its own."))
    target = policy.targets[single.tier]
    lines += [
        Line(
            f"At tier {single.tier.level} the first response is due within {_hours(target.first_response)} and "
            f"the resolution within {_hours(target.resolution)}, counting business hours "
            f"({_business_hours(policy)} in {agency.time_zone}{_holidays(policy)})."
        ),
        Line(f"Resolved requests close after {plural(policy.auto_close.days, 'day')} unless the reporter answers."),
    ]
    for cause in Cause:
        if policy.escalation_rule(cause, single.tier) is None:
            continue
        elapsed = target.allowed("first_response" if cause is Cause.OVERDUE_FIRST_RESPONSE else "resolution")
        step = escalation_decision(
            policy,
            category=cat.code,
            tier=single.tier,
            agency=agency,
            cause=cause,
            elapsed=elapsed + dt.timedelta(minutes=1),
        )
        if step is not None:
            lines.append(Line(f"{CAUSE_WORDS[cause]}, the request goes to {step.target} (tier {step.tier.level})."))
    lines.append(Line("Before filing, the reporter is asked to try:"))
    lines += [Line(f"{number}. {step}", 1) for number, step in enumerate(cat.checklist, start=1)]
    if cat.articles:
        lines.append(Line("Answers from the knowledge base offered beside the form:"))
        lines += [Line((title_of(link) if title_of else None) or _from_path(link), 1, link) for link in cat.articles]
    return lines


def explain(policy: TriagePolicy, category: str, agency: AgencyInfo, title_of: TitleOf | None = None) -> str:
    """Return the preview as plain text, one sentence a line (what `helpdesk triage explain` prints)."""
    return "\n".join(line.plain() for line in explain_lines(policy, category, agency, title_of))


def titles_from(library: ArticleLibrary) -> TitleOf:
    """Return a TitleOf that names an answer by its question (or its article's title) in `library`."""

    def title_of(link: str) -> str | None:
        slug, _, question_id = link.removeprefix("/articles/").partition("#")
        article = library.get(slug)
        if article is None:
            return None
        question = article.question(question_id) if question_id else None
        return f"{question.text} ({article.title})" if question else article.title

    return title_of


def _from_path(link: str) -> str:
    """Return words for an answer whose title is unknown: its slug and question id without dashes."""
    slug, _, question = link.removeprefix("/articles/").partition("#")
    words = (question or slug).replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _minutes(window: dt.timedelta) -> str:
    return plural(int(window.total_seconds() // 60), "minute")


def _hours(span: dt.timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} business hour{'' if hours == 1 else 's'}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}" if minutes < MINUTES_PER_DAY else "24:00"


def _business_hours(policy: TriagePolicy) -> str:
    days = ", ".join(_DAY_NAMES[day] for day in sorted(policy.hours.days))
    return f"{days} {_clock(policy.hours.opens)}–{_clock(policy.hours.closes)}"


def _holidays(policy: TriagePolicy) -> str:
    count = len(policy.hours.holidays)
    return f", except {plural(count, 'holiday')}" if count else ""
