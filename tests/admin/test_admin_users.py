"""The users list, creating users, and the actions of a user's page (role, unlock, deactivate, reactivate)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.mail.models import OutboxMessage
from helpdesk.orm import utcnow
from tests.admin.conftest import FakeWork, agency_id, count, fetch, post, update

pytestmark = pytest.mark.db

MakeUser = Callable[..., User]
Login = Callable[[User], FlaskClient]


@pytest.fixture
def texas_admin(make_user: MakeUser) -> User:
    return make_user(role="state_admin", state="TX", agency="Travis County Probation", name="Tess Admin")


@pytest.fixture
def admin(texas_admin: User, login: Login) -> FlaskClient:
    return login(texas_admin)


def new_user_form(app: Flask, **fields: object) -> dict[str, object]:
    return {
        "name": "Nora Newman",
        "email": "nora.newman@travis.example.gov",
        "role": "po",
        "agency": agency_id(app, "TX", "Travis County Probation"),
        **fields,
    }


def test_users_list_searches_filters_and_stays_in_the_state(
    app: Flask, admin: FlaskClient, make_user: MakeUser
) -> None:
    travis = "Travis County Probation"
    make_user(state="TX", agency=travis, name="Alice Locked", locked_until=utcnow() + dt.timedelta(minutes=5))
    make_user(state="TX", agency=travis, name="Bob Gone", is_active=False, deactivated_at=utcnow())
    make_user(
        role="local_it", state="TX", agency="Harris County CSCD", name="Carl Harris", email="carl@harris.example.gov"
    )
    make_user(state="OH", agency="Franklin County", name="Olive Ohio")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert all(name in page for name in ("Alice Locked", "Bob Gone", "Carl Harris", "Tess Admin"))
    assert "Olive Ohio" not in page
    assert ">Locked<" in page and ">Deactivated<" in page
    assert "Carl Harris" in admin.get("/admin/users?q=HARRIS.EXAMPLE").get_data(as_text=True)
    assert "Alice" not in admin.get("/admin/users?q=harris.example").get_data(as_text=True)
    assert "0 users found" in admin.get("/admin/users?q=%25").get_data(as_text=True)  # % is no wildcard
    only_it = admin.get("/admin/users?role=local_it").get_data(as_text=True)
    assert "Carl Harris" in only_it and "Alice Locked" not in only_it
    harris = agency_id(app, "TX", "Harris County CSCD")
    assert "Alice" not in admin.get(f"/admin/users?agency={harris}").get_data(as_text=True)
    locked = admin.get("/admin/users?status=locked").get_data(as_text=True)
    assert "Alice Locked" in locked and "Bob Gone" not in locked
    gone = admin.get("/admin/users?status=deactivated").get_data(as_text=True)
    assert "Bob Gone" in gone and "Alice Locked" not in gone
    assert admin.get("/admin/users?status=nonsense").status_code == 400
    assert admin.get("/admin/users?page=0").status_code == 400


def test_national_admin_sees_every_state_with_a_state_filter(make_user: MakeUser, login: Login) -> None:
    client = login(make_user(role="national_admin"))
    make_user(state="TX", name="Tina Texas")
    make_user(state="OH", name="Olive Ohio")
    everyone = client.get("/admin/users").get_data(as_text=True)
    assert "Tina Texas" in everyone and "Olive Ohio" in everyone
    ohio = client.get("/admin/users?state=oh").get_data(as_text=True)
    assert "Olive Ohio" in ohio and "Tina Texas" not in ohio
    assert client.get("/admin/users?state=ZZ").status_code == 404


def test_creating_a_user_mails_the_first_time_link(app: Flask, admin: FlaskClient, texas_admin: User) -> None:
    response = post(admin, "/admin/users/new", new_user_form(app, email="Nora.Newman@Travis.example.gov"))
    assert response.status_code == 303
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "A link to choose a password was e-mailed to nora.newman@travis.example.gov" in page
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "nora.newman@travis.example.gov")).one()
        assert (user.role, user.state_code, user.password_hash) == ("po", "TX", None)
        mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == user.email)).one()
        assert mail.kind == "first_time"
        assert re.search(r"https://help\.example\.org/reset/[\w-]{40,}", mail.body_text)
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user_created")).one()
        assert (event.target_id, event.state_code, event.actor_id) == (str(user.id), "TX", texas_admin.id)


BAD_NEW_USERS: list[tuple[dict[str, str], str]] = [
    ({"email": "info@travis.example.gov"}, "CJIS Security Policy requires every account to belong to one named"),
    ({"email": "NoReply@travis.example.gov"}, "shared role mailbox"),
    ({"role": "compact_office"}, "Only members of the state compact office"),
    ({"email": "not-an-address"}, "Enter a valid e-mail address"),
    ({"name": ""}, "Enter the person&#39;s full name."),
    ({"role": "national_admin"}, "Not a valid choice"),
]


def test_bad_new_users_are_refused_with_the_reason(app: Flask, admin: FlaskClient) -> None:
    before = count(app, select(User))
    for fields, message in BAD_NEW_USERS:
        response = post(admin, "/admin/users/new", new_user_form(app, **fields))
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True), fields
    assert count(app, select(User)) == before
    assert count(app, select(OutboxMessage)) == 0


def test_an_address_is_never_reused_even_after_deactivation(
    app: Flask, admin: FlaskClient, make_user: MakeUser
) -> None:
    make_user(email="old.timer@travis.example.gov", is_active=False, deactivated_at=utcnow())
    response = post(admin, "/admin/users/new", new_user_form(app, email="OLD.Timer@Travis.Example.gov"))
    assert response.status_code == 400
    assert "e-mail addresses are never reused" in response.get_data(as_text=True)
    assert count(app, select(User).where(User.email == "old.timer@travis.example.gov")) == 1


def test_an_agency_of_another_state_cannot_be_chosen(app: Flask, admin: FlaskClient) -> None:
    response = post(admin, "/admin/users/new", new_user_form(app, agency=agency_id(app, "OH", "Franklin County")))
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert count(app, select(User).where(User.state_code == "OH")) == 0


def test_names_are_escaped_on_every_page(app: Flask, admin: FlaskClient, texas_admin: User) -> None:
    evil = '<script>alert("owned")</script> Smith'
    response = post(admin, "/admin/users/new", new_user_form(app, name=evil), follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "nora.newman@travis.example.gov")).one()
    update(app, user, created_at=utcnow() - dt.timedelta(days=120))
    pages = [
        response,
        admin.get("/admin/users"),
        admin.get(f"/admin/users/{user.id}"),
        admin.get("/admin/inactive"),
        admin.get(f"/admin/users?q={user.email}"),
        post(admin, f"/admin/users/{user.id}/role", {"role": "po"}, follow_redirects=True),
    ]
    for page in pages:
        html = page.get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html, page.request.path
        assert "<script>alert" not in html, page.request.path


def test_role_change_ends_the_users_sessions(app: Flask, admin: FlaskClient, make_user: MakeUser, login: Login) -> None:
    user = make_user(role="po", state="TX")
    theirs = login(user)
    response = post(admin, f"/admin/users/{user.id}/role", {"role": "po_supervisor"}, follow_redirects=True)
    assert "is now PO Supervisor" in response.get_data(as_text=True)
    assert fetch(app, User, user.id).role == "po_supervisor"
    assert theirs.get("/account").status_code == 302
    refused = post(admin, f"/admin/users/{user.id}/role", {"role": "national_admin"})
    assert refused.status_code == 400 and fetch(app, User, user.id).role == "po_supervisor"


def test_unlock_and_reactivate(app: Flask, admin: FlaskClient, make_user: MakeUser) -> None:
    locked = make_user(locked_until=utcnow() + dt.timedelta(minutes=8), failed_logins=5)
    assert "Unlock" in admin.get(f"/admin/users/{locked.id}").get_data(as_text=True)
    assert post(admin, f"/admin/users/{locked.id}/unlock").status_code == 303
    assert fetch(app, User, locked.id).locked_until is None
    gone = make_user(is_active=False, deactivated_at=utcnow())
    assert "Reactivate" in admin.get(f"/admin/users/{gone.id}").get_data(as_text=True)
    assert post(admin, f"/admin/users/{gone.id}/reactivate").status_code == 303
    assert fetch(app, User, gone.id).is_active
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "user")))
    assert {"account_unlocked", "user_reactivated"} <= actions


def test_an_administrator_cannot_deactivate_themselves(app: Flask, admin: FlaskClient, texas_admin: User) -> None:
    response = post(admin, f"/admin/users/{texas_admin.id}/deactivate")
    assert response.status_code == 409
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert fetch(app, User, texas_admin.id).is_active


def test_deactivation_ends_the_live_session(app: Flask, admin: FlaskClient, make_user: MakeUser, login: Login) -> None:
    user = make_user(role="po", state="TX")
    theirs = login(user)
    assert theirs.get("/account").status_code == 200
    response = post(admin, f"/admin/users/{user.id}/deactivate", follow_redirects=True)
    assert "is deactivated and signed out everywhere" in response.get_data(as_text=True)
    again = theirs.get("/account")
    assert again.status_code == 302 and again.headers["Location"].startswith("/login")
    assert not fetch(app, User, user.id).is_active


def test_open_work_blocks_plain_deactivation_and_moves_in_the_same_step(
    app: Flask, admin: FlaskClient, make_user: MakeUser, work: FakeWork
) -> None:
    holder = make_user(role="local_it", state="TX", name="Hank Holder")
    colleague = make_user(role="local_it", state="TX", name="Cora Colleague")
    ohio = make_user(role="local_it", state="OH", name="Otto Ohio")
    work.items[holder.id] = ["T-1", "T-2"]
    page = admin.get(f"/admin/users/{holder.id}").get_data(as_text=True)
    assert "holds 2 open items" in page and "Ticket T-1" in page and "Cora Colleague" in page
    assert "Otto Ohio" not in page

    refused = post(admin, f"/admin/users/{holder.id}/deactivate")
    assert refused.status_code == 409 and "still holds open work" in refused.get_data(as_text=True)
    assert fetch(app, User, holder.id).is_active and work.items == {holder.id: ["T-1", "T-2"]}

    for wrong in (ohio.id, holder.id, 999_999, "x"):
        response = post(admin, f"/admin/users/{holder.id}/deactivate", {"reassign_to": wrong})
        assert response.status_code == 400, wrong
    assert fetch(app, User, holder.id).is_active and work.items == {holder.id: ["T-1", "T-2"]}

    done = post(admin, f"/admin/users/{holder.id}/deactivate", {"reassign_to": colleague.id}, follow_redirects=True)
    assert "2 open items went to Cora Colleague" in done.get_data(as_text=True)
    assert not fetch(app, User, holder.id).is_active
    assert work.items == {colleague.id: ["T-1", "T-2"]}
    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.target_id == str(holder.id)).order_by(AuditEvent.id)
            )
        )
    assert actions[-2:] == ["work_reassigned", "user_deactivated"]
