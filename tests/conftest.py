"""Fixtures: a fresh app per test on a real database (SQLite file, or PostgreSQL when configured)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from helpdesk import create_app
from helpdesk.accounts.models import User
from helpdesk.orm import upgrade_database
from tests import factories
from tests.databases import PostgresDatabases, worker_name
from tests.helpers import close_app, read_csrf_token

REPO = Path(__file__).resolve().parent.parent
ARTICLES = REPO / "articles"
#: Set by CI to run the database tests again against PostgreSQL.
PG_URL = os.environ.get("HELPDESK_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "helpdesk.sqlite3"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases | None]:
    """This process's PostgreSQL databases (template + working copy), or None on SQLite."""
    if not PG_URL:
        yield None
        return
    databases = PostgresDatabases(PG_URL, worker_name())
    yield databases
    databases.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres: PostgresDatabases | None) -> str:
    """A fresh, migrated database for this test (a copy of the migrated template)."""
    if postgres is not None:
        return postgres.fresh()
    path = tmp_path / "helpdesk.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)  # asked for here only: no SQLite file on PG
    return f"sqlite:///{path}"


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A private copy of the real articles, which a test may edit."""
    target = tmp_path / "articles"
    shutil.copytree(ARTICLES, target)
    return target


@pytest.fixture
def app_config(tmp_path: Path, database_url: str, articles_dir: Path) -> dict[str, Any]:
    """The test configuration; tests may change it before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": tmp_path / "instance",
        "MAIL_DIR": tmp_path / "instance" / "mail",
        "ARTICLES_DIR": articles_dir,
        "INDEX_DIR": tmp_path / "search_index",
        "INDEX_CHECK_SECONDS": 0,
        "RATELIMIT_STORAGE_URI": "memory://",
        "BASE_URL": "https://help.example.org",
        "PASSWORD_FAST_HASH": True,
    }


@pytest.fixture
def slow_writer_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A search-log writer that would wait an hour: only a flush, a close or an exit writes (no race with its
    thread on a busy machine)."""
    app_config["SEARCH_LOG_FLUSH_SECONDS"] = 3600
    return app_config


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """The app, with CSRF protection on as in production."""
    app = create_app(app_config)
    yield app
    close_app(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner bound to the app."""
    return app.test_cli_runner()


@pytest.fixture
def login(app: Flask) -> Callable[[User], FlaskClient]:
    """Return a new client signed in as the user through the real forms (the ticket tests sign in by first name)."""
    return lambda user: factories.signed_in_client(app, user)


@pytest.fixture
def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of `client`'s session."""
    return read_csrf_token(client)
