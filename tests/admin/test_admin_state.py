"""A state can require a second factor of all its users; only that state's administrators (or national) decide."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.accounts.models import State, User
from tests.admin.conftest import fetch, post
from tests.factories import PASSWORD
from tests.helpers import read_csrf_token

pytestmark = pytest.mark.db


def test_requiring_a_second_factor_sends_users_to_enrol(
    app: Flask, make_user: Callable[..., User], login: Callable[[User], FlaskClient]
) -> None:
    admin = make_user(role="state_admin", state="TX")
    officer = make_user(role="po", state="TX")
    client = login(admin)
    assert "Require a second factor" in client.get("/admin/state").get_data(as_text=True)
    assert post(client, "/admin/state", {"require_mfa": "y"}).status_code == 303
    assert fetch(app, State, "TX").requires_mfa is True

    other = app.test_client()
    token = read_csrf_token(other, "/login")
    response = other.post("/login", data={"email": officer.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/login/mfa/enrol"


def test_another_states_settings_are_out_of_reach(
    app: Flask, make_user: Callable[..., User], login: Callable[[User], FlaskClient]
) -> None:
    client = login(make_user(role="state_admin", state="TX"))
    assert client.get("/admin/state?state=OH").status_code == 404
    assert post(client, "/admin/state?state=OH", {"require_mfa": "y"}).status_code == 404
    assert fetch(app, State, "OH").requires_mfa is False
    national = login(make_user(role="national_admin"))
    assert "Ohio" in national.get("/admin/state").get_data(as_text=True)
    assert post(national, "/admin/state?state=OH", {"require_mfa": "y"}).status_code == 303
    assert fetch(app, State, "OH").requires_mfa is True
