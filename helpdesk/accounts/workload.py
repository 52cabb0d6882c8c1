"""Open work a user holds (tickets and, later, any other assignable item), and reassigning it in one step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import Origin


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One piece of open work: what it is, and where to see it."""

    kind: str
    id: str
    title: str
    url: str


class WorkProvider(Protocol):
    """A feature whose items are assigned to users (tickets register one)."""

    def open_work(self, session: Session, user: User) -> list[WorkItem]:
        """Return the user's open items."""

    def reassign_work(self, session: Session, user: User, to: User, *, actor: User | None, origin: Origin) -> int:
        """Move all the user's open items to `to`; return how many moved."""

    def holding_problem(self, session: Session, user: User, to: User) -> str | None:
        """Return why `to` cannot hold all the user's open items (None when they can)."""


_providers: list[WorkProvider] = []


def register_work_provider(provider: WorkProvider) -> None:
    """Let a feature take part in deactivation checks and reassignment."""
    if provider not in _providers:
        _providers.append(provider)


def unregister_work_provider(provider: WorkProvider) -> None:
    """Remove a provider (tests)."""
    if provider in _providers:
        _providers.remove(provider)


def list_open_work(session: Session, user: User) -> list[WorkItem]:
    """Return every open item the user holds, across features."""
    return [item for provider in _providers for item in provider.open_work(session, user)]


def work_holding_problem(session: Session, user: User, to: User) -> str | None:
    """Return why `to` cannot take over all of the user's open work, by each feature's own rule (None: they can)."""
    for provider in _providers:
        problem = provider.holding_problem(session, user, to)
        if problem:
            return problem
    return None


def list_work_takers(session: Session, user: User, candidates: list[User]) -> list[User]:
    """Return the candidates who may take over all of the user's open work (the hand-over offers only these)."""
    return [person for person in candidates if work_holding_problem(session, user, person) is None]


def reassign_all_work(session: Session, user: User, to: User, *, actor: User | None, origin: Origin) -> int:
    """Move all of the user's open items to `to`; return how many moved."""
    return sum(provider.reassign_work(session, user, to, actor=actor, origin=origin) for provider in _providers)
