"""Flask wiring of the database: one engine per app, one session per app context, one commit per request."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.orm import make_engine, once_more_after_a_disconnect, prepare_sqlite_path

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

    def keep_refused(self) -> None:
        """Commit this request's writes at its end even though it answers with an error (4xx).

        For what a refusal must leave behind: a failed sign-in's count and audit row, the audit row of a denied
        request, a spent link's failure. Call it after writing them; a later exception in the request rolls back
        everything written before it (and the mark), so a handler writing its own record calls it again.
        """
        g._db_keep_refused = True

    def end_request(self, status: int) -> None:
        """End the request's transaction: commit after a successful (2xx/3xx) answer, roll back otherwise.

        Raises when the commit fails, before anything was sent: the error handler then answers 503 or 500.
        """
        session: Session | None = g.get("_db_session")
        keep = status < 400 or (status < 500 and g.get("_db_keep_refused", False))
        g.pop("_db_keep_refused", None)
        if session is None:
            return
        if keep:
            session.commit()
        else:
            session.rollback()

    def commit_now(self) -> None:
        """Commit the request's writes before its answer is built; what the view does next only reads.

        For a view whose writes hold a contended lock until the commit (a report's turn in its category): the
        answer's queries and JSON would otherwise be built while others wait. A failed commit raises as at the
        request's end; a failure after it answers 500 with the writes kept (a resend with the same key finds them).
        """
        session: Session | None = g.get("_db_session")
        if session is not None:
            session.commit()

    def fail_request(self) -> None:
        """Roll back everything the request wrote: an exception is on its way to the error handler."""
        g.pop("_db_keep_refused", None)
        session: Session | None = g.get("_db_session")
        if session is not None:
            session.rollback()

    def end_failed_request(self, status: int) -> None:
        """Commit only what the error handler kept (`keep_refused`); a failed commit is logged, the answer stands."""
        session: Session | None = g.get("_db_session")
        keep = status < 500 and g.pop("_db_keep_refused", False)
        if session is None:
            return
        try:
            if keep:
                session.commit()
            else:
                session.rollback()
        except Exception:  # the refusal must still reach the person even if the database is down
            current_app.logger.exception("could not keep the record of a refused request")
            session.rollback()

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

        def select_one() -> None:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        once_more_after_a_disconnect(select_one)
