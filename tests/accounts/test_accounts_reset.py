"""Password reset: hashed single-use links of 20 minutes, chosen by the token only, throttled, never enumerating."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpdesk.accounts.models import User, UserToken
from helpdesk.accounts.services import deactivate_user
from helpdesk.accounts.tokens import issue_token
from helpdesk.audit.services import SYSTEM
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from tests.accounts.support import (
    BASE_URL,
    all_rows,
    ask_reset,
    attempt,
    audit,
    choose_password,
    every_stored_value,
    handled,
    load_user,
    mailed_link,
    outbox,
    reset_link,
    signed_in,
)
from tests.factories import PASSWORD, make_user, sign_in
from tests.helpers import csrf_of, read_csrf_token, without_csrf

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

NEW_PASSWORD = "purple tugboat under seven lanterns"
ACCOUNTS = Path(__file__).resolve().parents[2] / "helpdesk" / "accounts"


def comparable(response: TestResponse) -> tuple[int, str, str]:
    return response.status_code, response.headers.get("Location", ""), without_csrf(response.get_data(as_text=True))


# --- asking for a link ------------------------------------------------------------------------------------------


def test_every_address_gets_the_same_answer_and_only_the_active_one_a_mail(
    app: Flask, clock: time_machine.Traveller
) -> None:
    active = make_user(app)
    gone = make_user(app, is_active=False, deactivated_at=utcnow())
    locked = make_user(app, locked_until=utcnow() + dt.timedelta(minutes=10))
    cases = {
        "active": active.email,
        "unknown": "nobody@tx.example.gov",
        "deactivated": gone.email,
        "locked": locked.email,
    }
    seen = {}
    for number, (case, email) in enumerate(cases.items(), start=1):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number}"  # a rate-limit counter each: same headers
        response = ask_reset(client, email)
        headers = sorted(
            (name, re.sub(r"^session=[^;]*", "session=VALUE", value)) for name, value in response.headers.items()
        )
        seen[case] = (response.status_code, headers, without_csrf(response.get_data(as_text=True)))
    for case, observed in seen.items():
        assert observed == seen["active"], case
    assert seen["active"][0] == 200 and "If an active account uses that address" in seen["active"][2]
    mailed = {m.recipient for m in outbox(app, kind="password_reset")}
    assert active.email in mailed and not mailed & {gone.email, "nobody@tx.example.gov"}
    # A locked account may ask for a link (its lock mail says so); the link does not lift the lock (see below).
    assert mailed <= {active.email, locked.email}


def test_a_locked_account_gets_a_link_but_keeps_its_lock(
    app: Flask, client: FlaskClient, clock: time_machine.Traveller
) -> None:
    user = make_user(app, locked_until=utcnow() + dt.timedelta(minutes=10))
    path, _raw = reset_link(app, client, user.email)
    assert choose_password(client, path, NEW_PASSWORD).status_code == 303
    assert attempt(client, user.email, NEW_PASSWORD).status_code == 200  # still locked
    assert load_user(app, user.id).locked_until is not None


@pytest.mark.parametrize(
    "forged",
    [
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example"},
        {
            "Host": "evil.example",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "http",
            "Forwarded": "host=evil.example;proto=http",
        },
    ],
)
def test_the_link_is_built_from_the_base_url_not_the_host_header(
    app: Flask, client: FlaskClient, forged: dict[str, str]
) -> None:
    user = make_user(app)
    # The attacker's own session on the forged host, then a request that names the victim.
    page = client.get("/forgot", headers=forged)
    response = client.post(
        "/forgot", data={"email": user.email, "csrf_token": csrf_of(page.get_data(as_text=True))}, headers=forged
    )
    assert response.status_code == 200
    handled(client)
    [message] = outbox(app, to=user.email)
    text = message.body_text + (message.body_html or "")
    links = re.findall(r"https?://[^\s\"'<>]+", text)
    assert links and all(link.startswith(f"{BASE_URL}/") for link in links), links
    assert "evil.example" not in text


def test_requesting_a_link_changes_nothing(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    assert sign_in(client, user).status_code == 303
    before = load_user(app, user.id)
    other = app.test_client()
    reset_link(app, other, user.email)
    after = load_user(app, user.id)
    assert (after.password_hash, after.session_version, after.failed_logins, after.locked_until, after.is_active) == (
        before.password_hash,
        before.session_version,
        before.failed_logins,
        before.locked_until,
        before.is_active,
    )
    assert signed_in(client)  # the open session lives on
    assert attempt(app.test_client(), user.email, PASSWORD).status_code == 303  # the old password still works


def test_requests_are_throttled_per_account_with_the_same_answer(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    pages = {comparable(ask_reset(client, user.email)) for _ in range(10)}
    assert len(pages) == 1 and next(iter(pages))[0] == 200
    assert len(outbox(app, kind="password_reset")) == 3
    assert len(audit(app, "password_reset_requested", outcome="throttled")) == 7


def test_requests_are_throttled_per_address(app: Flask, client: FlaskClient) -> None:
    statuses = [ask_reset(client, f"someone{n}@tx.example.gov").status_code for n in range(40)]
    assert 429 in statuses and set(statuses) == {200, 429}
    assert statuses.index(429) >= 10  # an office can still ask a few times


# --- the link ---------------------------------------------------------------------------------------------------


def test_tokens_are_long_random_and_stored_only_as_sha256(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    _path, raw = reset_link(app, client, user.email)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", raw)
    [token] = all_rows(app, UserToken)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert (token.user_id, token.purpose) == (user.id, "reset")
    stored = every_stored_value(app, skip=("outbox_message",))
    assert [table for table, values in stored.items() if any(raw in v for v in values)] == []


def test_no_raw_token_stays_in_the_database_once_mailed(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    _path, raw = reset_link(app, client, user.email)
    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output
    assert [m.status for m in outbox(app)] == ["sent"]
    stored = every_stored_value(app)
    assert [table for table, values in stored.items() if any(raw in v for v in values)] == []


def test_tokens_never_repeat(app: Flask) -> None:
    user = make_user(app)
    with app.app_context():
        owner = db.session.get(User, user.id)
        raws = [
            issue_token(db.session, owner, "reset", lifetime=dt.timedelta(minutes=20), now=utcnow()) for _ in range(200)
        ]
        db.session.commit()
    assert len(set(raws)) == 200 and all(re.fullmatch(r"[A-Za-z0-9_-]{43,}", raw) for raw in raws)
    assert len({t.token_hash for t in all_rows(app, UserToken)}) == 200


def test_account_modules_use_no_weak_randomness() -> None:
    for path in ACCOUNTS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "random" not in imported, path.name


def test_a_link_works_once(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    path, _raw = reset_link(app, client, user.email)
    assert choose_password(client, path, NEW_PASSWORD).status_code == 303
    again = client.get(path)
    assert again.status_code == 410
    page = again.get_data(as_text=True)
    assert "This link has expired or has already been used" in page and 'href="/forgot"' in page
    assert choose_password(client, path, "another fine password for later").status_code == 410
    assert attempt(app.test_client(), user.email, NEW_PASSWORD).status_code == 303


def test_a_newer_request_ends_the_older_link(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    older, _ = reset_link(app, client, user.email)
    newer, _ = reset_link(app, client, user.email)
    assert client.get(older).status_code == 410
    assert client.get(newer).status_code == 200


@pytest.mark.parametrize(
    ("after", "works"), [(dt.timedelta(minutes=19, seconds=59), True), (dt.timedelta(minutes=20, seconds=1), False)]
)
def test_a_link_lasts_twenty_minutes(
    app: Flask, client: FlaskClient, clock: time_machine.Traveller, after: dt.timedelta, works: bool
) -> None:
    user = make_user(app)
    path, _raw = reset_link(app, client, user.email)
    before = load_user(app, user.id).password_hash
    clock.shift(after)
    assert client.get(path).status_code == (200 if works else 410)
    token = read_csrf_token(client, "/forgot")
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token})
    assert response.status_code == (303 if works else 410)
    assert (load_user(app, user.id).password_hash != before) is works


def test_the_token_alone_chooses_the_account(app: Flask, client: FlaskClient) -> None:
    owner, victim = make_user(app), make_user(app)
    path, _raw = reset_link(app, client, owner.email)
    response = choose_password(
        client, path, NEW_PASSWORD, email=victim.email, user_id=str(victim.id), id=str(victim.id)
    )
    assert response.status_code == 303
    assert load_user(app, victim.id).password_hash is not None
    assert attempt(app.test_client(), owner.email, NEW_PASSWORD).status_code == 303
    assert attempt(app.test_client(), victim.email, PASSWORD).status_code == 303
    assert attempt(app.test_client(), victim.email, NEW_PASSWORD).status_code == 200


def test_after_a_reset_the_sign_in_page_has_the_address_filled_in(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    path, _raw = reset_link(app, client, user.email)
    response = choose_password(client, path, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/login"  # not in the URL (logs, history)
    page = client.get("/login").get_data(as_text=True)
    assert f'value="{user.email}"' in page and "autofocus" in page  # the cursor waits in the password field
    assert "Your password is set" in page
    assert user.email not in client.get("/login").get_data(as_text=True)  # shown once, then forgotten
    assert user.email not in app.test_client().get("/login").get_data(as_text=True)
    assert attempt(client, user.email, NEW_PASSWORD).status_code == 303


def test_a_reset_ends_other_sessions_and_does_not_sign_in(app: Flask) -> None:
    user = make_user(app)
    laptop, phone = app.test_client(), app.test_client()
    assert sign_in(laptop, user).status_code == 303 and signed_in(laptop)
    path, raw = reset_link(app, phone, user.email)
    response = choose_password(phone, path, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not signed_in(phone)
    assert not signed_in(laptop)
    with phone.session_transaction() as session:
        assert "_user_id" not in session
    [mail] = outbox(app, kind="password_changed")
    assert mail.recipient == user.email and "was changed" in mail.body_text
    for body in (mail.body_text, mail.body_html or "", mail.subject):
        assert NEW_PASSWORD not in body and raw not in body and PASSWORD not in body


@pytest.mark.parametrize(
    ("password", "confirm", "reason"),
    [
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords are not the same."),
        ("password1234567", "password1234567", "a common password with a few characters added"),
        ("1q2w3e4r5t6y7u8i", "1q2w3e4r5t6y7u8i", "list of common or breached passwords"),
    ],
)
def test_a_refused_password_changes_nothing(
    app: Flask, client: FlaskClient, password: str, confirm: str, reason: str
) -> None:
    user = make_user(app)
    path, _raw = reset_link(app, client, user.email)
    response = choose_password(client, path, password, confirm)
    assert response.status_code == 400 and reason in response.get_data(as_text=True)
    stored = load_user(app, user.id)
    assert stored.password_hash == load_user(app, user.id).password_hash
    assert attempt(app.test_client(), user.email, PASSWORD).status_code == 303
    assert outbox(app, kind="password_changed") == []
    assert choose_password(client, path, NEW_PASSWORD).status_code == 303  # the link was not spent


def test_a_deactivated_user_gets_no_mail_and_loses_open_links(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    path, _raw = reset_link(app, client, user.email)
    with app.app_context():
        deactivate_user(db.session, db.session.get(User, user.id), actor=None, origin=SYSTEM, now=utcnow())
        db.session.commit()
    assert client.get(path).status_code == 410
    ask_reset(client, user.email)
    assert len(outbox(app, kind="password_reset")) == 1


def test_reset_pages_leak_nothing_to_referrers_or_caches(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    token = read_csrf_token(client, "/forgot")
    responses = {
        "GET /forgot": client.get("/forgot"),
        "POST /forgot": client.post("/forgot", data={"email": user.email, "csrf_token": token}),
    }
    handled(client)
    path, _raw = mailed_link(outbox(app, kind="password_reset")[-1])
    responses |= {
        "GET link": client.get(path),
        "POST link, refused": client.post(path, data={"password": "short", "confirm": "short", "csrf_token": token}),
        "GET spent link": client.get("/reset/not-a-real-token"),
        "POST link, done": client.post(
            path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
        ),
    }
    for name, response in responses.items():
        assert response.headers["Referrer-Policy"] == "no-referrer", name
        assert "no-store" in response.headers["Cache-Control"], name
        assert not re.search(r"(src|href|action)=\"(https?:)?//", response.get_data(as_text=True)), name
    assert [r.status_code for r in responses.values()] == [200, 200, 200, 400, 410, 303]


def test_the_reset_form_asks_only_for_the_new_password_twice(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    path, _raw = reset_link(app, client, user.email)
    page = client.get(path).get_data(as_text=True)
    form = page[page.index('<form method="post" novalidate') :]
    form = form[: form.index("</form>")]
    fields = re.findall(r'<input[^>]*name="([^"]+)"', form)
    assert sorted(fields) == ["confirm", "csrf_token", "password"]
    for field in ("password", "confirm"):
        tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', form)
        assert tag and 'type="password"' in tag.group(0) and 'autocomplete="new-password"' in tag.group(0)
    assert "onpaste" not in page and "hint" not in {c.name for c in User.__table__.columns}
    assert not {c.name for c in User.__table__.columns} & {"password_hint", "security_question", "security_answer"}
