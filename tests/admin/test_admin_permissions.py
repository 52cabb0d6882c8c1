"""Who may use which administration page and action: signed out, every non-admin role, another state, national."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.accounts.models import User
from tests.admin.conftest import agency_id, fetch, post

pytestmark = pytest.mark.db

NON_ADMIN_ROLES = ("po_support", "po", "po_supervisor", "local_it", "compact_office")


def actions(user_id: int, agency: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every administration page and action, aimed at `user_id` where it takes a user."""
    return [
        ("GET", "/admin/users", None),
        ("GET", "/admin/users/new", None),
        (
            "POST",
            "/admin/users/new",
            {"name": "Nora Newman", "email": "nora.newman@example.gov", "agency": agency, "role": "po"},
        ),
        ("GET", f"/admin/users/{user_id}", None),
        ("POST", f"/admin/users/{user_id}/role", {"role": "po_supervisor"}),
        ("POST", f"/admin/users/{user_id}/unlock", {}),
        ("POST", f"/admin/users/{user_id}/deactivate", {}),
        ("POST", f"/admin/users/{user_id}/reactivate", {}),
        ("GET", "/admin/inactive", None),
        ("POST", "/admin/inactive", {"user_ids": user_id, "days": 90}),
        ("GET", "/admin/audit", None),
    ]


def without_tokens(page: bytes) -> bytes:
    """Return the page without its CSRF tokens (signed with a timestamp, so they change every second)."""
    return re.sub(rb'(name="csrf-token" content|name="csrf_token" value)="[^"]+"', rb"\1", page)


def call(client: FlaskClient, method: str, path: str, data: dict[str, Any] | None) -> Any:
    return client.get(path) if method == "GET" else post(client, path, data)


def test_signed_out_visitors_go_to_the_sign_in_page(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    target = make_user(role="po", state="OH")
    for method, path, data in actions(target.id, agency_id(app, "OH", "Franklin County")):
        response = call(client, method, path, data)
        assert response.status_code == 302, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/login"), (method, path)
    assert fetch(app, User, target.id).is_active


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_non_admin_roles_are_forbidden(
    app: Flask, role: str, make_user: Callable[..., User], login: Callable[[User], FlaskClient]
) -> None:
    client = login(make_user(role=role, state="TX"))
    target = make_user(role="po", state="TX", agency="Travis County Probation")
    for method, path, data in actions(target.id, agency_id(app, "TX", "Travis County Probation")):
        response = call(client, method, path, data)
        assert response.status_code == 403, (role, method, path, response.status_code)
    assert fetch(app, User, target.id).role == "po"


def test_another_states_user_is_indistinguishable_from_a_missing_one(
    app: Flask, make_user: Callable[..., User], login: Callable[[User], FlaskClient]
) -> None:
    client = login(make_user(role="state_admin", state="TX"))
    ohio = make_user(role="po", state="OH", agency="Franklin County")
    missing = ohio.id + 1000
    per_user = [a for a in actions(ohio.id, 0) if str(ohio.id) in a[1] or (a[2] or {}).get("user_ids") == ohio.id]
    assert len(per_user) == 6
    for method, path, data in per_user:
        response = call(client, method, path, data)
        assert response.status_code == 404, (method, path, response.status_code)
        twin = call(
            client,
            method,
            path.replace(str(ohio.id), str(missing)),
            {**(data or {}), "user_ids": missing} if data and "user_ids" in data else data,
        )
        assert twin.status_code == 404 and without_tokens(twin.data) == without_tokens(response.data), (method, path)
    for path in ("/admin/users?state=OH", "/admin/inactive?state=OH", "/admin/audit?state=OH"):
        assert client.get(path).status_code == 404, path
    again = fetch(app, User, ohio.id)
    assert (again.role, again.is_active) == ("po", True)


@pytest.mark.parametrize("role", ["state_admin", "national_admin"])
def test_admins_may_do_everything_in_their_scope(
    app: Flask, role: str, make_user: Callable[..., User], login: Callable[[User], FlaskClient]
) -> None:
    client = login(make_user(role=role, state="OH"))
    target = make_user(role="po", state="OH", agency="Franklin County")
    for method, path, data in actions(target.id, agency_id(app, "OH", "Franklin County")):
        response = call(client, method, path, data)
        expected = 200 if method == "GET" else 303
        assert response.status_code == expected, (role, method, path, response.status_code, response.data[-800:])
    if role == "national_admin":
        for path in ("/admin/users?state=TX", "/admin/inactive?state=TX", "/admin/audit?state=TX"):
            assert client.get(path).status_code == 200, path
    again = fetch(app, User, target.id)
    assert (again.role, again.is_active) == ("po_supervisor", True)  # deactivated, then reactivated
