"""The triage policy: categories, tiers, incident thresholds, SLAs and escalation rules, loaded from `tickets/`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from helpdesk.domain_errors import DomainError
from helpdesk.triage.loader import Field, PolicyError, parse_yaml, read_yaml
from helpdesk.triage.sla import BusinessCalendar, SlaTarget, WorkingHours
from helpdesk.vocabulary import Tier

__all__ = [
    "AssigneeRule",
    "Category",
    "Cause",
    "EscalationRule",
    "LocationRule",
    "PolicyError",
    "SystemRule",
    "Tier",
    "TriagePolicy",
    "UnknownCategoryError",
    "broken_article_links",
    "load_policy",
]

POLICY_FILES = ("categories.yml", "routing.yml", "sla.yml")
#: Category codes are stored in String(16) columns.
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
_ARTICLE_LINK_RE = re.compile(r"^/articles/[a-z0-9]+(?:-[a-z0-9]+)*(?:#[a-z0-9_-]+)?$")
_STATE_RE = re.compile(r"^[A-Z]{2}$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Cause(StrEnum):
    """Why a ticket moves up a tier."""

    OVERDUE_FIRST_RESPONSE = "overdue_first_response"
    OVERDUE_RESOLUTION = "overdue_resolution"
    LOCAL_RULED_OUT = "local_ruled_out"
    SYSTEM_WIDE = "system_wide"


class UnknownCategoryError(DomainError):
    """A category code that the policy does not define."""

    status = 422
    code = "invalid_category"
    field = "category"


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of report: its label, first tier, self-help checklist and knowledge-base answers."""

    code: str
    label: str
    tier: Tier
    checklist: tuple[str, ...]
    articles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LocationRule:
    """This many reports of one category from one agency within the window form a location incident."""

    reports: int
    window: dt.timedelta


@dataclass(frozen=True, slots=True)
class SystemRule:
    """Reports of one category from this many agencies in this many states within the window are system-wide."""

    agencies: int
    states: int
    window: dt.timedelta


@dataclass(frozen=True, slots=True)
class AssigneeRule:
    """A named person takes the tickets of a tier (optionally only some categories or states)."""

    tier: Tier
    email: str
    categories: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()

    def matches(self, tier: Tier, category: str, state_code: str | None) -> bool:
        """Tell whether the rule covers a ticket."""
        return (
            self.tier == tier
            and (not self.categories or category in self.categories)
            and (not self.states or state_code in self.states)
        )


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """For a cause, tickets at one of the `sources` tiers move up to the `to` tier."""

    cause: Cause
    sources: frozenset[Tier]
    to: Tier


@dataclass(frozen=True, slots=True)
class TriagePolicy:
    """The whole triage policy, validated and read-only."""

    categories: Mapping[str, Category]
    incident_categories: frozenset[str]
    location: LocationRule
    system: SystemRule
    assignees: tuple[AssigneeRule, ...]
    escalations: tuple[EscalationRule, ...]
    hours: WorkingHours
    targets: Mapping[Tier, SlaTarget]
    auto_close: dt.timedelta

    def category(self, code: str) -> Category:
        """Return a category by code, or raise UnknownCategoryError naming the known ones."""
        try:
            return self.categories[code]
        except KeyError:
            known = ", ".join(self.categories)
            raise UnknownCategoryError(f"unknown category {code!r} (known: {known})") from None

    def groups_incidents(self, code: str) -> bool:
        """Tell whether bursts of this category are grouped into incidents."""
        return code in self.incident_categories

    def calendar(self, time_zone: str) -> BusinessCalendar:
        """Return the business calendar of the policy's hours in an agency's time zone."""
        return BusinessCalendar.for_zone(time_zone, self.hours)

    def escalation_rule(self, cause: Cause, tier: Tier) -> EscalationRule | None:
        """Return the rule that moves a ticket at `tier` up for `cause`, if any."""
        return next((rule for rule in self.escalations if rule.cause == cause and tier in rule.sources), None)


def load_policy(directory: Path, *, routing_text: str | None = None) -> TriagePolicy:
    """Read and validate categories.yml, routing.yml and sla.yml from a policy directory.

    `routing_text` is a routing.yml to use instead of the file's (the preview tries it; nothing is written).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise PolicyError(f"{directory}: the triage policy directory does not exist")
    categories_doc, routing_doc, sla_doc = (read_yaml(directory / name) for name in POLICY_FILES)
    if routing_text is not None:
        routing_doc = parse_yaml("routing.yml", routing_text)
    categories = _categories(categories_doc.mapping(required=["categories"])["categories"])
    routing = routing_doc.mapping(required=["incidents", "escalation"], optional=["assignees"])
    incidents = routing["incidents"].mapping(required=["categories", "location", "system"])
    sla = sla_doc.mapping(required=["business_hours", "targets", "auto_close_days"], optional=["holidays"])
    return TriagePolicy(
        categories=MappingProxyType(categories),
        incident_categories=frozenset(_codes(incidents["categories"], categories)),
        location=_location(incidents["location"]),
        system=_system(incidents["system"]),
        assignees=tuple(_assignee(item, categories) for item in _optional(routing_doc, routing, "assignees").items()),
        escalations=_escalations(routing["escalation"]),
        hours=_hours(sla["business_hours"], _optional(sla_doc, sla, "holidays")),
        targets=MappingProxyType(_targets(sla["targets"])),
        auto_close=dt.timedelta(days=sla["auto_close_days"].integer(minimum=1)),
    )


def broken_article_links(policy: TriagePolicy, questions: Mapping[str, Collection[str]]) -> list[str]:
    """Return the knowledge-base links that lead nowhere, given the question ids of each article slug."""
    broken = []
    for category in policy.categories.values():
        for link in category.articles:
            slug, _, question = link.removeprefix("/articles/").partition("#")
            if slug not in questions or (question and question not in questions[slug]):
                broken.append(f"{category.code}: {link}")
    return broken


def _optional(document: Field, keys: Mapping[str, Field], name: str) -> Field:
    return keys[name] if name in keys else document.child(name, None)


def _tier(field: Field) -> Tier:
    return Tier(field.choice([tier.value for tier in Tier]))


def _codes(field: Field, categories: Mapping[str, Category]) -> list[str]:
    return [item.choice(list(categories)) for item in field.items()]


def _categories(field: Field) -> dict[str, Category]:
    result = {}
    for code, item in field.mapping().items():
        if not _CODE_RE.match(code):
            item.fail("a category code must be 1 to 16 lowercase letters, digits and '_', starting with a letter")
        keys = item.mapping(required=["label", "tier", "checklist", "articles"])
        checklist = keys["checklist"].texts()
        if not checklist:
            keys["checklist"].fail("must list at least one self-help step")
        for link in keys["articles"].items():
            if not _ARTICLE_LINK_RE.match(link.text()):
                link.fail(f"must be a link such as /articles/<slug>#<question-id>, got {link.value!r}")
        result[code] = Category(code, keys["label"].text(), _tier(keys["tier"]), checklist, keys["articles"].texts())
    if not result:
        field.fail("must define at least one category")
    return result


def _window(field: Field) -> dt.timedelta:
    return dt.timedelta(minutes=field.integer(minimum=1))


def _location(field: Field) -> LocationRule:
    keys = field.mapping(required=["reports", "window_minutes"])
    return LocationRule(keys["reports"].integer(minimum=2), _window(keys["window_minutes"]))


def _system(field: Field) -> SystemRule:
    keys = field.mapping(required=["agencies", "states", "window_minutes"])
    agencies, states = keys["agencies"].integer(minimum=2), keys["states"].integer(minimum=1)
    if states > agencies:
        keys["states"].fail(f"cannot exceed agencies ({agencies}): each agency is in one state")
    return SystemRule(agencies, states, _window(keys["window_minutes"]))


def _assignee(field: Field, categories: Mapping[str, Category]) -> AssigneeRule:
    keys = field.mapping(required=["tier", "email"], optional=["categories", "states"])
    email = keys["email"].text().lower()
    if "@" not in email:
        keys["email"].fail(f"must be the e-mail address of a named person, got {email!r}")
    states = keys["states"].texts() if "states" in keys else ()
    for index, state in enumerate(states):
        if not _STATE_RE.match(state):
            keys["states"].child(index, state).fail(f"must be a two-letter state code such as TX, got {state!r}")
    codes = _codes(keys["categories"], categories) if "categories" in keys else []
    return AssigneeRule(_tier(keys["tier"]), email, frozenset(codes), frozenset(states))


def _escalations(field: Field) -> tuple[EscalationRule, ...]:
    rules: list[EscalationRule] = []
    for item in field.items():
        keys = item.mapping(required=["cause", "from", "to"])
        cause = Cause(keys["cause"].choice([cause.value for cause in Cause]))
        sources = frozenset(_tier(source) for source in keys["from"].items())
        to = _tier(keys["to"])
        if not sources:
            keys["from"].fail("must list at least one tier")
        for source in sources:
            if source.level >= to.level:
                keys["to"].fail(f"must be a higher tier than {source.value} (escalation only moves up)")
        for other in rules:
            if other.cause == cause and other.sources & sources:
                item.fail(f"a second rule for cause {cause.value} from the same tier")
        rules.append(EscalationRule(cause, sources, to))
    return tuple(rules)


def _hours(field: Field, holidays: Field) -> WorkingHours:
    keys = field.mapping(required=["days", "opens", "closes"])
    days = frozenset(_DAYS.index(day.choice(_DAYS)) for day in keys["days"].items())
    if not days:
        keys["days"].fail("must list at least one open day")
    opens, closes = keys["opens"].clock(), keys["closes"].clock()
    if opens >= closes:
        keys["closes"].fail("must come after the opening time")
    return WorkingHours(days, opens, closes, frozenset(item.date() for item in holidays.items()))


def _targets(field: Field) -> dict[Tier, SlaTarget]:
    result = {}
    keys = field.mapping(required=[tier.value for tier in Tier])
    for tier in Tier:
        target = keys[tier.value].mapping(required=["first_response_hours", "resolution_hours"])
        first = target["first_response_hours"].number()
        resolution = target["resolution_hours"].number()
        if first > resolution:
            target["first_response_hours"].fail(f"must not exceed resolution_hours ({resolution:g})")
        result[tier] = SlaTarget(dt.timedelta(hours=first), dt.timedelta(hours=resolution))
    return result
