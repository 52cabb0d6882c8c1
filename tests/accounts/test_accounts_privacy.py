"""First sign-in: a single-use link instead of a mailed password, then the privacy policy before anything else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpdesk.accounts.models import PrivacyAcceptance, User
from helpdesk.accounts.services import AccountError, create_user
from helpdesk.audit.services import SYSTEM
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from tests.accounts.support import (
    ARTICLE,
    BASE_URL,
    all_rows,
    attempt,
    audit,
    choose_password,
    load_user,
    mailed_link,
    outbox,
    sign_out,
)
from tests.factories import PASSWORD, get_agency, make_user, sign_in
from tests.helpers import post_form

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

OFFICE = "198.51.100.23"


def new_user(app: Flask, email: str = "jordan.reyes@tx.example.gov", name: str = "Jordan Reyes") -> User:
    """Create a user the way an administrator does (service), which mails the first-time link."""
    with app.app_context():
        user = create_user(
            db.session,
            actor=None,
            email=email,
            name=name,
            role="po",
            agency=get_agency("TX"),
            origin=SYSTEM,
            now=utcnow(),
            policy=app.extensions["helpdesk.account_policy"],
        )
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def accept(client: FlaskClient, next_path: str = "/") -> TestResponse:
    return post_form(client, f"/privacy?next={next_path}", {"accept": "y"}, form_page="/privacy")


def test_a_new_user_gets_a_link_not_a_password(app: Flask, client: FlaskClient) -> None:
    user = new_user(app)
    [mail] = outbox(app, kind="first_time")
    assert mail.recipient == user.email
    path, raw = mailed_link(mail)
    assert f"{BASE_URL}{path}" in mail.body_text and f'href="{BASE_URL}{path}"' in (mail.body_html or "")
    assert load_user(app, user.id).password_hash is None
    assert "password:" not in mail.body_text.lower()
    assert attempt(client, user.email, "any password at all, really").status_code == 200  # nothing to sign in with
    page = client.get(path)
    assert page.status_code == 200 and "Welcome: choose your password" in page.get_data(as_text=True)
    assert choose_password(client, path, PASSWORD).status_code == 303
    assert load_user(app, user.id).password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    assert client.get(path).status_code == 410  # single use
    [event] = audit(app, "password_set")
    assert event.actor_id == user.id and raw not in str(event.detail)
    [created] = audit(app, "user_created")
    assert (created.target_id, created.actor_email) == (str(user.id), "cli")


def test_the_privacy_policy_comes_before_everything(app: Flask, client: FlaskClient) -> None:
    user = new_user(app)
    path, _raw = mailed_link(outbox(app, kind="first_time")[0])
    choose_password(client, path, PASSWORD)
    client.environ_base["REMOTE_ADDR"] = OFFICE
    response = attempt(client, user.email, PASSWORD)
    assert response.status_code == 303
    for page in ("/", "/account", ARTICLE, "/search?q=password", "/request", "/sections/access"):
        response = client.get(page)
        assert response.status_code == 302 and response.headers["Location"].startswith("/privacy?next="), page
    api = client.get("/api/v1/search?q=password")
    assert api.status_code == 403 and api.json["error"] == "privacy_not_accepted"  # type: ignore[index]
    assert client.get("/privacy").status_code == 200
    refused = post_form(client, "/privacy", {}, form_page="/privacy")  # the box not ticked
    assert refused.status_code == 400 and all_rows(app, PrivacyAcceptance) == []
    done = accept(client, "/account")
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    [row] = all_rows(app, PrivacyAcceptance)
    assert (row.user_id, row.version, row.ip) == (user.id, 1, OFFICE)
    assert row.accepted_at.utcoffset() == dt.timedelta(0) and abs(utcnow() - row.accepted_at) < dt.timedelta(minutes=1)
    stored = load_user(app, user.id)
    assert (stored.privacy_version, stored.privacy_accepted_at) == (1, row.accepted_at)
    [event] = audit(app, "privacy_accepted")
    assert (event.actor_id, event.outcome, event.ip) == (user.id, "success", OFFICE)
    assert "version 1" in (event.detail or "")


def test_signing_out_is_possible_without_accepting(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, privacy=False)
    sign_in(client, user)
    assert client.get("/").status_code == 302
    assert sign_out(client).status_code == 303
    assert client.get("/").status_code == 200  # signed out: the public pages again


def test_a_new_policy_version_asks_again(app: Flask, make_app: Callable[..., Flask]) -> None:
    user = make_user(app)  # accepted version 1
    assert load_user(app, user.id).privacy_version == 1
    published = make_app(PRIVACY_VERSION=2)
    client = published.test_client()
    sign_in(client, user)
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/privacy")
    assert "Version 2" in client.get("/privacy").get_data(as_text=True)
    accept(client)
    assert client.get("/account").status_code == 200
    assert [r.version for r in all_rows(published, PrivacyAcceptance)] == [2]
    assert load_user(app, user.id).privacy_version == 2


def test_the_next_page_after_accepting_stays_on_this_site(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, privacy=False)
    sign_in(client, user)
    response = accept(client, "//evil.com")
    assert response.headers["Location"] == "/"


def test_the_sign_in_page_shows_the_use_notice(client: FlaskClient) -> None:
    page = " ".join(client.get("/login").get_data(as_text=True).split())
    for statement in (
        "restricted to authorised users for official business only",
        "All activity is monitored and recorded, and may be audited",
        "Unauthorised use, or use beyond your authorisation, is prohibited",
        "criminal and civil penalties",
        "By signing in you consent to this monitoring and recording",
    ):
        assert statement in page


@pytest.mark.parametrize("email", ["Jordan.Reyes@TX.example.gov", "jordan.reyes@tx.example.gov "])
def test_addresses_are_unique_whatever_the_case(app: Flask, email: str) -> None:
    new_user(app)
    with pytest.raises(AccountError, match="already exists"):
        new_user(app, email)


def test_an_address_is_never_given_to_someone_else(app: Flask) -> None:
    gone = make_user(app, is_active=False, deactivated_at=utcnow())
    with pytest.raises(AccountError, match="never reused"):
        new_user(app, gone.email)
    assert load_user(app, gone.id).email == gone.email  # the deactivated row is kept


@pytest.mark.parametrize("email", ["helpdesk@tx.example.gov", "info@tx.example.gov", "noreply@tx.example.gov"])
def test_shared_mailboxes_cannot_be_accounts(app: Flask, email: str) -> None:
    with pytest.raises(AccountError, match="shared role mailbox"):
        new_user(app, email)


def test_a_line_break_in_a_name_cannot_add_a_mail_header(app: Flask) -> None:
    user = new_user(app, "casey.moore@tx.example.gov", name="Casey\r\nBcc: evil@example.com\nMoore")
    assert load_user(app, user.id).name == "Casey Bcc: evil@example.com Moore"
    [mail] = outbox(app, kind="first_time")
    assert "\n" not in mail.subject and "\r" not in mail.subject and mail.recipient == user.email


def test_names_are_escaped_in_html_mail(app: Flask) -> None:
    name = '<a href="https://evil.example/x">Click here</a> Moore'
    new_user(app, "casey.moore@tx.example.gov", name=name)
    [mail] = outbox(app, kind="first_time")
    assert mail.body_html and "evil.example" in mail.body_html  # shown, as text...
    assert '<a href="https://evil.example' not in mail.body_html  # ...never as a link
    assert "&lt;a href=" in mail.body_html


def test_administrators_cannot_choose_a_users_password(app: Flask) -> None:
    admin = make_user(app, role="state_admin", state="TX")
    with app.app_context(), pytest.raises(PermissionError):
        create_user(
            db.session,
            actor=db.session.get(User, admin.id),
            email="pat.lee@tx.example.gov",
            name="Pat Lee",
            role="po",
            agency=get_agency("TX"),
            origin=SYSTEM,
            now=utcnow(),
            policy=app.extensions["helpdesk.account_policy"],
            password="a password the admin would know",
        )
    assert [u.email for u in all_rows(app, User)] == [admin.email] and outbox(app) == []


def test_no_account_exists_before_an_administrator_creates_one(app: Flask) -> None:
    assert all_rows(app, User) == []


def test_there_is_no_way_to_delete_a_user(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        assert "DELETE" not in (rule.methods or set()), rule.rule
        assert "delete" not in rule.rule.lower() and "delete" not in rule.endpoint.lower(), rule.rule
