"""search log: no foreign key from clicks to searches; PostgreSQL's reports read covering indexes

Revision ID: 0016_search_log_cover
Revises: 0015_insights_desk_indexes
Create Date: 2026-12-07 13:45:00

Measured on 1,000,000 searches and 225,802 clicks (bench/insights.py data), PostgreSQL 15: a bare DELETE of every
search took 16-18 s with the foreign key, 1.3 s without it (its check is one query of search_click per deleted
search). A state's searches were read along the date index (the whole window, filtered by person: 3,460 pages for
3,000 rows); covering, its person index answers them alone (216 pages). The rollups' reads (the national reports)
fetched a heap row per key read (23,000 pages for 25,000 rows); with the payload in the key's index, none. Index-only
reads need the visibility map set: these tables are vacuumed after 0.5 % new rows, not 20 %.
"""

from __future__ import annotations

from alembic import op

revision = "0016_search_log_cover"
down_revision = "0015_insights_desk_indexes"
branch_labels = None
depends_on = None

_FK = "fk_search_click_search_id_search_query"
_PERSON = "ix_search_query_person_created"
#: The rollups' primary keys and the columns their reports read beside the key (PostgreSQL INCLUDE).
_PAYLOAD = {
    "search_day": ("pk_search_day", "day, kind, query", "searches, last_seen, shown"),
    "search_week_person": ("pk_search_week_person", "week, query, kind, person", "days"),
}


#: Autovacuum by inserted rows sets the visibility map that index-only scans need. The default (20 % of the table)
#: waits about 36 days of a 1,000,000-search log: the reports' last 30 days would be read through the heap, and
#: the planner, seeing few pages all-visible, walked the date index again. Each vacuum then reads only new pages.
_VACUUM = {
    "search_query": "autovacuum_vacuum_insert_scale_factor = 0.005",
    "search_day": "autovacuum_vacuum_insert_scale_factor = 0.005",
    # Its rows are updated too (a week's days): dead versions count like inserts.
    "search_week_person": "autovacuum_vacuum_insert_scale_factor = 0.005, autovacuum_vacuum_scale_factor = 0.01",
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """Drop the clicks' foreign key; on PostgreSQL, make the person index and the rollups' keys covering."""
    # The sweep deletes a search's clicks before the search, and a click is logged for a search just read; what
    # the key checked costs the sweep 90 % of its time on PostgreSQL.
    with op.batch_alter_table("search_click", schema=None) as batch_op:
        batch_op.drop_constraint(_FK, type_="foreignkey")
    if not _postgresql():
        return  # SQLite reads the person index and its table row by rowid; the WITHOUT ROWID rollups are the key
    op.drop_index(_PERSON, table_name="search_query")
    op.create_index(
        _PERSON,
        "search_query",
        ["person", "created_at"],
        unique=False,
        postgresql_include=["query", "hits", "source", "id"],
    )
    for table, (name, key, payload) in _PAYLOAD.items():
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} PRIMARY KEY ({key}) INCLUDE ({payload})"
        )
    for table, settings in _VACUUM.items():
        op.execute(f"ALTER TABLE {table} SET ({settings})")


def downgrade() -> None:
    """Restore the plain indexes and the foreign key."""
    if _postgresql():
        for table, settings in _VACUUM.items():
            names = ", ".join(setting.split(" = ")[0] for setting in settings.split(", "))
            op.execute(f"ALTER TABLE {table} RESET ({names})")
        for table, (name, key, _payload) in _PAYLOAD.items():
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} PRIMARY KEY ({key})")
        op.drop_index(_PERSON, table_name="search_query")
        op.create_index(_PERSON, "search_query", ["person", "created_at"], unique=False)
    with op.batch_alter_table("search_click", schema=None) as batch_op:
        batch_op.create_foreign_key(_FK, "search_query", ["search_id"], ["id"])
