"""Passes that one host at a time may run (the escalation sweep): a PostgreSQL advisory lock, nothing on SQLite."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from helpdesk.orm import is_disconnect


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
