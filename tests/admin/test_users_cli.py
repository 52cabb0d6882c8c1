"""`helpdesk users create | deactivate | inactive`: the same services as the web, audited as the system."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.accounts.passwords import verify_password
from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.mail.models import OutboxMessage
from helpdesk.orm import utcnow
from tests.admin.conftest import FakeWork, agency_id, count, fetch

pytestmark = pytest.mark.db

MakeUser = Callable[..., User]
PASSPHRASE = "lantern quartz meadow 4711"


def find(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            db.session.expunge(user)
        return user


def test_create_mails_the_first_time_link_and_audits_as_the_system(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Cora.Compact@TX.example.gov",
            "--name",
            "Cora Compact",
            "--role",
            "compact_office",
            "--state",
            "tx",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created cora.compact@tx.example.gov" in result.output
    user = find(app, "cora.compact@tx.example.gov")
    assert user is not None and user.agency.name == "Texas Compact Office" and user.password_hash is None
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage)).one()
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user_created")).one()
    assert mail.recipient == user.email and re.search(r"https://help\.example\.org/reset/\S+", mail.body_text)
    assert (event.actor_id, event.actor_email, event.ip, event.user_agent) == (None, "cli", None, "helpdesk cli")


def test_create_with_a_password_from_stdin_mails_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    agency_id(app, "OH", "Franklin County")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "pat@oh.example.gov",
            "--name",
            "Pat Doe",
            "--role",
            "po",
            "--state",
            "OH",
            "--password-stdin",
        ],
        input=PASSPHRASE + "\n",
    )
    assert result.exit_code == 0, result.output
    user = find(app, "pat@oh.example.gov")
    assert user is not None and user.agency.name == "Franklin County"  # the state's only local agency
    assert verify_password(user.password_hash, PASSPHRASE)
    assert count(app, select(OutboxMessage)) == 0


REFUSALS: list[tuple[list[str], str | None, str]] = [
    (
        ["--role", "po", "--state", "TX", "--agency", "travis county probation", "--password-stdin"],
        "short\n",
        "Use at least 15 characters",
    ),
    (
        ["--role", "po", "--state", "TX", "--agency", "Travis County Probation", "--password-stdin"],
        "example-example-2024\n",
        "Don't build the password",
    ),
    (["--role", "po", "--state", "TX"], None, "Name the agency with --agency"),
    (["--role", "po", "--state", "TX", "--agency", "Nowhere"], None, "Texas has no agency named 'Nowhere'"),
    (["--role", "po", "--state", "ZZ"], None, "Unknown state 'ZZ'"),
    (["--role", "po"], None, "Give the user's state with --state"),
    (["--role", "boss", "--state", "TX"], None, "Invalid value for '--role'"),
    (
        ["--role", "compact_office", "--state", "TX", "--agency", "Travis County Probation"],
        None,
        "Only members of the state compact office",
    ),
    (["--role", "national_admin", "--state", "TX"], None, "leave out the state"),
]


def test_create_refusals_exit_non_zero_and_change_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    agency_id(app, "TX", "Travis County Probation")
    agency_id(app, "TX", "Harris County CSCD")
    for args, stdin, message in REFUSALS:
        result = runner.invoke(
            args=["users", "create", "--email", "pat@tx.example.gov", "--name", "Pat Doe", *args], input=stdin
        )
        assert result.exit_code == (2 if "Invalid value" in message else 1), (args, result.output)
        assert message in result.output, (args, result.output)
    assert find(app, "pat@tx.example.gov") is None
    assert count(app, select(OutboxMessage)) == 0


def test_create_refuses_role_mailboxes_and_reused_addresses(
    app: Flask, runner: FlaskCliRunner, make_user: MakeUser
) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "IT@oh.example.gov",
            "--name",
            "Ohio IT",
            "--role",
            "compact_office",
            "--state",
            "OH",
        ]
    )
    assert result.exit_code == 1 and "CJIS Security Policy" in result.output
    make_user(email="gone@oh.example.gov", state="OH", is_active=False)
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "GONE@oh.example.gov",
            "--name",
            "New Gone",
            "--role",
            "compact_office",
            "--state",
            "OH",
        ]
    )
    assert result.exit_code == 1 and "never reused" in result.output


def test_national_admin_goes_to_the_national_office(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "nat@national.example.gov",
            "--name",
            "Nat Office",
            "--role",
            "national_admin",
            "--password-stdin",
        ],
        input=PASSPHRASE,
    )
    assert result.exit_code == 0, result.output
    user = find(app, "nat@national.example.gov")
    assert user is not None and user.state_code is None and user.agency.kind == "national"


def test_deactivate_with_and_without_reassignment(
    app: Flask, runner: FlaskCliRunner, make_user: MakeUser, work: FakeWork
) -> None:
    holder = make_user(role="local_it", state="TX", email="holder@tx.example.gov")
    colleague = make_user(role="local_it", state="TX", email="colleague@tx.example.gov")
    ohio = make_user(role="local_it", state="OH", email="ohio@oh.example.gov")
    work.items[holder.id] = ["T-1"]

    refused = runner.invoke(args=["users", "deactivate", "--email", "holder@tx.example.gov"])
    assert refused.exit_code == 1 and "still holds open work" in refused.output and "ticket T-1" in refused.output
    cross = runner.invoke(args=["users", "deactivate", "--email", "holder@tx.example.gov", "--reassign-to", ohio.email])
    assert cross.exit_code == 1 and "active user of your state" in cross.output
    missing = runner.invoke(args=["users", "deactivate", "--email", "nobody@tx.example.gov"])
    assert missing.exit_code == 1 and "No user has the e-mail address nobody@tx.example.gov" in missing.output
    assert fetch(app, User, holder.id).is_active and work.items == {holder.id: ["T-1"]}

    done = runner.invoke(
        args=["users", "deactivate", "--email", "HOLDER@tx.example.gov", "--reassign-to", "colleague@tx.example.gov"]
    )
    assert done.exit_code == 0, done.output
    assert "1 open items went to colleague@tx.example.gov" in done.output
    assert not fetch(app, User, holder.id).is_active and work.items == {colleague.id: ["T-1"]}
    again = runner.invoke(args=["users", "deactivate", "--email", "holder@tx.example.gov"])
    assert again.exit_code == 0 and "already deactivated" in again.output
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user_deactivated")).one()
    assert (event.actor_id, event.user_agent) == (None, "helpdesk cli")


def test_inactive_lists_users_not_seen(app: Flask, runner: FlaskCliRunner, make_user: MakeUser) -> None:
    now = utcnow()
    make_user(email="away@tx.example.gov", last_seen_at=now - dt.timedelta(days=91))
    make_user(email="recent@tx.example.gov", last_seen_at=now - dt.timedelta(days=89))
    make_user(email="gone@tx.example.gov", last_seen_at=now - dt.timedelta(days=300), is_active=False)
    result = runner.invoke(args=["users", "inactive", "--days", "90", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["days"] == 90 and [u["email"] for u in data["users"]] == ["away@tx.example.gov"]
    assert set(data["users"][0]) == {"email", "name", "role", "state", "agency", "last_seen_at", "created_at"}
    table = runner.invoke(args=["users", "inactive"])
    assert table.exit_code == 0 and "away@tx.example.gov" in table.output and "recent@" not in table.output
