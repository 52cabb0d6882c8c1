"""The escalation sweep's scratch: a batch's rows and groups in temporary tables, and SQLite's page cache meanwhile."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from helpdesk.orm import UTCDateTime

#: One escalated ticket of a batch: id, group, reason, state and the version it was decided on.
BatchRow = tuple[int, int, str, str | None, int]


@dataclass(frozen=True, slots=True)
class Move:
    """What the tickets of one group get: tier, holder and due times."""

    tier: str
    assignee_id: int | None
    first_response_due: dt.datetime
    resolution_due: dt.datetime


#: One sweep batch's decisions, in the connection's own temporary table (emptied at commit on PostgreSQL).
#: Only what differs per ticket is sent row by row; what a group shares (tier, holder, due times) is bound once.
BATCH_ROWS = Table(
    "ticket_escalation_batch",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("grp", Integer),
    Column("route_reason", String(1000)),
    Column("state_code", String(2)),
    Column("version", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)
#: What the tickets of each group get, joined by one UPDATE of the whole batch: one statement per group walked
#: the batch's stretch of the ticket table once per group (12 time zones: 12 walks).
BATCH_GROUPS = Table(
    "ticket_escalation_group",
    MetaData(),
    Column("grp", Integer, primary_key=True),
    Column("tier", String(16)),
    Column("assignee_id", Integer),
    Column("first_response_due", UTCDateTime()),
    Column("resolution_due", UTCDateTime()),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)


#: SQLite page cache while a batch is written (KiB): the ticket's indexes are updated at scattered places, and
#: the default 2 MiB cache evicts index pages between neighbouring rows of a batch. A ceiling, filled only as far
#: as the batch reaches (about 110 MB at 100,000 tickets); 256 MiB against 64 MiB: 4 % less CPU in 3 pairs.
SWEEP_CACHE_KIB = 262_144


@contextmanager
def roomy_cache(session: Session) -> Iterator[None]:
    """Give this SQLite connection a larger page cache for the block, then restore its own size."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SWEEP_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def fill_scratch(session: Session, rows: list[BatchRow], moves: list[Move]) -> None:
    """Put a batch's rows and its groups' moves into the connection's scratch tables."""
    for table in (BATCH_ROWS, BATCH_GROUPS):
        session.execute(CreateTable(table, if_not_exists=True))
        session.execute(delete(table))
    session.execute(
        insert(BATCH_GROUPS),
        [
            {"grp": group, "tier": move.tier, "assignee_id": move.assignee_id}
            | {"first_response_due": move.first_response_due, "resolution_due": move.resolution_due}
            for group, move in enumerate(moves)
        ],
    )
    if session.get_bind().dialect.name == "postgresql":
        # One JSON text of the rows: the driver sends it as it is (arrays of text are escaped item by item).
        session.connection().exec_driver_sql(
            "INSERT INTO ticket_escalation_batch (id, grp, route_reason, state_code, version) "
            "SELECT (r->>0)::integer, (r->>1)::integer, r->>2, r->>3, (r->>4)::integer "
            "FROM jsonb_array_elements(%(rows)s::jsonb) r",
            {"rows": json.dumps(rows)},
        )
    else:  # the driver's executemany of plain tuples: no per-row parameter processing in SQLAlchemy
        session.connection().exec_driver_sql(
            "INSERT INTO ticket_escalation_batch (id, grp, route_reason, state_code, version) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
