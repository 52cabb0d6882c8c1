"""Typed settings read from the environment (`HELPDESK_*`, `DATABASE_URL`, `MAIL_*`) and validated at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from helpdesk.search.model.location import default_model_dir

#: The project root: `articles/` and `search_index/` live beside the `helpdesk/` package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_KNOWN = {
    "HELPDESK_ENV", "HELPDESK_INSTANCE_DIR", "HELPDESK_ARTICLES_DIR", "HELPDESK_INDEX_DIR", "HELPDESK_HOST",
    "HELPDESK_EMBEDDING_MODEL",
    "HELPDESK_PORT", "HELPDESK_BASE_URL", "HELPDESK_SECRET_KEY", "HELPDESK_REDIS_URL", "HELPDESK_WORKERS",
    "HELPDESK_SECURE_COOKIES", "HELPDESK_TRUSTED_PROXIES", "HELPDESK_INDEX_CHECK_SECONDS",
    "HELPDESK_VOTE_LIMIT_PER_VOTER", "HELPDESK_VOTE_LIMIT_PER_ADDRESS", "HELPDESK_SEARCH_LIMIT_PER_ADDRESS",
    "HELPDESK_TEST_DATABASE_URL", "HELPDESK_REQUIRE_BROWSER", "HELPDESK_MFA_ROLES", "HELPDESK_ROLE_MAILBOXES",
    "HELPDESK_LOGIN_LIMIT_PER_ADDRESS", "HELPDESK_SCREENSHOT_DIR", "HELPDESK_TRIAGE_DIR",
}


#: Whole-number account settings: variable -> (Flask key, default, lowest, highest).
_INT_SETTINGS = {
    "HELPDESK_PASSWORD_MIN_LENGTH": ("PASSWORD_MIN_LENGTH", 15, 8, 64),
    "HELPDESK_LOCKOUT_THRESHOLD": ("LOCKOUT_THRESHOLD", 5, 1, 100),
    "HELPDESK_LOCKOUT_MINUTES": ("LOCKOUT_MINUTES", 10, 1, 1440),
    "HELPDESK_LINK_MINUTES": ("LINK_MINUTES", 20, 1, 1440),
    "HELPDESK_IDLE_MINUTES": ("IDLE_MINUTES", 30, 1, 1440),
    "HELPDESK_SESSION_HOURS": ("SESSION_HOURS", 12, 1, 24),
    "HELPDESK_PRIVACY_VERSION": ("PRIVACY_VERSION", 1, 1, 10_000),
    "HELPDESK_INACTIVE_DAYS": ("INACTIVE_DAYS", 90, 1, 3650),
}
_ROLES = ("po_support", "po", "po_supervisor", "local_it", "compact_office", "state_admin", "national_admin")


class ConfigError(ValueError):
    """A setting with a bad value; the message names the variable and what it accepts."""


def parse_bool(name: str, value: str) -> bool:
    """Parse a boolean variable: 1/0/true/false/yes/no (any case)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean: use 1/0, true/false or yes/no")


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if not low <= number <= high:
        raise ConfigError(f"{name}={number} is out of range ({low} to {high})")
    return number


def _rate(name: str, value: str) -> str:
    from limits import parse_many  # imported here: only start-up validation needs it

    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a rate limit such as '300 per minute'") from None
    return value


_MAIL_KNOWN = {"MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD",
               "MAIL_DEFAULT_SENDER", "MAIL_TIMEOUT", "MAIL_MAX_ATTEMPTS"}


def _mail_settings(env: dict[str, str]) -> dict[str, Any]:
    """Parse Flask-Mail's MAIL_* variables (ports and flags typed, TLS and SSL not both)."""
    mail: dict[str, Any] = {"MAIL_SERVER": env.get("MAIL_SERVER", ""),
                            "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "Helpdesk <helpdesk@localhost>")}
    mail["MAIL_PORT"] = _int("MAIL_PORT", env.get("MAIL_PORT", "25"), 1, 65535)
    mail["MAIL_USE_TLS"] = parse_bool("MAIL_USE_TLS", env.get("MAIL_USE_TLS", "0"))
    mail["MAIL_USE_SSL"] = parse_bool("MAIL_USE_SSL", env.get("MAIL_USE_SSL", "0"))
    if mail["MAIL_USE_TLS"] and mail["MAIL_USE_SSL"]:
        raise ConfigError("MAIL_USE_TLS and MAIL_USE_SSL cannot both be on: choose STARTTLS (TLS) or SMTPS (SSL)")
    mail["MAIL_TIMEOUT"] = _int("MAIL_TIMEOUT", env.get("MAIL_TIMEOUT", "30"), 1, 600)
    mail["MAIL_MAX_ATTEMPTS"] = _int("MAIL_MAX_ATTEMPTS", env.get("MAIL_MAX_ATTEMPTS", "8"), 1, 100)
    for key in ("MAIL_USERNAME", "MAIL_PASSWORD"):
        if env.get(key):
            mail[key] = env[key]
    return mail


def _account_settings(env: dict[str, str]) -> dict[str, Any]:
    """Parse the account policy variables."""
    values: dict[str, Any] = {key: _int(name, env.get(name, str(default)), low, high)
                              for name, (key, default, low, high) in _INT_SETTINGS.items()}
    roles = tuple(r.strip() for r in env.get("HELPDESK_MFA_ROLES", "compact_office,state_admin,national_admin")
                  .split(",") if r.strip())
    if any(role not in _ROLES for role in roles):
        raise ConfigError(f"HELPDESK_MFA_ROLES names an unknown role; roles are {', '.join(_ROLES)}")
    values["MFA_ROLES"] = roles
    if env.get("HELPDESK_ROLE_MAILBOXES"):
        values["ROLE_MAILBOXES"] = tuple(m.strip().lower() for m in env["HELPDESK_ROLE_MAILBOXES"].split(",")
                                         if m.strip())
    values["LOGIN_LIMIT_PER_ADDRESS"] = _rate("HELPDESK_LOGIN_LIMIT_PER_ADDRESS",
                                              env.get("HELPDESK_LOGIN_LIMIT_PER_ADDRESS", "300 per minute"))
    return values


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way (postgres:// or postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"HELPDESK_BASE_URL={value!r} must be an absolute http(s) URL such as https://help.example.org")
    return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting the app reads, with its default."""

    env: str = "development"
    instance_dir: Path = PROJECT_ROOT / "instance"
    articles_dir: Path = PROJECT_ROOT / "articles"
    index_dir: Path = PROJECT_ROOT / "search_index"
    #: A folder with model.onnx + tokenizer.json (scripts/_setup.sh installs MiniLM there); missing: lexical search.
    embedding_model: Path = field(default_factory=default_model_dir)
    triage_dir: Path = PROJECT_ROOT / "tickets"
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 5000
    base_url: str = ""
    secret_key: str = ""
    redis_url: str = ""
    workers: int = 2
    secure_cookies: bool = False
    trusted_proxies: int = 0
    index_check_seconds: float = 2.0
    vote_limit_per_voter: str = "10 per minute"
    vote_limit_per_address: str = "600 per minute"
    search_limit_per_address: str = "1200 per minute"
    mail: dict[str, Any] = field(default_factory=dict)
    accounts: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raise ConfigError on the first bad value."""
        env = dict(os.environ if environ is None else environ)
        get = env.get
        mode = get("HELPDESK_ENV", "development").strip().lower()
        if mode not in ("development", "production"):
            raise ConfigError(f"HELPDESK_ENV={mode!r} must be 'development' or 'production'")
        instance = Path(get("HELPDESK_INSTANCE_DIR") or PROJECT_ROOT / "instance").resolve()
        port = _int("HELPDESK_PORT", get("HELPDESK_PORT", "5000"), 1, 65535)
        base_url = _base_url(get("HELPDESK_BASE_URL") or f"http://127.0.0.1:{port}")
        secret = get("HELPDESK_SECRET_KEY", "")
        if mode == "production":
            if len(secret) < 32:
                raise ConfigError("HELPDESK_SECRET_KEY must be set to at least 32 random characters in production")
            if not base_url.startswith("https://"):
                raise ConfigError("HELPDESK_BASE_URL must be an https:// URL in production")
        secure_default = "1" if base_url.startswith("https://") else "0"
        try:
            check_seconds = float(get("HELPDESK_INDEX_CHECK_SECONDS", "2"))
        except ValueError:
            raise ConfigError("HELPDESK_INDEX_CHECK_SECONDS must be a number of seconds") from None
        if check_seconds < 0:
            raise ConfigError("HELPDESK_INDEX_CHECK_SECONDS must not be negative")
        unknown = sorted(k for k in env if (k.startswith("HELPDESK_") and k not in _KNOWN)
                         or (k.startswith("MAIL_") and k not in _MAIL_KNOWN))
        return cls(
            env=mode,
            instance_dir=instance,
            articles_dir=Path(get("HELPDESK_ARTICLES_DIR") or PROJECT_ROOT / "articles").resolve(),
            index_dir=Path(get("HELPDESK_INDEX_DIR") or PROJECT_ROOT / "search_index").resolve(),
            embedding_model=Path(get("HELPDESK_EMBEDDING_MODEL") or default_model_dir()).resolve(),
            triage_dir=Path(get("HELPDESK_TRIAGE_DIR") or PROJECT_ROOT / "tickets").resolve(),
            database_url=normalize_database_url(get("DATABASE_URL") or f"sqlite:///{instance / 'helpdesk.sqlite3'}"),
            host=get("HELPDESK_HOST", "127.0.0.1"),
            port=port,
            base_url=base_url,
            secret_key=secret,
            redis_url=get("HELPDESK_REDIS_URL", ""),
            workers=_int("HELPDESK_WORKERS", get("HELPDESK_WORKERS", "2"), 1, 64),
            secure_cookies=parse_bool("HELPDESK_SECURE_COOKIES", get("HELPDESK_SECURE_COOKIES", secure_default)),
            trusted_proxies=_int("HELPDESK_TRUSTED_PROXIES", get("HELPDESK_TRUSTED_PROXIES", "0"), 0, 5),
            index_check_seconds=check_seconds,
            vote_limit_per_voter=_rate("HELPDESK_VOTE_LIMIT_PER_VOTER",
                                       get("HELPDESK_VOTE_LIMIT_PER_VOTER", "10 per minute")),
            vote_limit_per_address=_rate("HELPDESK_VOTE_LIMIT_PER_ADDRESS",
                                         get("HELPDESK_VOTE_LIMIT_PER_ADDRESS", "600 per minute")),
            search_limit_per_address=_rate("HELPDESK_SEARCH_LIMIT_PER_ADDRESS",
                                           get("HELPDESK_SEARCH_LIMIT_PER_ADDRESS", "1200 per minute")),
            mail=_mail_settings(env),
            accounts=_account_settings(env),
            warnings=tuple(f"unknown setting {k} is ignored" for k in unknown),
        )

    def flask_config(self) -> dict[str, Any]:
        """Return the Flask config mapping for these settings."""
        return {
            "HELPDESK_ENV": self.env,
            "SECRET_KEY": self.secret_key,
            "INSTANCE_DIR": self.instance_dir,
            "ARTICLES_DIR": self.articles_dir,
            "INDEX_DIR": self.index_dir,
            "EMBEDDING_MODEL": self.embedding_model,
            "TRIAGE_POLICY_DIR": self.triage_dir,
            "DATABASE_URL": self.database_url,
            "BASE_URL": self.base_url,
            "INDEX_CHECK_SECONDS": self.index_check_seconds,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "VOTE_LIMIT_PER_VOTER": self.vote_limit_per_voter,
            "VOTE_LIMIT_PER_ADDRESS": self.vote_limit_per_address,
            "SEARCH_LIMIT_PER_ADDRESS": self.search_limit_per_address,
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_HEADERS_ENABLED": True,
            "SESSION_COOKIE_SECURE": self.secure_cookies,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            # Voters keep a page open for long; the token lives as long as the session instead of 1 h.
            "WTF_CSRF_TIME_LIMIT": None,
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "MAIL_DIR": self.instance_dir / "mail",
            **self.mail,
            **self.accounts,
        }


def instance_secret(instance_dir: Path) -> str:
    """Return the secret key kept in the instance folder, creating it once (shared by every worker)."""
    path = instance_dir / "secret_key"
    instance_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()
