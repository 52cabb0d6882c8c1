"""The app class: one transaction per request, and a GET whose connection was lost run once more afresh."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy.exc import DBAPIError

#: Requests that change nothing, so running them twice is harmless (the log rows of the lost attempt rolled back).
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


def _may_retry(exc: DBAPIError) -> bool:
    from helpdesk.orm import is_disconnect

    return request.method in _IDEMPOTENT and is_disconnect(exc) and not g.get("_db_retried")


def _start_again() -> None:
    """Forget what the lost attempt loaded: its session and the signed-in user read through it."""
    from helpdesk.extensions import db

    g._db_retried = True
    db.discard_session()
    g.pop("_login_user", None)


class HelpdeskFlask(Flask):
    """Flask, with one commit per request and a retry of an idempotent request whose connection was lost.

    The request's session is committed once, when the view (or a before-request hook) answered 2xx/3xx without an
    exception, and rolled back otherwise; views do not commit, but for `db.commit_now()` before building an answer
    that only reads. A refusal that must leave a record behind says so with `db.keep_refused()`. Outside a request
    (commands, worker threads) code commits itself.

    The pool discards every connection opened before the loss, so the second attempt connects afresh; a second
    loss (the database is still down) reaches the error handler, which answers 503 with Retry-After.
    """

    def preprocess_request(self) -> Any:
        """Run the before-request hooks (loading the signed-in user), once more after a lost connection."""
        try:
            answer = super().preprocess_request()
        except DBAPIError as exc:
            if not _may_retry(exc):
                raise
            _start_again()
            answer = super().preprocess_request()
        return None if answer is None else self._end(answer)

    def dispatch_request(self) -> Any:
        """Run the view and commit its work, and after a lost connection the whole request once more."""
        try:
            return self._end(super().dispatch_request())
        except DBAPIError as exc:
            if not _may_retry(exc):
                raise
            _start_again()
            answer = super().preprocess_request()
            return self._end(answer if answer is not None else super().dispatch_request())

    def _end(self, answer: Any) -> Response:
        """Make the response and end the request's transaction by its status, before anything is sent.

        A failed commit raises here, inside the request, so the person gets a 503 or 500, never a success.
        """
        from helpdesk.extensions import db

        response = self.make_response(answer)
        db.end_request(response.status_code)
        return response

    def handle_user_exception(self, e: Exception) -> Any:
        """Roll back the request's work, then let the error handler answer (keeping only what it marks kept)."""
        from helpdesk.extensions import db

        db.fail_request()
        response = self.make_response(super().handle_user_exception(e))
        db.end_failed_request(response.status_code)
        return response
