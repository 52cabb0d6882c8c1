"""Changes to accounts need a recent sign-in (checklist row 42): an old, still-active session is not enough."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.accounts.models import User
from tests.admin.conftest import fetch, post

pytestmark = pytest.mark.db


def test_an_old_session_must_sign_in_again_before_changing_a_user(
    app: Flask, make_user: Callable[..., User], login: Callable[[User], FlaskClient]
) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        admin = make_user(role="state_admin", state="TX")
        target = make_user(role="po", state="TX", locked_until=dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
        client = login(admin)
        for _ in range(2):  # active all along, but the sign-in itself is 20 minutes old
            clock.shift(dt.timedelta(minutes=10))
            assert client.get("/admin/users").status_code == 200
        response = post(
            client, f"/admin/users/{target.id}/unlock", headers={"Referer": f"http://localhost/admin/users/{target.id}"}
        )
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/login?next=/admin/users/")
        assert fetch(app, User, target.id).locked_until is not None

        fresh = login(admin)
        assert post(fresh, f"/admin/users/{target.id}/unlock").status_code == 303
        assert fetch(app, User, target.id).locked_until is None
