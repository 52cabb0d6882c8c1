"""The audit trail in words: names and links, actions and details as sentences, filters, and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import html as htmllib
import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.audit.services import SYSTEM, record_event
from helpdesk.extensions import db
from tests.admin.conftest import FakeWork, post

pytestmark = pytest.mark.db

MakeUser = Callable[..., User]
Login = Callable[[User], FlaskClient]


def text_of(page: str) -> str:
    """Return the visible text of the page's main content, one space between words."""
    main = page[page.index("<main") :] if "<main" in page else page
    blocks = re.sub(r"</?(td|th|tr|p|br|div|li|table|thead|tbody|h\d)\b[^>]*>", " ", main)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", blocks)).split())


def rows_of(page: str) -> str:
    """Return the visible text of the audit table only."""
    return text_of(page[page.index('<table class="data audit-table"') : page.index("</table>")])


def add_event(app: Flask, action: str, *, when: dt.datetime | None = None, **fields: object) -> None:
    with app.app_context():
        event = record_event(db.session, action, origin=SYSTEM, **fields)  # type: ignore[arg-type]
        if when is not None:
            event.created_at = when
        db.session.commit()


@pytest.fixture
def tess(make_user: MakeUser) -> User:
    return make_user(role="state_admin", state="TX", name="Tess Admin")


def test_the_trail_reads_as_sentences_with_names_and_links(
    app: Flask, tess: User, make_user: MakeUser, login: Login, work: FakeWork
) -> None:
    admin = login(tess)
    holder = make_user(role="local_it", state="TX", name="Hank Holder")
    colleague = make_user(role="local_it", state="TX", name="Cora Colleague")
    officer = make_user(role="po", state="TX", name="Olivia Officer")
    work.items[holder.id] = ["T-1", "T-2"]
    assert post(admin, f"/admin/users/{holder.id}/deactivate", {"reassign_to": colleague.id}).status_code == 303
    assert post(admin, f"/admin/users/{officer.id}/role", {"role": "po_supervisor"}).status_code == 303
    add_event(
        app,
        "ticket_escalated",
        actor_id=colleague.id,
        actor_email="cora@example.gov",
        target_type="ticket",
        target_id=5,
        state_code="TX",
        detail="local causes at Travis were ruled out",
    )
    add_event(
        app,
        "work_reassigned",
        actor_id=tess.id,
        actor_email=tess.email,
        target_type="user",
        target_id=holder.id,
        state_code="TX",
        detail=f"1 items to user {colleague.id}",
    )  # an older row

    page = admin.get("/admin/audit").get_data(as_text=True)
    shown = rows_of(page)
    assert "Tess Admin deactivated Hank Holder." in shown
    assert "Tess Admin handed over the open work of Hank Holder." in shown and "2 items to Cora Colleague" in shown
    assert "Tess Admin changed the role of Olivia Officer." in shown and "from PO to PO Supervisor" in shown
    assert "Cora Colleague escalated request #5." in shown
    assert "1 items to Cora Colleague" in shown  # an older row naming a user by id reads with the name
    assert f'<a href="/admin/users/{holder.id}">Hank Holder</a>' in page
    assert '<a href="/requests/5">request #5</a>' in page
    for machine in ("user_deactivated", "role_changed", "user 9", f"user {colleague.id}", "po_supervisor"):
        assert machine not in shown, machine
    assert "User deactivated" in shown and "Work handed over" in shown
    options = re.findall(r'<option value="[a-z_]+"[^>]*>([^<]+)</option>', page)
    assert "User deactivated" in options and "user_deactivated" not in options
    history = text_of(admin.get(f"/admin/users/{holder.id}").get_data(as_text=True))
    assert "Tess Admin deactivated Hank Holder." in history and "user_deactivated" not in history


def test_failed_sign_ins_and_people_of_other_states_read_right(
    app: Flask, tess: User, make_user: MakeUser, login: Login
) -> None:
    admin = login(tess)
    national = make_user(role="national_admin", name="Nora National")
    add_event(
        app, "sign_in", outcome="failure", actor_email="nobody@example.gov", state_code="TX", detail="unknown e-mail"
    )
    add_event(
        app,
        "user_reactivated",
        actor_id=national.id,
        actor_email=national.email,
        target_type="user",
        target_id=tess.id,
        state_code="TX",
    )
    page = admin.get("/admin/audit").get_data(as_text=True)
    shown = rows_of(page)
    assert "nobody@example.gov tried to sign in." in shown and "failed" in shown
    assert "Nora National reactivated Tess Admin." in shown
    assert f'href="/admin/users/{national.id}"' not in page  # named, not linked: not in the admin's reach


def test_filters_by_days_person_and_action(app: Flask, tess: User, make_user: MakeUser, login: Login) -> None:
    admin = login(tess)
    pat = make_user(role="local_it", state="TX", name="Pat Lee", email="pat@travis.example.gov")
    noon = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    add_event(
        app,
        "sign_in",
        when=noon - dt.timedelta(days=3),
        actor_id=pat.id,
        actor_email=pat.email,
        state_code="TX",
        detail="old sign-in",
    )
    add_event(
        app, "sign_in", when=noon, actor_id=pat.id, actor_email=pat.email, state_code="TX", detail="the day's sign-in"
    )
    add_event(
        app,
        "user_deactivated",
        when=noon,
        actor_id=tess.id,
        actor_email=tess.email,
        target_type="user",
        target_id=pat.id,
        state_code="TX",
        detail="deactivation of the day",
    )
    add_event(app, "sign_in", when=noon, actor_email="other@example.gov", state_code="TX", detail="someone else")

    day = rows_of(admin.get("/admin/audit?since=2026-03-10&until=2026-03-10").get_data(as_text=True))
    assert "the day's sign-in" in day and "deactivation of the day" in day and "someone else" in day
    assert "old sign-in" not in day
    pats = rows_of(admin.get("/admin/audit?person=pat+lee").get_data(as_text=True))
    assert "old sign-in" in pats and "deactivation of the day" in pats and "someone else" not in pats
    by_mail = rows_of(admin.get("/admin/audit?person=PAT@travis").get_data(as_text=True))
    assert "old sign-in" in by_mail and "someone else" not in by_mail
    both = rows_of(admin.get("/admin/audit?person=pat&action=user_deactivated&since=2026-03-01").get_data(as_text=True))
    assert "deactivation of the day" in both and "sign-in" not in both

    for query, message in [
        ("since=2026-03-11&until=2026-03-10", "The last day comes before the first"),
        ("since=yesterday", "Not a valid date"),
        ("until=9999-12-31", "between 2000 and 2999"),
    ]:
        refused = admin.get(f"/admin/audit?{query}")
        assert refused.status_code == 400 and message in refused.get_data(as_text=True), query
        assert admin.get(f"/admin/audit.csv?{query}").status_code == 400


def csv_rows(response: object) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_of_the_filtered_rows_in_the_admin_s_state_only(
    app: Flask, tess: User, make_user: MakeUser, login: Login
) -> None:
    admin = login(tess)
    mallory = make_user(role="po", state="TX", name='=HYPERLINK("http://evil.example","x")')
    add_event(app, "sign_in", actor_id=mallory.id, actor_email=mallory.email, state_code="TX", detail="+1 cmd|calc")
    add_event(app, "sign_in", actor_email="@SUM(1)", state_code="TX", detail="-2")
    add_event(app, "sign_in", actor_email="ohio@example.gov", state_code="OH", detail="an Ohio row")
    add_event(
        app,
        "user_created",
        actor_id=tess.id,
        actor_email=tess.email,
        target_type="user",
        target_id=mallory.id,
        state_code="TX",
        detail="mallory@example.gov as po",
    )

    response = admin.get("/admin/audit.csv?action=sign_in")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = [row for row in csv_rows(response) if row["Who"] != "Tess Admin"]  # her own sign-in is there too
    assert len(rows) == 2 and all(row["State"] == "TX" for row in rows)  # Ohio and the other action are left out
    assert {row["Action"] for row in rows} == {"Sign-in"}
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")], cells
    assert '\'=HYPERLINK("http://evil.example","x")' in cells and "'+1 cmd|calc" in cells
    assert "'@SUM(1)" in cells and "'-2" in cells

    everything = csv_rows(admin.get("/admin/audit.csv"))
    assert "Ohio" not in str(everything)
    created = [row for row in everything if row["Action"] == "User created"][0]
    assert created["What happened"] == 'Tess Admin created the account of =HYPERLINK("http://evil.example","x").'
    assert created["Detail"] == "mallory@example.gov as PO"
    assert admin.get("/admin/audit.csv?state=OH").status_code == 404
    with app.app_context():
        exported = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit_exported")))
    assert [(e.actor_id, e.state_code) for e in exported] == [(tess.id, "TX"), (tess.id, "TX")]
    assert "action sign_in" in (exported[0].detail or "") and "4 rows" in (exported[0].detail or "")


def test_a_national_administrator_exports_every_state(app: Flask, make_user: MakeUser, login: Login) -> None:
    admin = login(make_user(role="national_admin"))
    add_event(app, "sign_in", actor_email="ohio@example.gov", state_code="OH", detail="an Ohio row")
    add_event(app, "sign_in", actor_email="tx@example.gov", state_code="TX", detail="a Texas row")
    states = {row["State"] for row in csv_rows(admin.get("/admin/audit.csv?action=sign_in"))}
    assert {"OH", "TX"} <= states
    assert {row["State"] for row in csv_rows(admin.get("/admin/audit.csv?state=OH"))} == {"OH"}
