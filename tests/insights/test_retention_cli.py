"""Search-log retention (a batched, audited sweep; the setting) and `helpdesk report` on the console and as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk import create_app
from helpdesk.audit.models import AuditEvent
from helpdesk.config import Settings
from helpdesk.config_table import ConfigError
from helpdesk.extensions import db
from helpdesk.insights.retention import sweep_search_log
from helpdesk.orm import utcnow
from helpdesk.search.models import SearchClick, SearchQuery
from tests.helpers import close_app
from tests.insights.conftest import Org

pytestmark = pytest.mark.db


def _log(app: Flask, ages_in_days: list[int]) -> None:
    with app.app_context():
        now = utcnow()
        for age in ages_in_days:
            row = SearchQuery(
                query=f"q{age}", hits=1, source="page", person="p", created_at=now - dt.timedelta(days=age)
            )
            db.session.add(row)
            db.session.flush()
            db.session.add(SearchClick(search_id=row.id, article_slug="a", created_at=row.created_at))
        db.session.commit()


def _ages(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(SearchQuery.query)))


def test_the_daily_sweep_removes_older_searches_and_their_clicks_audited(app: Flask, runner: Any) -> None:
    _log(app, [1, 179, 181, 400])
    result = runner.invoke(args=["searchlog", "sweep"])
    assert result.exit_code == 0, result.output
    assert "2 searches older than 180 days removed" in result.output
    assert _ages(app) == ["q1", "q179"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchClick)) == 2
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "search_log_swept")).one()
        assert audit.detail.startswith("2 searches older than 180 days removed")
    assert "0 searches" in runner.invoke(args=["searchlog", "sweep"]).output  # idempotent


def test_the_sweep_works_in_batches(app: Flask) -> None:
    _log(app, [10, 11, 12, 13, 14, 2])
    with app.app_context(), Session(db.engine) as session:
        assert sweep_search_log(session, days=5, batch=2) == 5
    assert _ages(app) == ["q2"]


def test_the_sweep_by_id_range_keeps_a_newer_search_logged_between_older_ones(app: Flask) -> None:
    _log(app, [10, 2, 11, 3, 12])  # ids out of date order: the ranges hold newer searches too
    with app.app_context(), Session(db.engine) as session:
        assert sweep_search_log(session, days=5, batch=2) == 3
    assert _ages(app) == ["q2", "q3"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchClick)) == 2


def test_a_sqlite_sweep_leaves_the_connection_page_cache_as_it_found_it(app: Flask) -> None:
    _log(app, [10, 11, 12, 2])
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            pytest.skip("the page cache is SQLite's")
        connection.exec_driver_sql("PRAGMA cache_size = -3000")
        connection.commit()
        with Session(bind=connection) as session:
            assert sweep_search_log(session, days=5, batch=1) == 3  # three batches, three transactions
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == -3000
    assert _ages(app) == ["q2"]


def test_a_sweep_of_most_of_the_log_builds_the_person_index_again(app: Flask) -> None:
    _log(app, [10, 11, 12, 13, 2])  # four of five old: SQLite drops the index and builds it from the one left
    with app.app_context():
        engine = db.engine
    person_index = "SELECT sql FROM sqlite_master WHERE name = 'ix_search_query_person_created'"
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        before = connection.exec_driver_sql(person_index).scalar() if sqlite else None
    with Session(engine) as session:
        assert sweep_search_log(session, days=5) == 4
        # The scope's read of its people's searches still finds the one left, along the index where there is one.
        left = select(SearchQuery.query).where(SearchQuery.person.in_(["p"]), SearchQuery.created_at >= FAR_PAST)
        assert session.scalars(left).all() == ["q2"]
    if sqlite:
        with engine.connect() as connection:
            assert before is not None and connection.exec_driver_sql(person_index).scalar() == before
            plan = " ".join(str(row) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + _SCOPED, ("p",)))
            assert "ix_search_query_person_created" in plan
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchClick)) == 1


FAR_PAST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_SCOPED = "SELECT id FROM search_query WHERE person = ? AND created_at >= '2000-01-01'"


def test_the_retention_is_the_setting(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "SEARCH_LOG_DAYS": 30})
    try:
        _log(app, [29, 31])
        output = app.test_cli_runner().invoke(args=["searchlog", "sweep"]).output
        assert "1 searches older than 30 days removed" in output
        assert _ages(app) == ["q29"]
    finally:
        close_app(app)
    assert Settings.from_env({"HELPDESK_SEARCH_LOG_DAYS": "45"}).flask_config()["SEARCH_LOG_DAYS"] == 45
    with pytest.raises(ConfigError, match="HELPDESK_SEARCH_LOG_DAYS"):
        Settings.from_env({"HELPDESK_SEARCH_LOG_DAYS": "0"})


def test_report_commands_print_the_figures_and_csv(app: Flask, org: Org, runner: Any) -> None:
    period = ["--from", "2026-03-01", "--to", "2026-03-31"]
    text = runner.invoke(args=["report", "desk", *period, "--state", "TX"])
    assert text.exit_code == 0, text.output
    assert re.search(r"Requests opened +5\n", text.output)
    out = runner.invoke(args=["report", "desk", *period, "--state", "tx", "--csv"]).output
    sla = out.split("# sla:", 1)[1]
    rows = list(csv.reader(io.StringIO(sla.split("\n", 1)[1])))
    assert rows[1][:5] == ["local_it", "first response", "1", "3", "33.3%"]
    content = runner.invoke(args=["report", "content", *period]).output
    assert "password reset fax" in content and "Searches with no result" in content
    bad = runner.invoke(args=["report", "content", "--from", "yesterday"])
    assert bad.exit_code == 2 and "from and to must be dates" in bad.output
