"""Periodic passes across hosts: an advisory lock while one runs, and a `job_run` claim of each interval's pass."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, String, or_, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.orm import Base, is_disconnect, table_of, utcnow


class JobRun(Base):
    """The last pass of one periodic job across hosts: who claimed it, when it started, when it finished."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    #: None after a failed pass: the next try (from any host) may claim at once.
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


def this_host() -> str:
    """Return how job_run names this process: host name and process id (two workers on one machine differ)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def claim_run(connection: Connection, name: str, *, interval: dt.timedelta, now: dt.datetime, host: str) -> bool:
    """Claim this interval's pass of job `name` for `host`: True unless a pass started within `interval`.

    One conditional UPDATE, else an INSERT that does nothing on a conflict: under a race exactly one claimant
    changes a row (PostgreSQL re-checks the UPDATE's condition on the row another transaction just changed; SQLite
    runs one write transaction at a time). Commits the claim at once, so the other hosts see it.
    """
    table = table_of(JobRun)
    with connection.begin():
        claimed = connection.execute(
            update(table)
            .where(table.c.name == name, or_(table.c.started_at.is_(None), table.c.started_at <= now - interval))
            .values(host=host, started_at=now, finished_at=None)
        ).rowcount
        if not claimed:
            dialect_insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            # RETURNING says whether the row went in (the rowcount of this INSERT came back 0 on PostgreSQL).
            claimed = len(
                connection.execute(
                    dialect_insert(table)
                    .values(name=name, host=host, started_at=now, finished_at=None)
                    .on_conflict_do_nothing()
                    .returning(table.c.name)
                ).all()
            )
    return claimed == 1


def finish_run(
    connection: Connection, name: str, *, host: str, started: dt.datetime, ok: bool, now: dt.datetime
) -> None:
    """Record the end of a claimed pass; a failed one gives its claim back so a retry need not wait an interval."""
    table = table_of(JobRun)
    with connection.begin():
        connection.execute(
            update(table)
            .where(table.c.name == name, table.c.host == host, table.c.started_at == started)
            .values(finished_at=now, started_at=started if ok else None)
        )


def once_per_interval(
    engine: Engine,
    name: str,
    interval: float,
    one_pass: Callable[[], str | None],
    *,
    host: str | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> str | None:
    """Run `one_pass` unless a host already claimed this interval's pass of `name`; return what it returns.

    Hosts' clocks are assumed in step (NTP): a claim counts from the claimant's clock.
    """
    host = host or this_host()
    started = clock()
    with engine.connect() as connection:
        if not claim_run(connection, name, interval=dt.timedelta(seconds=interval), now=started, host=host):
            return None
    ok = False
    try:
        summary = one_pass()
        ok = True
    finally:
        with engine.connect() as connection:
            finish_run(connection, name, host=host, started=started, ok=ok, now=clock())
    return summary


def lock_key(name: str) -> int:
    """Return the signed 64-bit advisory-lock key of `name` (stable across processes and hosts)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _release(connection: Connection, key: int) -> None:
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
    except DBAPIError as exc:
        # Never hand a connection back to the pool while it might still hold the lock.
        connection.invalidate()
        if not is_disconnect(exc):
            raise
        # The connection is gone and the lock with it (PostgreSQL frees a dead session's locks).


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Yield True when this process holds the site-wide lock `name` for the block, False when another one does.

    On PostgreSQL a session-level `pg_try_advisory_lock` on a connection of its own, held until the block ends
    (so a pass's many short transactions are all covered); a process that dies loses it with its connection.
    SQLite is one host by construction: always True (its write lock already serialises the batches).
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    connection = engine.connect()
    try:
        taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        connection.commit()  # the session lock outlives the transaction; idle in no transaction meanwhile
    except BaseException:
        connection.invalidate()
        connection.close()
        raise
    try:
        yield taken
    finally:
        if taken:
            _release(connection, key)
        connection.close()
