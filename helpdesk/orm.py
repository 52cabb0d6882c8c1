"""SQLAlchemy without Flask: the declarative base, UTC timestamps, the engine factory, Alembic upgrades."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Dialect, Engine, MetaData, Table, TypeDecorator, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_T = TypeVar("_T")


def utcnow() -> dt.datetime:
    """Return the current time in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


_UNIX = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def epoch_micros(instant: dt.datetime) -> int:
    """Return an aware instant as whole microseconds since 1970 (exact, unlike a float timestamp)."""
    return (instant - _UNIX) // _MICROSECOND


def from_epoch_micros(micros: int) -> dt.datetime:
    """Return the aware UTC instant `micros` microseconds after 1970 (the inverse of `epoch_micros`)."""
    return _UNIX + micros * _MICROSECOND


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use helpdesk.orm.utcnow() or an aware datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every model; constraint names are fixed so migrations are stable."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {dt.datetime: UTCDateTime()}


def make_engine(url: str, *, pooled: bool = True, read_only: Callable[[], bool] = lambda: False) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so several workers can share the file.

    `read_only` tells whether the current unit of work only reads (the web wiring passes "a GET request").
    """
    options: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if not url.startswith("sqlite"):
        if pooled:
            options.update(pool_size=5, max_overflow=10)
        engine = create_engine(url, **options)
        if pooled:
            _ping_idle_connections(engine)
        return engine
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read-only request reads in a deferred transaction: it takes no lock, so readers never queue behind a
        # writer. Everything else begins IMMEDIATE: a transaction that reads and then writes cannot fail with
        # SQLITE_BUSY_SNAPSHOT when another worker wrote in between (busy_timeout does not cover that case).
        deferred = read_only() or bool(connection.get_execution_options().get(_READS_ONLY, False))
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")
        connection.info[_DEFERRED] = deferred

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if connection.info.get(_DEFERRED) and _WRITES.match(statement):
            _upgrade(connection, cursor)

    @event.listens_for(engine, "savepoint")
    def _before_savepoint(connection: Any, _name: str) -> None:
        # A savepoint guards a write; upgrade first, since a savepoint cannot outlive the switch below.
        if connection.info.get(_DEFERRED):
            _upgrade(connection, connection.connection.dbapi_connection.cursor())

    return engine


_DEFERRED = "helpdesk.deferred"
#: Execution option of a connection (outside a request) whose transaction only reads: see `reading`.
_READS_ONLY = "helpdesk_reads_only"
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
#: A pooled PostgreSQL connection idle longer than this is pinged before use (after a quiet spell the server may
#: have restarted); busy connections are not, so the ping costs nothing under load.
PING_IDLE_SECONDS = 1.0


@contextmanager
def reading(sessions: Callable[[], Session]) -> Iterator[Session]:
    """Yield a session outside a request whose transaction only reads: deferred on SQLite (no write lock)."""
    with sessions() as session:
        session.connection(execution_options={_READS_ONLY: True})
        yield session


def _upgrade(connection: Any, cursor: Any) -> None:
    """Turn a deferred read transaction into an IMMEDIATE one before its first write.

    Only read-only requests begin deferred, and what they read is for display: ending the read transaction and
    writing in a fresh IMMEDIATE one (which waits for the lock under busy_timeout) is what a separate transaction
    for the log row would do, and it can never fail with SQLITE_BUSY_SNAPSHOT.
    """
    connection.info[_DEFERRED] = False
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it sat idle; a dead one is replaced by the pool."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("checked_in_at", 0.0) < PING_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool catches this, discards the connection and connects afresh
            raise DisconnectionError(str(exc)) from exc


#: SQLite errors that mean "not now" rather than a bug (which SQLite reports as OperationalError too).
_SQLITE_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")


def is_unavailable(exc: BaseException) -> bool:
    """Tell whether `exc` means the database cannot answer now (connection lost or refused, busy, pool exhausted)."""
    if not isinstance(exc, DBAPIError):
        return isinstance(exc, DisconnectionError | PoolTimeoutError)
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    name = getattr(exc.orig, "sqlite_errorname", None)
    if name is not None:
        return str(name).startswith(_SQLITE_UNAVAILABLE)
    return isinstance(exc, OperationalError)


def is_disconnect(exc: BaseException) -> bool:
    """Tell whether `exc` is a connection lost in use (the pool has discarded it: a retry gets a fresh one)."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def once_more_after_a_disconnect(work: Callable[[], _T]) -> _T:
    """Run `work`, and once more when it lost its pooled connection (a fail-over, a database restart).

    The pool discards every connection opened before the loss, so the second run gets a fresh one: its failure
    means the database itself is down, not only the connection.
    """
    try:
        return work()
    except DBAPIError as exc:
        if not is_disconnect(exc):
            raise
        return work()


def prepare_sqlite_path(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def alembic_config(url: str) -> Any:
    """Return an Alembic config pointing at our migrations and `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (creates the SQLite file when needed)."""
    from alembic import command

    prepare_sqlite_path(url)
    command.upgrade(alembic_config(url), revision)


def table_of(model: type[Base]) -> Table:
    """Return a model's table (SQLAlchemy declares `__table__` a FromClause; every model here has a Table)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
