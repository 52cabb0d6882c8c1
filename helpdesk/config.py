"""Typed settings read from the environment (`HELPDESK_*`, `DATABASE_URL`, `MAIL_*`; see config_table) and
validated at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from helpdesk import rate_storage
from helpdesk.config_table import ConfigError as ConfigError  # re-exported: part of this module's API
from helpdesk.config_table import parse_bool as parse_bool  # re-exported: callers import it from here
from helpdesk.config_table import read, read_keyed, unknown_settings
from helpdesk.search.model.location import default_model_dir
from helpdesk.vocabulary import Role

#: The project root: `articles/` and `search_index/` live beside the `helpdesk/` package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_ROLES = tuple(Role)


def _mail_settings(env: dict[str, str]) -> dict[str, Any]:
    """Check Flask-Mail's MAIL_* variables together (TLS and SSL not both); user and password only when set."""
    mail = {key: value for key, value in read_keyed(env).items() if key.startswith("MAIL_")}
    if mail["MAIL_USE_TLS"] and mail["MAIL_USE_SSL"]:
        raise ConfigError("MAIL_USE_TLS and MAIL_USE_SSL cannot both be on: choose STARTTLS (TLS) or SMTPS (SSL)")
    for key in ("MAIL_USERNAME", "MAIL_PASSWORD"):
        if env.get(key):
            mail[key] = env[key]
    return mail


def _account_settings(env: dict[str, str]) -> dict[str, Any]:
    """Parse the account policy variables."""
    values = {
        key: value for key, value in read_keyed(env).items() if not key.startswith("MAIL_") and key not in _GENERAL_KEYS
    }
    roles = read(env, "HELPDESK_MFA_ROLES")
    if any(role not in _ROLES for role in roles):
        raise ConfigError(f"HELPDESK_MFA_ROLES names an unknown role; roles are {', '.join(_ROLES)}")
    values["MFA_ROLES"] = roles
    mailboxes = read(env, "HELPDESK_ROLE_MAILBOXES")
    if mailboxes:
        values["ROLE_MAILBOXES"] = tuple(m.lower() for m in mailboxes)
    return values


#: Keyed variables that are fields of `Settings` rather than account settings.
_GENERAL_KEYS = {"VOTE_LIMIT_PER_VOTER", "VOTE_LIMIT_PER_ADDRESS", "SEARCH_LIMIT_PER_ADDRESS", "INDEX_CHECK_SECONDS"}


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way (postgres:// or postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"HELPDESK_BASE_URL={value!r} must be an absolute http(s) URL such as https://help.example.org"
        )
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
        mode = read(env, "HELPDESK_ENV")
        instance = Path(get("HELPDESK_INSTANCE_DIR") or PROJECT_ROOT / "instance").resolve()
        port = read(env, "HELPDESK_PORT")
        base_url = _base_url(get("HELPDESK_BASE_URL") or f"http://127.0.0.1:{port}")
        secret = get("HELPDESK_SECRET_KEY", "")
        if mode == "production":
            if len(secret) < 32:
                raise ConfigError("HELPDESK_SECRET_KEY must be set to at least 32 random characters in production")
            if not base_url.startswith("https://"):
                raise ConfigError("HELPDESK_BASE_URL must be an https:// URL in production")
        secure = read(env, "HELPDESK_SECURE_COOKIES")
        return cls(
            env=mode,
            instance_dir=instance,
            articles_dir=Path(get("HELPDESK_ARTICLES_DIR") or PROJECT_ROOT / "articles").resolve(),
            index_dir=Path(get("HELPDESK_INDEX_DIR") or PROJECT_ROOT / "search_index").resolve(),
            embedding_model=Path(get("HELPDESK_EMBEDDING_MODEL") or default_model_dir()).resolve(),
            triage_dir=Path(get("HELPDESK_TRIAGE_DIR") or PROJECT_ROOT / "tickets").resolve(),
            database_url=normalize_database_url(get("DATABASE_URL") or f"sqlite:///{instance / 'helpdesk.sqlite3'}"),
            host=read(env, "HELPDESK_HOST"),
            port=port,
            base_url=base_url,
            secret_key=secret,
            redis_url=get("HELPDESK_REDIS_URL", ""),
            workers=read(env, "HELPDESK_WORKERS"),
            secure_cookies=base_url.startswith("https://") if secure is None else secure,
            trusted_proxies=read(env, "HELPDESK_TRUSTED_PROXIES"),
            index_check_seconds=read(env, "HELPDESK_INDEX_CHECK_SECONDS"),
            vote_limit_per_voter=read(env, "HELPDESK_VOTE_LIMIT_PER_VOTER"),
            vote_limit_per_address=read(env, "HELPDESK_VOTE_LIMIT_PER_ADDRESS"),
            search_limit_per_address=read(env, "HELPDESK_SEARCH_LIMIT_PER_ADDRESS"),
            mail=_mail_settings(env),
            accounts=_account_settings(env),
            warnings=tuple(f"unknown setting {k} is ignored" for k in unknown_settings(env)),
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
            "RATELIMIT_STORAGE_URI": self.redis_url or f"{rate_storage.SCHEME}://",
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
