"""Alembic is the only source of the schema: upgrade from empty matches the models, and round-trips."""

from __future__ import annotations

import warnings

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from helpdesk.models import Base
from helpdesk.orm import alembic_config


@pytest.mark.db
def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLite's reflection skips expression indexes (ix_ticket_open_response); Alembic then skips them too.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        if connection.dialect.name == "sqlite":  # compared by hand, as the models declare it
            created = connection.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_ticket_open_response'"))
            assert created is not None and " ".join(created.split()) == (
                "CREATE INDEX ix_ticket_open_response ON ticket ((first_responded_at IS NOT NULL), "
                "first_response_due, id) WHERE status IN ('new', 'open', 'pending')"
            )
    engine.dispose()
    assert diff == []


@pytest.mark.db
def test_single_head_and_downgrade_round_trip(database_url: str) -> None:
    config = alembic_config(database_url)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
    command.downgrade(config, "base")
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert {"vote", "search_query", "search_click"} <= set(inspect(engine).get_table_names())
    engine.dispose()
