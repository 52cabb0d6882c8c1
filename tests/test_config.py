"""Configuration: read from the environment, validated at start-up, exit code 2 with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpdesk.config import ConfigError, Settings, parse_bool

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("yes", True), ("TRUE", True), ("0", False), ("no", False), ("False", False)]
)
def test_booleans(value: str, expected: bool) -> None:
    assert parse_bool("X", value) is expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HELPDESK_PORT": "eighty"}, "HELPDESK_PORT"),
        ({"HELPDESK_PORT": "70000"}, "out of range"),
        ({"HELPDESK_SECURE_COOKIES": "maybe"}, "not a boolean"),
        ({"HELPDESK_BASE_URL": "help.example.org"}, "absolute http"),
        ({"HELPDESK_ENV": "staging"}, "HELPDESK_ENV"),
        ({"HELPDESK_ENV": "production", "HELPDESK_BASE_URL": "https://h.example"}, "HELPDESK_SECRET_KEY"),
        ({"HELPDESK_ENV": "production", "HELPDESK_SECRET_KEY": "s" * 40}, "https"),
        ({"HELPDESK_VOTE_LIMIT_PER_ADDRESS": "lots"}, "rate limit"),
        ({"HELPDESK_INDEX_CHECK_SECONDS": "-1"}, "negative"),
    ],
)
def test_bad_values_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_defaults_and_overrides(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "HELPDESK_INSTANCE_DIR": str(tmp_path),
            "HELPDESK_PORT": "8080",
            "DATABASE_URL": "postgres://u@db/helpdesk",
            "HELPDESK_TYPO": "1",
        }
    )
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.database_url == "postgresql+psycopg://u@db/helpdesk"
    assert settings.warnings == ("unknown setting HELPDESK_TYPO is ignored",)
    assert (
        Settings.from_env({"HELPDESK_INSTANCE_DIR": str(tmp_path)}).database_url
        == f"sqlite:///{tmp_path}/helpdesk.sqlite3"
    )
    assert Settings.from_env({"HELPDESK_BASE_URL": "https://h.example/"}).secure_cookies is True


@pytest.mark.slow  # a subprocess server or CLI
def test_cli_exits_2_on_a_bad_setting() -> None:
    env = {**os.environ, "HELPDESK_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "helpdesk", "index", "--check"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "configuration error: HELPDESK_PORT='not-a-port' is not a whole number" in result.stderr


def test_every_setting_of_the_table_is_known_and_applies(tmp_path: Path) -> None:
    """Issue 8, item 22: HELPDESK_LOCKOUT_MINUTES=5 was warned about as unknown, yet applied."""
    from helpdesk.config_table import SETTINGS

    settings = Settings.from_env({"HELPDESK_LOCKOUT_MINUTES": "5", "HELPDESK_INSTANCE_DIR": str(tmp_path)})
    assert settings.warnings == ()
    assert settings.flask_config()["LOCKOUT_MINUTES"] == 5
    every = {
        s.name: (s.default or str(s.low or 1))
        if s.kind in ("int", "float")
        else "1"
        if s.kind == "bool"
        else (s.default or "x")
        for s in SETTINGS
    }
    every.update(
        {
            "HELPDESK_BASE_URL": "http://h.example",
            "HELPDESK_ENV": "development",
            "DATABASE_URL": "",
            "HELPDESK_PASSWORD_MIN_LENGTH": "8",
            "MAIL_USE_SSL": "0",
            "HELPDESK_ROLE_MAILBOXES": "it",
            "HELPDESK_LEARN_MIN_PEOPLE": "2",
        }
    )
    assert Settings.from_env(every).warnings == ()


@pytest.mark.parametrize(
    ("name", "value", "key", "expected"),
    [
        ("HELPDESK_LOCKOUT_THRESHOLD", "7", "LOCKOUT_THRESHOLD", 7),
        ("HELPDESK_SESSION_HOURS", "3", "SESSION_HOURS", 3),
        ("HELPDESK_INDEX_CHECK_SECONDS", "0.5", "INDEX_CHECK_SECONDS", 0.5),
        ("HELPDESK_LOGIN_LIMIT_PER_ADDRESS", "5 per minute", "LOGIN_LIMIT_PER_ADDRESS", "5 per minute"),
        ("MAIL_USE_TLS", "yes", "MAIL_USE_TLS", True),
        ("HELPDESK_KB_STATE_SECTIONS", "yes", "KB_STATE_SECTIONS", True),
        ("HELPDESK_ROLE_MAILBOXES", "IT, Help", "ROLE_MAILBOXES", ("it", "help")),
    ],
)
def test_typed_values_reach_the_flask_config(name: str, value: str, key: str, expected: object) -> None:
    assert Settings.from_env({name: value}).flask_config()[key] == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HELPDESK_LOCKOUT_MINUTES": "0"}, "HELPDESK_LOCKOUT_MINUTES=0 is out of range"),
        ({"MAIL_USE_TLS": "1", "MAIL_USE_SSL": "1"}, "cannot both"),
        ({"HELPDESK_MFA_ROLES": "boss"}, "unknown role"),
        ({"HELPDESK_INDEX_CHECK_SECONDS": "soon"}, "HELPDESK_INDEX_CHECK_SECONDS"),
    ],
)
def test_more_bad_values_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_readme_configuration_table_is_the_settings_table() -> None:
    """The README's table is generated from the settings table (`markdown_table()` prints it)."""
    from helpdesk.config_table import markdown_table

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("| variable | default | meaning |")
    table = readme[start : readme.index("\n\n", start) + 1]
    assert table == markdown_table(), "README's configuration table is stale: paste markdown_table()"
