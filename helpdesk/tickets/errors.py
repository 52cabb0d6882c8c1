"""The errors ticket services raise: a refusal in words for the person who asked, or a lost race."""

from __future__ import annotations

from helpdesk.domain_errors import DomainError


class TicketError(DomainError):
    """A refused ticket change, with the reason in words for the person who asked (a 4xx, never a 500)."""

    status = 422
    code = "invalid_ticket"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        if field is not None:  # the API names the input at fault in its code, as its own shape checks do
            self.code = f"invalid_{field}"


class TicketConflict(TicketError):
    """Someone else changed the ticket since it was loaded: nothing was saved, reload and try again."""

    status = 409
    code = "conflict"

    def __init__(self, ticket_id: int, expected: int | None = None, actual: int | None = None) -> None:
        self.ticket_id, self.expected, self.actual = ticket_id, expected, actual
        super().__init__(
            f"Request #{ticket_id} was changed by someone else while you were working on it. "
            "Nothing of your change was saved: reload the request, check what changed, and try again."
        )
