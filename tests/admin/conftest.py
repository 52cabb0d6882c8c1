"""Fixtures of the administration tests: ready users, signed-in clients, form posts, and a test work provider."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency, User
from helpdesk.accounts.workload import WorkItem, register_work_provider, unregister_work_provider
from helpdesk.audit.services import Origin
from helpdesk.extensions import db
from tests import factories
from tests.helpers import read_csrf_token


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a ready user: `make_user(role="po", state="TX", agency="Travis County Probation", **columns)`."""

    def make(**options: Any) -> User:
        return factories.make_user(app, **options)

    return make


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **options: Any) -> Any:
    """Post a form with the session's CSRF token, as the browser does."""
    token = read_csrf_token(client, "/privacy")
    return client.post(path, data={**(data or {}), "csrf_token": token}, **options)


def fetch(app: Flask, model: type[Any], key: Any) -> Any:
    """Return a row as it is now in the database (detached)."""
    with app.app_context():
        row = db.session.get(model, key)
        if row is not None:
            db.session.expunge(row)
        return row


def update(app: Flask, user: User, **columns: Any) -> None:
    """Change columns of a user directly in the database."""
    with app.app_context():
        row = db.session.get(User, user.id)
        for name, value in columns.items():
            setattr(row, name, value)
        db.session.commit()


def count(app: Flask, query: Any) -> int:
    """Return the number of rows a select() finds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def agency_id(app: Flask, state: str | None, name: str | None = None, kind: str = "local") -> int:
    """Return the id of an agency (creating a local one when needed)."""
    with app.app_context():
        agency: Agency = factories.get_agency(state, name, kind=kind)
        db.session.commit()
        return agency.id


class FakeWork:
    """A work provider that keeps its items in memory: {user id: [item ids]}."""

    def __init__(self) -> None:
        self.items: dict[int, list[str]] = {}

    def open_work(self, session: Session, user: User) -> list[WorkItem]:
        """Return the user's items."""
        mine = self.items.get(user.id, [])
        return [WorkItem(kind="ticket", id=i, title=f"Ticket {i}", url=f"/tickets/{i}") for i in mine]

    def reassign_work(self, session: Session, user: User, to: User, *, actor: User | None, origin: Origin) -> int:
        """Move every item of `user` to `to`."""
        moved = self.items.pop(user.id, [])
        self.items.setdefault(to.id, []).extend(moved)
        return len(moved)

    def holding_problem(self, session: Session, user: User, to: User) -> str | None:
        """Anyone active may hold these items (the tickets' own rule is tested with real tickets)."""
        return None


@pytest.fixture
def work() -> Iterator[FakeWork]:
    """A registered in-memory work provider, removed after the test."""
    provider = FakeWork()
    register_work_provider(provider)
    try:
        yield provider
    finally:
        unregister_work_provider(provider)
