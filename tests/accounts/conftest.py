"""Fixtures of the account security tests: a controlled clock and extra apps on the same database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from flask import Flask

from helpdesk import create_app
from tests.helpers import close_app


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """A stopped clock (datetime.now and time.time) at the current second; tests move it with `shift`."""
    with time_machine.travel(dt.datetime.now(dt.UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def make_app(app_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Create apps on the test database with changed settings (a new policy version, a lower limit...)."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app({**app_config, **overrides})
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)
