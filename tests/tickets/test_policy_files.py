"""The shipped triage policy in tickets/: categories, tiers, links and defaults the issue asks for."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from helpdesk.kb.articles import parse_article
from helpdesk.triage.policy import Cause, Tier, UnknownCategoryError, broken_article_links, load_policy

REPO = Path(__file__).resolve().parents[2]
POLICY = load_policy(REPO / "tickets")


def test_the_seven_categories_with_their_labels_in_order() -> None:
    labels = {code: category.label for code, category in POLICY.categories.items()}
    assert labels == {
        "login": "I can't log in",
        "error": "I get an error",
        "slow": "Pages are slow",
        "access": "Access or account",
        "privacy": "Privacy",
        "reopen": "Reopen a closed case",
        "other": "Something else",
    }
    assert list(labels) == ["login", "error", "slow", "access", "privacy", "reopen", "other"]


@pytest.mark.parametrize(
    ("code", "tier"),
    [
        ("login", Tier.LOCAL_IT),
        ("error", Tier.LOCAL_IT),
        ("slow", Tier.LOCAL_IT),
        ("other", Tier.LOCAL_IT),
        ("access", Tier.COMPACT_OFFICE),
        ("privacy", Tier.COMPACT_OFFICE),
        ("reopen", Tier.COMPACT_OFFICE),
    ],
)
def test_first_tier_of_each_category(code: str, tier: Tier) -> None:
    assert POLICY.category(code).tier is tier


def test_every_knowledge_base_link_leads_to_a_real_answer() -> None:
    questions = {}
    for path in (REPO / "articles").glob("*.md"):
        article = parse_article(path.stem, path.read_text(encoding="utf-8"))
        questions[article.slug] = {question.id for question in article.questions}
    assert broken_article_links(POLICY, questions) == []
    assert all(category.articles and category.checklist for category in POLICY.categories.values())


def test_broken_links_are_reported_by_category() -> None:
    assert broken_article_links(POLICY, {}) != []
    only_errors = {"errors-and-technical-support": {"what-do-i-do-when-the-page-is-loading-slowly"}}
    broken = broken_article_links(POLICY, only_errors)
    assert "slow: /articles/errors-and-technical-support#what-do-i-do-when-the-page-is-loading-slowly" not in broken
    assert any(item.startswith("login: /articles/errors-and-technical-support#") for item in broken)


def test_checklists_carry_the_help_center_advice() -> None:
    login = " ".join(POLICY.category("login").checklist)
    assert "caps lock" in login and '"What was my password again?"' in login and "20 minutes" in login
    for code in ("slow", "error"):
        steps = " ".join(POLICY.category(code).checklist).lower()
        assert "your location" in steps and "it department" in steps
    assert "maintenance" in " ".join(POLICY.category("slow").checklist)
    assert "only be done by the state compact office" in " ".join(POLICY.category("reopen").checklist)
    assert "state administrator" in " ".join(POLICY.category("access").checklist)


def test_incident_and_sla_defaults() -> None:
    assert POLICY.incident_categories == {"login", "error", "slow"}
    assert (POLICY.location.reports, POLICY.location.window) == (3, dt.timedelta(minutes=60))
    assert (POLICY.system.agencies, POLICY.system.states, POLICY.system.window) == (3, 2, dt.timedelta(minutes=60))
    assert POLICY.hours.days == {0, 1, 2, 3, 4}
    assert (POLICY.hours.opens, POLICY.hours.closes) == (8 * 60, 17 * 60)
    assert POLICY.auto_close == dt.timedelta(days=7)
    for tier in Tier:
        target = POLICY.targets[tier]
        assert dt.timedelta(0) < target.first_response <= target.resolution


def test_escalation_rules_move_tier_one_up_and_only_system_wide_reaches_tier_three() -> None:
    for cause in (Cause.OVERDUE_FIRST_RESPONSE, Cause.OVERDUE_RESOLUTION, Cause.LOCAL_RULED_OUT):
        rule = POLICY.escalation_rule(cause, Tier.LOCAL_IT)
        assert rule is not None and rule.to is Tier.COMPACT_OFFICE
        assert POLICY.escalation_rule(cause, Tier.COMPACT_OFFICE) is None
    for tier in (Tier.LOCAL_IT, Tier.COMPACT_OFFICE):
        rule = POLICY.escalation_rule(Cause.SYSTEM_WIDE, tier)
        assert rule is not None and rule.to is Tier.NATIONAL
    assert POLICY.escalation_rule(Cause.SYSTEM_WIDE, Tier.NATIONAL) is None


def test_policy_is_read_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        POLICY.auto_close = dt.timedelta(days=1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        POLICY.categories["new"] = POLICY.category("other")  # type: ignore[index]


def test_unknown_category_names_the_known_ones() -> None:
    with pytest.raises(UnknownCategoryError, match=r"unknown category 'printer' \(known: login, error, slow"):
        POLICY.category("printer")


def test_calendar_uses_the_policy_hours_in_the_agency_zone() -> None:
    calendar = POLICY.calendar("America/Chicago")
    assert calendar.zone.key == "America/Chicago" and calendar.hours == POLICY.hours
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        POLICY.calendar("Mars/Olympus")
