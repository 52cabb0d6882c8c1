"""The insight pages: scope per role, charts with their numbers, CSV of every table, and closing the loop."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.insights.models import HandledItem
from helpdesk.kb.models import Vote
from helpdesk.search.models import LearnedPhrasing
from tests.helpers import read_csrf_token
from tests.insights.conftest import ARTICLE, QUESTION, Org

pytestmark = pytest.mark.db
QS = "from=2026-03-01&to=2026-03-31"


def _first_hit(client: FlaskClient, query: str) -> str | None:
    results = client.get("/api/v1/search", query_string={"q": query}).json["results"]
    return f"{results[0]['article']}#{results[0]['question_id']}" if results else None


def test_content_page_shows_charts_with_their_numbers_and_no_names(app: Flask, org: Org) -> None:
    page = org.client(app, "noor").get(f"/insights/content?{QS}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<svg class="chart"[^>]*role="img"[^>]*aria-labelledby="chart-t\d+ chart-d\d+"', html)
    assert "<title id=" in html and "<desc id=" in html and "style=" not in html.split("<main", 1)[1]
    row = re.search(
        r'<th scope="row">password reset fax</th><td data-label="Searches">5</td>'
        r'<td data-label="People">4</td>',
        html,
    )
    assert row, "the failed query with its counts"
    assert ">Ana<" not in html and "Ana " not in html  # counts of people, never who
    assert 'href="/editor/new?question=password+reset+fax"' in html
    assert 'id="state"' in html  # national: a state filter


def test_desk_page_for_a_supervisor_is_their_agency(app: Flask, org: Org) -> None:
    html = org.client(app, "hope").get(f"/insights/desk?{QS}").get_data(as_text=True)
    assert "your agency only" in html and 'id="state"' not in html
    assert re.search(r"<th scope=\"row\">Requests opened</th><td data-label=\"Value\">0</td>", html)
    sam = org.client(app, "sam").get(f"/insights/desk?{QS}").get_data(as_text=True)
    assert re.search(r"<th scope=\"row\">Requests opened</th><td data-label=\"Value\">5</td>", sam)
    assert sam.count('role="img"') == 5


@pytest.mark.parametrize(
    ("who", "content", "desk"),
    [("noor", 200, 200), ("robin", 200, 200), ("tess", 403, 200), ("pat", 403, 200), ("ana", 403, 403)],
)
def test_pages_per_role(app: Flask, org: Org, who: str, content: int, desk: int) -> None:
    client = org.client(app, who)
    assert client.get("/insights/content").status_code == content
    assert client.get("/insights/desk").status_code == desk
    assert ('href="/insights/desk"' in client.get("/").get_data(as_text=True)) == (desk == 200)  # the menu link


def test_signed_out_go_to_sign_in_and_other_states_are_refused(app: Flask, org: Org, client: FlaskClient) -> None:
    assert client.get("/insights/desk").status_code in (302, 303)
    robin = org.client(app, "robin")
    assert robin.get("/insights/desk?state=OK").status_code == 403
    assert robin.get("/insights/content?state=OK").status_code == 403


def test_stray_parameters_change_nothing(app: Flask, org: Org) -> None:
    client = org.client(app, "noor")
    for path in ("/insights/desk", "/insights/content"):
        page = client.get(f"{path}?{QS}&table=sla&page=2")
        assert page.status_code == 200  # each table's CSV link names its own table
        assert re.search(
            r'table=(summary|zero_result)[^"]*" download>Download as CSV: (Summary|Searches with no)',
            page.get_data(as_text=True),
        )


def test_a_bad_period_is_400_with_the_typed_dates_kept(app: Flask, org: Org) -> None:
    page = org.client(app, "noor").get("/insights/desk?from=2026-03-31&to=2026-03-01")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "from must not come after to" in html and 'value="2026-03-31"' in html


def test_every_table_downloads_as_csv(app: Flask, org: Org) -> None:
    client = org.client(app, "noor")
    sla = client.get(f"/insights/desk.csv?{QS}&state=TX&table=sla")
    assert sla.status_code == 200 and sla.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(sla.get_data(as_text=True))))
    assert rows[0][:5] == ["Tier", "Milestone", "Met", "Due", "% met"]
    assert rows[1][:5] == ["local_it", "first response", "1", "3", "33.3%"]
    # Local IT first responses took 1 h (#1) and 5 h (#2) of business time: median 1, 90th percentile 5.
    assert rows[1][5:] == ["1", "5"]
    gaps = client.get(f"/insights/content.csv?{QS}&table=zero_result")
    lines = list(csv.reader(io.StringIO(gaps.get_data(as_text=True))))
    assert lines[1][:3] == ["password reset fax", "5", "4"] and lines[1][5] == "pasword reset fax"
    html = client.get(f"/insights/desk?{QS}").get_data(as_text=True)
    for name in re.findall(r'id="table-(\w+)"', html):
        assert client.get(f"/insights/desk.csv?{QS}&table={name}").status_code == 200
    assert client.get(f"/insights/desk.csv?{QS}&table=nope").status_code == 404


def _post(client: FlaskClient, path: str, data: dict[str, str]) -> object:
    token = read_csrf_token(client, f"/insights/content?{QS}")
    return client.post(f"{path}?{QS}", data={**data, "csrf_token": token})


def test_a_failed_search_becomes_a_phrasing_and_then_finds_its_answer(app: Flask, org: Org) -> None:
    ana, noor = org.client(app, "ana"), org.client(app, "noor")
    assert _first_hit(ana, "zorblax quuxer") is None
    response = _post(
        noor, "/insights/content/phrasing", {"kind": "zero_result", "query": "zorblax quuxer", "question": QUESTION}
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while _first_hit(ana, "zorblax quuxer") != QUESTION and time.monotonic() < deadline:
        time.sleep(0.1)  # the worker re-reads the phrasings every INDEX_CHECK_SECONDS (at least 0.2 s)
    assert _first_hit(ana, "zorblax quuxer") == QUESTION
    html = noor.get(f"/insights/content?{QS}").get_data(as_text=True)
    assert '<th scope="row">zorblax quuxer</th>' not in html  # handled: off the list
    assert "handled \u201czorblax quuxer\u201d" in html  # its history stays
    with app.app_context():
        assert db.session.scalars(select(LearnedPhrasing.phrase)).all() == ["zorblax quuxer"]
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"phrasing_added", "content_gap_handled"} <= actions


def test_a_bad_phrasing_is_refused_with_nothing_changed(app: Flask, org: Org) -> None:
    noor = org.client(app, "noor")
    response = _post(
        noor,
        "/insights/content/phrasing",
        {"kind": "zero_result", "query": "zorblax quuxer", "question": "no-such#question"},
    )
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "Choose one of the questions" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    robin = org.client(app, "robin")  # compact offices read the report; editing is the editors'
    assert (
        _post(
            robin,
            "/insights/content/phrasing",
            {"kind": "zero_result", "query": "zorblax quuxer", "question": QUESTION},
        ).status_code
        == 403
    )  # type: ignore
    with app.app_context():
        assert db.session.scalars(select(LearnedPhrasing)).all() == []
        assert db.session.scalars(select(HandledItem)).all() == []


def test_handled_votes_leave_the_list_until_a_new_no(app: Flask, org: Org) -> None:
    noor = org.client(app, "noor")
    assert _post(noor, "/insights/content/handled", {"kind": "not_helpful", "key": ARTICLE}).status_code == 303  # type: ignore
    assert noor.get(f"/api/v1/reports/content-gaps?{QS}").json["not_helpful"] == []
    with app.app_context():
        handled_at = db.session.scalars(select(HandledItem.handled_at)).one()
        db.session.add(
            Vote(
                article_slug=ARTICLE,
                voter_key="c:later",
                helpful=False,
                reason="still no fax",
                created_at=handled_at,
                updated_at=handled_at + dt.timedelta(minutes=1),
            )
        )
        db.session.commit()
    # A "No" cast after the handling brings the article back, with only the new reason.
    day = handled_at.date()
    later = noor.get(
        "/api/v1/reports/content-gaps",
        query_string={
            "from": (day - dt.timedelta(days=300)).isoformat(),
            "to": (day + dt.timedelta(days=1)).isoformat(),
        },
    ).json
    assert later["not_helpful"] == [{"article": ARTICLE, "no_votes": 1, "reasons": ["still no fax"]}]
