"""The app class: a GET whose database connection was lost is run once more on a fresh connection."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
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
    """Flask, retrying an idempotent request once when its database connection is lost (e.g. a fail-over).

    The pool discards every connection opened before the loss, so the second attempt connects afresh; a second
    loss (the database is still down) reaches the error handler, which answers 503 with Retry-After.
    """

    def preprocess_request(self) -> Any:
        """Run the before-request hooks (loading the signed-in user), once more after a lost connection."""
        try:
            return super().preprocess_request()
        except DBAPIError as exc:
            if not _may_retry(exc):
                raise
            _start_again()
            return super().preprocess_request()

    def dispatch_request(self) -> Any:
        """Run the view, and after a lost connection the whole request once more."""
        try:
            return super().dispatch_request()
        except DBAPIError as exc:
            if not _may_retry(exc):
                raise
            _start_again()
            response = super().preprocess_request()
            return response if response is not None else super().dispatch_request()
