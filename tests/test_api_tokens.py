"""Personal API tokens: the services (hash only, audit, revocation, last use) and the tokens page."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from helpdesk.accounts.api_tokens import (
    MAX_ACTIVE_TOKENS,
    TokenError,
    authenticate_token,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from helpdesk.accounts.models import ApiToken, User
from helpdesk.accounts.services import deactivate_user, reactivate_user
from helpdesk.audit.models import AuditEvent
from helpdesk.audit.services import Origin
from helpdesk.extensions import db
from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token

pytestmark = pytest.mark.db

ORIGIN = Origin(ip="203.0.113.9", user_agent="pytest")
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
_SHOWN = re.compile(r'id="new-token" type="text" readonly value="(hd_[A-Za-z0-9_-]+)"')


@pytest.fixture
def user(app: Flask) -> User:
    """A PO of Texas."""
    return make_user(app, name="Ana Reyes", email="ana@tx.example.gov")


def load(user: User) -> User:
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def tokens_of(app: Flask, user: User) -> list[ApiToken]:
    with app.app_context():
        return list_api_tokens(db.session, load(user))


def test_only_the_hash_is_stored_and_creation_is_audited(app: Flask, user: User) -> None:
    with app.app_context():
        token, plaintext = create_api_token(
            db.session, actor=load(user), name="  Office   script ", origin=ORIGIN, now=NOON
        )
        db.session.commit()
        assert plaintext.startswith("hd_") and len(plaintext) >= 40
        assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest() != plaintext
        assert (token.name, token.created_at, token.last_used_at, token.revoked_at) == (
            "Office script",
            NOON,
            None,
            None,
        )
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token_created")).one()
        assert (audit.actor_id, audit.target_id, audit.ip, audit.detail) == (
            user.id,
            str(token.id),
            ORIGIN.ip,
            "Office script",
        )
        assert plaintext not in {audit.detail, token.name}
        other = create_api_token(db.session, actor=load(user), name="second", origin=ORIGIN)[1]
        assert other != plaintext


def test_authenticate_notes_last_use_at_most_every_five_minutes(app: Flask, user: User) -> None:
    with app.app_context():
        token, plaintext = create_api_token(db.session, actor=load(user), name="s", origin=ORIGIN, now=NOON)
        assert authenticate_token(db.session, plaintext, now=NOON).id == user.id  # type: ignore[union-attr]
        assert token.last_used_at == NOON
        authenticate_token(db.session, plaintext, now=NOON + dt.timedelta(minutes=4))
        assert token.last_used_at == NOON  # no write for every request
        later = NOON + dt.timedelta(minutes=6)
        authenticate_token(db.session, plaintext, now=later)
        assert token.last_used_at == later
        for wrong in ("", plaintext[3:], plaintext + "x", "hd_" + "a" * 200, plaintext.upper()):
            assert authenticate_token(db.session, wrong) is None


def test_a_token_request_commits_its_stamp_only_when_there_is_one(app: Flask, user: User) -> None:
    with app.app_context():
        plaintext = create_api_token(db.session, actor=load(user), name="s", origin=ORIGIN)[1]
        db.session.commit()
        transactions: list[str] = []
        event.listen(db.engine, "commit", lambda _connection: transactions.append("commit"))
        event.listen(db.engine, "rollback", lambda _connection: transactions.append("rollback"))
    api = app.test_client()
    for stamped in (True, False):  # the first use is stamped; the next, within five minutes, is not
        transactions.clear()
        listed = api.get("/api/v1/tickets", headers={"Authorization": f"Bearer {plaintext}"})
        assert listed.status_code == 200
        # The stamp's own commit, then the request's end; without a stamp the request is one transaction.
        assert transactions == (["commit", "commit"] if stamped else ["commit"])


def test_revoked_and_deactivated_tokens_fail(app: Flask, user: User) -> None:
    with app.app_context():
        token, plaintext = create_api_token(db.session, actor=load(user), name="s", origin=ORIGIN)
        second = create_api_token(db.session, actor=load(user), name="t", origin=ORIGIN)[1]
        revoke_api_token(db.session, actor=load(user), token_id=token.id, origin=ORIGIN, now=NOON)
        revoke_api_token(db.session, actor=load(user), token_id=token.id, origin=ORIGIN)  # again: no change
        assert token.revoked_at == NOON
        assert authenticate_token(db.session, plaintext) is None
        assert authenticate_token(db.session, second) is not None
        load(user).is_active = False
        assert authenticate_token(db.session, second) is None
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "api_token")).all()
        # Deactivation revoked the second token too (with its own audit row).
        assert sorted(actions) == ["api_token_created", "api_token_created", "api_token_revoked", "api_token_revoked"]
        with pytest.raises(PermissionError):
            create_api_token(db.session, actor=load(user), name="u", origin=ORIGIN)


def test_names_limits_and_other_peoples_tokens(app: Flask, user: User) -> None:
    other = make_user(app)
    with app.app_context():
        for name in ("", "   ", "x" * 101):
            with pytest.raises(TokenError, match="name"):
                create_api_token(db.session, actor=load(user), name=name, origin=ORIGIN)
        theirs = create_api_token(db.session, actor=load(other), name="theirs", origin=ORIGIN)[0]
        with pytest.raises(LookupError):
            revoke_api_token(db.session, actor=load(user), token_id=theirs.id, origin=ORIGIN)
        with pytest.raises(LookupError):
            revoke_api_token(db.session, actor=load(user), token_id=999_999, origin=ORIGIN)
        assert theirs.revoked_at is None
        for number in range(MAX_ACTIVE_TOKENS):
            create_api_token(db.session, actor=load(user), name=f"t{number}", origin=ORIGIN)
        with pytest.raises(TokenError, match="revoke one"):
            create_api_token(db.session, actor=load(user), name="one too many", origin=ORIGIN)


def test_the_page_needs_a_sign_in_and_lists_the_tokens(app: Flask, client: FlaskClient, user: User) -> None:
    assert client.get("/account/tokens").headers["Location"].startswith("/login")
    other = make_user(app)
    with app.app_context():
        token = create_api_token(db.session, actor=load(user), name="Nightly report", origin=ORIGIN)[0]
        create_api_token(db.session, actor=load(other), name="Someone else's", origin=ORIGIN)
        revoke_api_token(db.session, actor=load(user), token_id=token.id, origin=ORIGIN)
        create_api_token(db.session, actor=load(user), name="Status script", origin=ORIGIN)
        db.session.commit()
    sign_in(client, user)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "Nightly report" in page and "Status script" in page and "Someone else" not in page
    assert page.index("Status script") < page.index("Nightly report")  # active tokens first
    assert "Revoked <time" in page and "never" in page and "hd_" not in page
    assert "asked to sign in again" not in page  # just signed in
    assert page.count("Revoke<span") == 1  # only the active token can be revoked
    assert 'href="/account/tokens"' in client.get("/account").get_data(as_text=True)


def test_creating_shows_the_token_once_and_it_works(app: Flask, client: FlaskClient, user: User) -> None:
    sign_in(client, user)
    token = read_csrf_token(client, "/account/tokens")
    response = client.post("/account/tokens", data={"name": "Office script", "csrf_token": token})
    assert response.status_code == 201 and response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert "shown only this once" in page and "Office script" in page
    match = _SHOWN.search(page)
    assert match
    plaintext = match.group(1)
    assert plaintext not in client.get("/account/tokens").get_data(as_text=True)
    api = app.test_client()  # another client: no session at all
    listed = api.get("/api/v1/tickets", headers={"Authorization": f"Bearer {plaintext}"})
    assert listed.status_code == 200 and listed.json["total"] == 0
    assert "Set-Cookie" not in listed.headers
    [stored] = tokens_of(app, user)
    assert stored.name == "Office script" and stored.last_used_at is not None


def test_invalid_or_unprotected_creation_changes_nothing(app: Flask, client: FlaskClient, user: User) -> None:
    sign_in(client, user)
    assert client.post("/account/tokens", data={"name": "no csrf"}).status_code == 400
    token = read_csrf_token(client, "/account/tokens")
    for name, message in (
        ("", "Give the token a name"),
        ("   ", "Give the token a name, such as"),
        ("x" * 101, "at most 100"),
    ):
        response = client.post("/account/tokens", data={"name": name, "csrf_token": token})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert tokens_of(app, user) == []


def test_creating_needs_a_sign_in_from_the_last_15_minutes(app: Flask, client: FlaskClient, user: User) -> None:
    sign_in(client, user)
    token = read_csrf_token(client, "/account/tokens")
    with client.session_transaction() as session:
        session["auth_at"] = time.time() - 16 * 60
    assert "asked to sign in again" in client.get("/account/tokens").get_data(as_text=True)
    response = client.post("/account/tokens", data={"name": "late", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=/account/tokens")
    assert tokens_of(app, user) == []
    assert client.get("/account/tokens").status_code == 302  # signed out


def test_revoking_from_the_page(app: Flask, client: FlaskClient, user: User) -> None:
    other = make_user(app)
    with app.app_context():
        mine, plaintext = create_api_token(db.session, actor=load(user), name="Old laptop", origin=ORIGIN)
        theirs = create_api_token(db.session, actor=load(other), name="theirs", origin=ORIGIN)[0]
        db.session.commit()
    sign_in(client, user)
    assert client.post(f"/account/tokens/{mine.id}/revoke").status_code == 400  # no CSRF token
    token = read_csrf_token(client, "/account/tokens")
    assert client.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": token}).status_code == 404
    response = client.post(f"/account/tokens/{mine.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/account/tokens"
    assert "“Old laptop” is revoked" in client.get("/account/tokens").get_data(as_text=True)
    assert tokens_of(app, user)[0].revoked_at is not None and tokens_of(app, other)[0].revoked_at is None
    assert app.test_client().get("/api/v1/tickets", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401


def test_deactivation_revokes_tokens_for_good(app: Flask, user: User) -> None:
    admin = make_user(app, role="state_admin", state="TX")
    other = make_user(app, name="Ben Cole", email="ben@tx.example.gov")
    with app.app_context():
        plaintext = create_api_token(db.session, actor=load(user), name="script", origin=ORIGIN)[1]
        kept = create_api_token(db.session, actor=load(other), name="kept", origin=ORIGIN)[1]
        db.session.commit()
        deactivate_user(db.session, load(user), actor=load(admin), origin=ORIGIN, now=NOON)
        db.session.commit()
        reactivate_user(db.session, load(user), actor=load(admin), origin=ORIGIN)
        db.session.commit()
        assert load(user).is_active
        assert authenticate_token(db.session, plaintext) is None  # reactivation does not bring it back
        assert authenticate_token(db.session, kept) is not None  # nobody else's token is touched
        [row] = list_api_tokens(db.session, load(user))
        assert row.revoked_at is not None
        details = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "api_token_revoked")).all()
        assert details == ["script (user deactivated)"]
