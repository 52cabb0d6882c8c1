"""Flask wiring of the database: one engine per app, one session per app context, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.orm import make_engine, prepare_sqlite_path

_EXT = "helpdesk.db"
#: GET pages that log something (search log, record-access audit) write after reading: see `orm._upgrade`.
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _read_only_request() -> bool:
    return has_request_context() and request.method in _READ_ONLY_METHODS


def make_request_engine(url: str) -> Engine:
    """Create the app's engine: a read-only request (GET) reads in a deferred SQLite transaction."""
    return make_engine(url, read_only=_read_only_request)


class Database:
    """Flask extension: one engine per app, one session per app context, closed at teardown."""

    def init_app(self, app: Flask) -> None:
        """Create the app's engine and register the session teardown."""
        url = app.config["DATABASE_URL"]
        prepare_sqlite_path(url)
        engine = make_request_engine(url)
        app.extensions[_EXT] = (engine, sessionmaker(engine, expire_on_commit=False))
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        """Return the current app's engine."""
        engine: Engine = current_app.extensions[_EXT][0]
        return engine

    @property
    def session(self) -> Session:
        """Return the session of the current app context, opening it on first use."""
        if "_db_session" not in g:
            g._db_session = current_app.extensions[_EXT][1]()
        session: Session = g._db_session
        return session

    @staticmethod
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("_db_session", None)
        if session is not None:
            try:
                if exc is not None:
                    session.rollback()
                session.close()
            except Exception:  # a connection lost at the very end: the response is made, the pool replaces it
                current_app.logger.warning("could not close the database session", exc_info=True)
                session.invalidate()

    def discard_session(self) -> None:
        """Drop the current app context's session (its connection was lost) so that the next use opens a new one."""
        session: Session | None = g.pop("_db_session", None)
        if session is not None:
            try:
                session.close()
            except Exception:
                session.invalidate()

    def ping(self) -> None:
        """Run a trivial query; raises when the database is unusable."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
