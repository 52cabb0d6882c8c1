"""Bad policy files are refused with a message that names the file and the key."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from helpdesk.triage.policy import PolicyError, load_policy

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A private copy of tickets/ that a test may break."""
    target = tmp_path / "tickets"
    shutil.copytree(REPO / "tickets", target)
    return target


def edit(directory: Path, name: str, old: str, new: str) -> None:
    """Replace one exact piece of a policy file (failing loudly if the piece is not there)."""
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_copy_loads(policy_dir: Path) -> None:
    assert load_policy(policy_dir).category("login").label == "I can't log in"


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "categories.yml",
            '  access:\n    label: "Access or account"\n    tier: compact_office',
            '  access:\n    label: "Access or account"\n    tier: state_office',
            "categories.yml: categories.access.tier: unknown value 'state_office' "
            "(expected one of: local_it, compact_office, national)",
        ),
        (
            "routing.yml",
            "    reports: 3\n    window_minutes: 60",
            "    reports: 3\n    window_minutes: -5",
            "routing.yml: incidents.location.window_minutes: must be at least 1, got -5",
        ),
        (
            "routing.yml",
            "    reports: 3",
            "    reports: 1",
            "routing.yml: incidents.location.reports: must be at least 2, got 1",
        ),
        (
            "routing.yml",
            "    states: 2",
            "    states: 4",
            "routing.yml: incidents.system.states: cannot exceed agencies (3)",
        ),
        (
            "routing.yml",
            "    agencies: 3",
            "    agencies: many",
            "routing.yml: incidents.system.agencies: must be a whole number, got 'many'",
        ),
        (
            "routing.yml",
            "  categories: [login, error, slow]",
            "  categories: [login, printer]",
            "routing.yml: incidents.categories[1]: unknown value 'printer'",
        ),
        ("routing.yml", "    reports: 3", "    report: 3", "routing.yml: incidents.location: missing key 'reports'"),
        ("routing.yml", "  location:\n", "  locaton:\n", "routing.yml: incidents: missing key 'location'"),
        (
            "routing.yml",
            "    window_minutes: 60\n\n  # System",
            "    window_minutes: 60\n    windows: 2\n\n  # System",
            "routing.yml: incidents.location: unknown key 'windows' (expected one of: reports, window_minutes)",
        ),
        (
            "routing.yml",
            "  - cause: local_ruled_out\n    from: [local_it]\n    to: compact_office",
            "  - cause: local_ruled_out\n    from: [compact_office]\n    to: local_it",
            "routing.yml: escalation[2].to: must be a higher tier than compact_office (escalation only moves up)",
        ),
        (
            "routing.yml",
            "  - cause: local_ruled_out",
            "  - cause: impatience",
            "routing.yml: escalation[2].cause: unknown value 'impatience'",
        ),
        (
            "routing.yml",
            "  - cause: local_ruled_out",
            "  - cause: overdue_resolution",
            "routing.yml: escalation[2]: a second rule for cause overdue_resolution from the same tier",
        ),
        (
            "routing.yml",
            "assignees: []",
            "assignees:\n  - tier: compact_office\n    email: privacy office",
            "routing.yml: assignees[0].email: must be the e-mail address of a named person",
        ),
        (
            "routing.yml",
            "assignees: []",
            "assignees:\n  - tier: national\n    email: a@b.gov\n    states: [Texas]",
            "routing.yml: assignees[0].states[0]: must be a two-letter state code such as TX, got 'Texas'",
        ),
        (
            "sla.yml",
            '  closes: "17:00"',
            "  closes: 17:00",
            "sla.yml: business_hours.closes: write the time in quotes, e.g. '17:00'",
        ),
        (
            "sla.yml",
            '  closes: "17:00"',
            '  closes: "07:00"',
            "sla.yml: business_hours.closes: must come after the opening time",
        ),
        (
            "sla.yml",
            '  opens: "08:00"',
            '  opens: "8 am"',
            "sla.yml: business_hours.opens: must be a time 'HH:MM' between '00:00' and '24:00', got '8 am'",
        ),
        (
            "sla.yml",
            "  days: [mon, tue, wed, thu, fri]",
            "  days: [monday]",
            "sla.yml: business_hours.days[0]: unknown value 'monday'",
        ),
        (
            "sla.yml",
            "holidays: []",
            "holidays: [2026-02-30]",
            "sla.yml: holidays[0]: must be a date such as 2026-12-25, got '2026-02-30'",
        ),
        (
            "sla.yml",
            "    first_response_hours: 4\n",
            "    first_response_hours: 20\n",
            "sla.yml: targets.local_it.first_response_hours: must not exceed resolution_hours (16)",
        ),
        (
            "sla.yml",
            "    first_response_hours: 2 ",
            "    first_response_hours: 0 ",
            "sla.yml: targets.national.first_response_hours: must be a positive number, got 0",
        ),
        ("sla.yml", "auto_close_days: 7", "auto_close_days: 0", "sla.yml: auto_close_days: must be at least 1, got 0"),
        ("sla.yml", "  national:\n", "  tier3:\n", "sla.yml: targets: missing key 'national'"),
        (
            "categories.yml",
            "  login:\n",
            "  Login:\n",
            "categories.yml: categories.Login: a category code must be 1 to 16 lowercase letters",
        ),
        ("categories.yml", "  privacy:\n", "  login:\n", "categories.yml: line "),
        (
            "categories.yml",
            "      - /articles/icots-privacy-policy\n",
            "      - https://example.com/privacy\n",
            "categories.yml: categories.privacy.articles[1]: must be a link such as /articles/<slug>#<question-id>",
        ),
        (
            "categories.yml",
            '    label: "Privacy"\n',
            '    label: ""\n',
            "categories.yml: categories.privacy.label: must be non-empty text, got ''",
        ),
    ],
)
def test_bad_values_name_file_and_key(policy_dir: Path, name: str, old: str, new: str, message: str) -> None:
    edit(policy_dir, name, old, new)
    with pytest.raises(PolicyError, match=re.escape(message)):
        load_policy(policy_dir)


def test_duplicate_category_names_the_line(policy_dir: Path) -> None:
    edit(policy_dir, "categories.yml", "  privacy:\n", "  login:\n")
    with pytest.raises(PolicyError, match=r"categories.yml: line \d+: key 'login' appears twice"):
        load_policy(policy_dir)


def test_missing_file(policy_dir: Path) -> None:
    (policy_dir / "sla.yml").unlink()
    with pytest.raises(PolicyError, match=r"^sla.yml: file is missing from .*tickets$"):
        load_policy(policy_dir)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="the triage policy directory does not exist"):
        load_policy(tmp_path / "nowhere")


def test_not_yaml(policy_dir: Path) -> None:
    (policy_dir / "routing.yml").write_text("incidents: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="^routing.yml: is not valid YAML"):
        load_policy(policy_dir)


def test_top_level_must_be_a_mapping(policy_dir: Path) -> None:
    (policy_dir / "sla.yml").write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="^sla.yml: must be a mapping of keys to values, got list$"):
        load_policy(policy_dir)


def test_empty_checklist_is_refused(policy_dir: Path) -> None:
    edit(
        policy_dir,
        "categories.yml",
        "      - Ask colleagues at your location whether pages are slow for them too.\n",
        "",
    )
    edit(
        policy_dir,
        "categories.yml",
        "      - >-\n        Check with your IT department whether your system has recently been updated with new\n"
        "        software, or whether IT is performing maintenance.\n",
        "",
    )
    with pytest.raises(PolicyError, match=r"categories.yml: categories.slow.checklist: must list at least one"):
        load_policy(policy_dir)


def test_holidays_and_assignees_load(policy_dir: Path) -> None:
    edit(policy_dir, "sla.yml", "holidays: []", "holidays: [2026-12-25, '2027-01-01']")
    edit(
        policy_dir,
        "routing.yml",
        "assignees: []",
        "assignees:\n  - tier: compact_office\n    email: Privacy.Officer@TX.example.gov\n"
        "    categories: [privacy]\n    states: [TX]",
    )
    policy = load_policy(policy_dir)
    assert {day.isoformat() for day in policy.hours.holidays} == {"2026-12-25", "2027-01-01"}
    (rule,) = policy.assignees
    assert rule.email == "privacy.officer@tx.example.gov"
    assert rule.categories == {"privacy"} and rule.states == {"TX"}


def test_twenty_four_hour_desk(policy_dir: Path) -> None:
    edit(policy_dir, "sla.yml", '  opens: "08:00"', '  opens: "00:00"')
    edit(policy_dir, "sla.yml", '  closes: "17:00"', '  closes: "24:00"')
    edit(policy_dir, "sla.yml", "  days: [mon, tue, wed, thu, fri]", "  days: [mon, tue, wed, thu, fri, sat, sun]")
    hours = load_policy(policy_dir).hours
    assert (hours.opens, hours.closes, len(hours.days)) == (0, 24 * 60, 7)
