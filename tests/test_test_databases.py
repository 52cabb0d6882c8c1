"""The PostgreSQL test databases: copies of a migrated template, one working database per run and worker."""

from __future__ import annotations

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from helpdesk.orm import alembic_config
from tests.conftest import PG_URL
from tests.databases import DROP_BATCH, PostgresDatabases, migrations_hash, worker_name

#: The worker name of the databases made here: apart from this run's own (and from other xdist workers').
SELF = f"selftest_{worker_name()}"
pytestmark = [pytest.mark.db, pytest.mark.skipif(not PG_URL, reason="needs HELPDESK_TEST_DATABASE_URL")]


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _databases(url: str) -> set[str]:
    with psycopg.connect(_plain(url), autocommit=True) as connection:
        return {name for (name,) in connection.execute("SELECT datname FROM pg_database")}


def test_a_fresh_copy_is_migrated_to_head_and_forgets_the_tests_before() -> None:
    databases = PostgresDatabases(PG_URL, SELF)
    try:
        assert databases.template.endswith(f"_tpl_{migrations_hash()}")
        urls = []
        for _ in range(2):
            engine = create_engine(databases.fresh())
            urls.append(engine.url.render_as_string(hide_password=False))
            with engine.begin() as connection:
                head = ScriptDirectory.from_config(alembic_config(urls[-1])).get_current_head()
                assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head
                assert connection.scalar(text("SELECT to_regclass('left_behind')")) is None
                connection.execute(text("CREATE TABLE left_behind (id integer)"))
            engine.dispose()
        assert urls[0] != urls[1]
    finally:
        databases.close()
    assert not any(name.startswith(f"{databases.name}_c") for name in _databases(PG_URL))  # dropped at the end


def test_a_used_database_is_emptied_back_to_the_templates_rows() -> None:
    databases = PostgresDatabases(PG_URL, SELF)
    try:
        url = databases.fresh()
        engine = create_engine(url)
        with engine.begin() as connection:
            states = connection.scalar(text("SELECT count(*) FROM state"))
            agency = connection.execute(text("SELECT id, name FROM agency ORDER BY id LIMIT 1")).one()
            connection.execute(text("UPDATE agency SET name = 'Renamed' WHERE id = :id"), {"id": agency.id})
            connection.execute(text("INSERT INTO state (code, name, requires_mfa) VALUES ('ZZ', 'Zed', false)"))
            connection.execute(
                text("INSERT INTO kb_section (slug, title, description, position) VALUES ('s', 'S', '', 1)")
            )
            first = connection.scalar(text("SELECT nextval('agency_id_seq')"))
        engine.dispose()
        assert databases.fresh() == url  # emptied, not copied
        engine = create_engine(url)
        with engine.begin() as connection:
            assert connection.scalar(text("SELECT count(*) FROM state")) == states
            assert connection.scalar(text("SELECT name FROM agency WHERE id = :id"), {"id": agency.id}) == agency.name
            assert connection.scalar(text("SELECT count(*) FROM kb_section")) == 0
            again = connection.scalar(text("SELECT nextval('agency_id_seq')"))
        engine.dispose()
        assert again == first  # sequences start where the template's did
    finally:
        databases.close()


def test_two_runs_on_one_server_never_share_a_working_database() -> None:
    first = PostgresDatabases(PG_URL, SELF)
    second = PostgresDatabases(PG_URL, SELF)
    try:
        assert first.template == second.template
        assert second.name == f"{first.name}_1"
        names = {make_url(first.fresh()).database, make_url(second.fresh()).database}
        assert names == {f"{first.name}_c1", f"{second.name}_c1"} and names <= _databases(PG_URL)
    finally:
        first.close()
        second.close()


def test_a_stale_template_is_dropped_only_when_no_run_holds_it() -> None:
    base = make_url(PG_URL).database
    stale = f"{base}_tpl_000000000000"
    with psycopg.connect(_plain(PG_URL), autocommit=True) as other_run:
        other_run.execute(f'DROP DATABASE IF EXISTS "{stale}"')
        other_run.execute(f'CREATE DATABASE "{stale}"')
        # Another checkout's run (other migrations) is using its template: it must survive.
        other_run.execute(
            "SELECT pg_advisory_lock_shared(hashtextextended(%s, 0))", (f"helpdesk-test-template:{stale}",)
        )
        PostgresDatabases(PG_URL, SELF).close()
        assert stale in _databases(PG_URL)
    # That run ended (its connection, and so its lock, is gone): the next run drops the template.
    PostgresDatabases(PG_URL, SELF).close()
    assert stale not in _databases(PG_URL)


def test_used_copies_are_dropped_together_once_a_batch_is_full() -> None:
    databases = PostgresDatabases(PG_URL, SELF)
    try:
        for _ in range(DROP_BATCH + 1):
            engine = create_engine(databases.fresh())
            with engine.begin() as connection:  # a changed schema: the next test needs a new copy
                connection.execute(text("CREATE TABLE left_behind (id integer)"))
            engine.dispose()
        mine = {name for name in _databases(PG_URL) if name.startswith(f"{databases.name}_c")}
        assert mine == {f"{databases.name}_c{DROP_BATCH + 1}"}  # the one in use is kept
    finally:
        databases.close()
