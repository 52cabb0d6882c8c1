"""The table of settings: each variable's type, default and meaning drives parsing, the unknown-setting warning
and the README's configuration table (`markdown_table()`; tests/test_config.py checks README against it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A setting with a bad value; the message names the variable and what it accepts."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One environment variable: how to read it, its default (None: unset) and what it means."""

    name: str
    kind: str  # text, int, float, bool, rate, list, choice (`low` holds the choices)
    default: str | None
    meaning: str
    low: Any = None
    high: Any = None
    #: The Flask config key, for a variable that goes to the config as read (others are combined in config.py).
    key: str = ""
    #: The default as the README shows it, where it is not simply `default`.
    shown: str = ""


S = Setting
#: Every variable the program reads, in the README's order. Add a row here to add a setting.
SETTINGS: tuple[Setting, ...] = (
    S(
        "HELPDESK_ENV",
        "choice",
        "development",
        "`production` requires `HELPDESK_SECRET_KEY` and an `https://` base URL",
        low=("development", "production"),
    ),
    S("HELPDESK_INSTANCE_DIR", "text", None, "SQLite file, generated secret key, mail files", shown="`instance/`"),
    S(
        "HELPDESK_ARTICLES_DIR",
        "text",
        None,
        "the seed articles (Markdown and `sections.yml`): imported into an empty database at the first start",
        shown="`articles/`",
    ),
    S("HELPDESK_INDEX_DIR", "text", None, "the Whoosh index (derived; safe to delete)", shown="`search_index/`"),
    S(
        "HELPDESK_EMBEDDING_MODEL",
        "text",
        None,
        "a folder with `model.onnx` + `tokenizer.json` (a BERT-style sentence-embedding model whose first output "
        "is the token states; they are mean-pooled and queries get no prefix, as MiniLM, the default, expects: a "
        "CLS-pooled model such as bge-small, or e5 that wants `query: ` prefixes, would run below its quality); "
        'missing or unusable: search stays lexical, says so in `/healthz` (`"search": "lexical"`) and the log',
        shown="`.venv/share/helpdesk-model/all-minilm-l6-v2-int8`",
    ),
    S("HELPDESK_TRIAGE_DIR", "text", None, "the triage policy files (categories, routing, SLAs)", shown="`tickets/`"),
    S(
        "DATABASE_URL",
        "text",
        None,
        "e.g. `postgresql://user:pass@host/helpdesk` (psycopg 3)",
        shown="`sqlite:///instance/helpdesk.sqlite3`",
    ),
    S("HELPDESK_HOST", "text", "127.0.0.1", "the address `serve` listens on (`serve --host` overrides it)"),
    S(
        "HELPDESK_PORT",
        "int",
        "5000",
        "the port `serve` listens on, and the port of the default base URL (`serve --port` sets both)",
        1,
        65535,
    ),
    S("HELPDESK_WORKERS", "int", "2", "worker processes of `serve`", 1, 64),
    S(
        "HELPDESK_BASE_URL",
        "text",
        None,
        "the public address; links in e-mails are built from it, never from the Host header",
        shown="`http://127.0.0.1:<port>`",
    ),
    S(
        "HELPDESK_SECRET_KEY",
        "text",
        None,
        "session and CSRF signing key (32+ characters in production)",
        shown="generated once into `instance/secret_key`",
    ),
    S("HELPDESK_SECURE_COOKIES", "bool", None, "`Secure` flag on cookies", shown="on when the base URL is `https://`"),
    S(
        "HELPDESK_TRUSTED_PROXIES",
        "int",
        "0",
        "number of reverse proxies in front whose `X-Forwarded-For`/`-Proto` are trusted",
        0,
        5,
    ),
    S(
        "HELPDESK_REDIS_URL",
        "text",
        None,
        "shared storage for rate limits across workers and hosts",
        shown="(none: per-process memory)",
    ),
    S("HELPDESK_VOTE_LIMIT_PER_VOTER", "rate", "10 per minute", "votes one voter may cast", key="VOTE_LIMIT_PER_VOTER"),
    S(
        "HELPDESK_VOTE_LIMIT_PER_ADDRESS",
        "rate",
        "600 per minute",
        "votes from one address (an office behind NAT)",
        key="VOTE_LIMIT_PER_ADDRESS",
    ),
    S(
        "HELPDESK_NEW_VOTERS_PER_ADDRESS",
        "rate",
        "60 per hour",
        "new signed-out voter ids one address may be given (counts new ids, not votes)",
        key="NEW_VOTERS_PER_ADDRESS",
    ),
    S(
        "HELPDESK_SEARCH_LIMIT_PER_ADDRESS",
        "rate",
        "1200 per minute",
        "searches from one address",
        key="SEARCH_LIMIT_PER_ADDRESS",
    ),
    S(
        "HELPDESK_INDEX_CHECK_SECONDS",
        "float",
        "2",
        "how often a worker looks for changed articles (the content version in the database)",
        0,
        key="INDEX_CHECK_SECONDS",
    ),
    S(
        "HELPDESK_PASSWORD_MIN_LENGTH",
        "int",
        "15",
        "minimum password length (8 at least)",
        8,
        64,
        key="PASSWORD_MIN_LENGTH",
    ),
    S("HELPDESK_LOCKOUT_THRESHOLD", "int", "5", "failed sign-ins before a lockout", 1, 100, key="LOCKOUT_THRESHOLD"),
    S("HELPDESK_LOCKOUT_MINUTES", "int", "10", "the length of a lockout", 1, 1440, key="LOCKOUT_MINUTES"),
    S("HELPDESK_LINK_MINUTES", "int", "20", "lifetime of reset and first-time links", 1, 1440, key="LINK_MINUTES"),
    S("HELPDESK_IDLE_MINUTES", "int", "30", "a session ends after this long idle", 1, 1440, key="IDLE_MINUTES"),
    S("HELPDESK_SESSION_HOURS", "int", "12", "a session ends after this long in any case", 1, 24, key="SESSION_HOURS"),
    S(
        "HELPDESK_PRIVACY_VERSION",
        "int",
        "1",
        "raise it to ask every user to accept the privacy policy again",
        1,
        10_000,
        key="PRIVACY_VERSION",
    ),
    S(
        "HELPDESK_MFA_ROLES",
        "list",
        "compact_office,state_admin,national_admin",
        "roles that must use a second factor (a state can require it of all its users)",
    ),
    S(
        "HELPDESK_ROLE_MAILBOXES",
        "list",
        None,
        "mailbox names refused as personal sign-in addresses",
        shown="`admin,compact,help,helpdesk,info,it,noreply,...`",
    ),
    S("HELPDESK_INACTIVE_DAYS", "int", "90", "the inactive-users report", 1, 3650, key="INACTIVE_DAYS"),
    S(
        "HELPDESK_LEARN_MIN_PEOPLE",
        "int",
        "3",
        "distinct people whose searches must agree before a phrasing is learned for a question",
        2,
        1000,
        key="LEARN_MIN_PEOPLE",
    ),
    S(
        "HELPDESK_KB_STATE_SECTIONS",
        "bool",
        "0",
        "a state's `kb_editor`s may write the articles of their state's section (section slug = state code, e.g. "
        "`tx`); off, the FAQ is national: only national editors write",
        key="KB_STATE_SECTIONS",
    ),
    S(
        "HELPDESK_SEARCH_LOG_DAYS",
        "int",
        "180",
        "days the search log (what people typed) is kept; a daily sweep deletes older searches",
        1,
        3650,
        key="SEARCH_LOG_DAYS",
    ),
    S(
        "HELPDESK_SEARCH_LOG_FLUSH_SECONDS",
        "float",
        "1",
        "how often a worker writes its searches (search page, API) to the search log, in one transaction (and "
        "when it stops); `0`: each search request writes its own",
        0,
        key="SEARCH_LOG_FLUSH_SECONDS",
    ),
    S(
        "HELPDESK_LOGIN_LIMIT_PER_ADDRESS",
        "rate",
        "300 per minute",
        "sign-in attempts from one address (an office behind NAT)",
        key="LOGIN_LIMIT_PER_ADDRESS",
    ),
    S("MAIL_SERVER", "text", "", "the SMTP server (Flask-Mail)", shown="no server: `.eml` files", key="MAIL_SERVER"),
    S("MAIL_PORT", "int", "25", "its port", 1, 65535, key="MAIL_PORT"),
    S("MAIL_USE_TLS", "bool", "0", "STARTTLS (not with `MAIL_USE_SSL`)", key="MAIL_USE_TLS"),
    S("MAIL_USE_SSL", "bool", "0", "SMTPS (not with `MAIL_USE_TLS`)", key="MAIL_USE_SSL"),
    S("MAIL_USERNAME", "text", None, "SMTP user name", shown="(none)"),
    S("MAIL_PASSWORD", "text", None, "SMTP password", shown="(none)"),
    S(
        "MAIL_DEFAULT_SENDER",
        "text",
        "Helpdesk <helpdesk@localhost>",
        "the From of every message",
        key="MAIL_DEFAULT_SENDER",
    ),
    S("MAIL_TIMEOUT", "int", "30", "SMTP timeout (s)", 1, 600, key="MAIL_TIMEOUT"),
    S("MAIL_MAX_ATTEMPTS", "int", "8", "attempts before a message is marked dead", 1, 100, key="MAIL_MAX_ATTEMPTS"),
    S(
        "HELPDESK_TEST_DATABASE_URL",
        "text",
        None,
        "tests only: run the database tests against this PostgreSQL",
        shown="(none: SQLite)",
    ),
    S(
        "HELPDESK_REQUIRE_BROWSER",
        "bool",
        None,
        "tests only: fail, not skip, the browser tests without Chromium",
        shown="off",
    ),
    S(
        "HELPDESK_REQUIRE_MODEL",
        "bool",
        None,
        "tests only: fail, not skip, the tests of the embedding model without it",
        shown="off",
    ),
    S("HELPDESK_SCREENSHOT_DIR", "text", None, "tests only: where the browser tests save screenshots", shown="`/tmp`"),
)
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


def parse_bool(name: str, value: str) -> bool:
    """Parse a boolean variable: 1/0/true/false/yes/no (any case)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean: use 1/0, true/false or yes/no")


def parse_int(name: str, value: str, low: int, high: int) -> int:
    """Parse a whole number within [low, high]."""
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if not low <= number <= high:
        raise ConfigError(f"{name}={number} is out of range ({low} to {high})")
    return number


def _float(name: str, value: str, low: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} must be a number") from None
    if not number >= low:  # also refuses NaN
        raise ConfigError(f"{name}={value!r} must not be negative" if low == 0 else f"{name} must be {low} or more")
    return number


def _rate(name: str, value: str) -> str:
    from limits import parse_many  # imported here: only start-up validation needs it

    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a rate limit such as '300 per minute'") from None
    return value


def read(env: Mapping[str, str], name: str) -> Any:
    """Return the typed value of `name` from `env`, or its default (None when it has none and is unset)."""
    setting = SETTINGS_BY_NAME[name]
    raw = env.get(name)
    if raw is None:
        raw = setting.default
    if raw is None:
        return None
    if setting.kind == "int":
        return parse_int(name, raw, setting.low, setting.high)
    if setting.kind == "float":
        return _float(name, raw, setting.low)
    if setting.kind == "bool":
        return parse_bool(name, raw)
    if setting.kind == "rate":
        return _rate(name, raw)
    if setting.kind == "list":
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if setting.kind == "choice":
        value = raw.strip().lower()
        if value not in setting.low:
            raise ConfigError(f"{name}={value!r} must be {' or '.join(repr(c) for c in setting.low)}")
        return value
    return raw


def read_keyed(env: Mapping[str, str]) -> dict[str, Any]:
    """Return the Flask config of every variable that goes to the config as read."""
    return {setting.key: read(env, setting.name) for setting in SETTINGS if setting.key}


def unknown_settings(env: Mapping[str, str]) -> list[str]:
    """Return the HELPDESK_* and MAIL_* variables of `env` that no row of the table names."""
    return sorted(k for k in env if k.startswith(("HELPDESK_", "MAIL_")) and k not in SETTINGS_BY_NAME)


def markdown_table() -> str:
    """Return the README's configuration table."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = setting.shown or (f"`{setting.default}`" if setting.default else "(none)")
        lines.append(f"| `{setting.name}` | {default} | {setting.meaning} |")
    return "\n".join(lines) + "\n"
