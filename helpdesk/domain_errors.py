"""The base of every refusal a service raises: its message, HTTP status, JSON code and field (no Flask here)."""

from __future__ import annotations

from typing import ClassVar


class DomainError(ValueError):
    """A refused change or bad input, in words for the person who asked; nothing of the change is kept.

    The app's one handler answers it with `status` (HTML error page, or `{"error": code, "message", "field"}`
    under /api/), after the request's transaction was rolled back. It stays a ValueError so that code written
    against the older, unrelated ValueError subclasses keeps working.
    """

    status: ClassVar[int] = 400
    code: str = "bad_request"
    field: str | None = None

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        """Return the message for the person who asked."""
        return str(self)

    def details(self) -> dict[str, object]:
        """Return extra JSON members an API client needs to act on the refusal (none by default)."""
        return {}


class NotFoundError(DomainError):
    """Something the request names does not exist, or is not visible to the person who asked."""

    status = 404
    code = "not_found"


class ConflictError(DomainError):
    """A lost race: the thing changed since the person loaded it; nothing was saved."""

    status = 409
    code = "conflict"


class ForbiddenError(DomainError):
    """A change the acting person may not make."""

    status = 403
    code = "forbidden"


class TooLargeError(DomainError):
    """Input over a size limit."""

    status = 413
    code = "too_large"


class InvalidError(DomainError):
    """Well-formed input that breaks a rule (a field out of range, a bad reference)."""

    status = 422
    code = "invalid"
