"""The report API: every figure of the known data (SLA attainment by hand), the contract, permissions per role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.insights.conftest import ARTICLE, PERIOD, Org
from tests.test_api import validate

pytestmark = pytest.mark.db

CONTENT, DESK = "/api/v1/reports/content-gaps", "/api/v1/reports/desk"


def _get(app: Flask, org: Org, who: str, path: str, **params: str) -> Any:
    return org.client(app, who).get(path, query_string={**PERIOD, **params})


def test_national_content_gaps_group_typos_and_count_people_not_names(app: Flask, org: Org) -> None:
    response = _get(app, org, "noor", CONTENT)
    assert response.status_code == 200
    body = response.json
    validate(body, "ContentGaps")
    # 2 x "pasword reset fax" (Ana) + Ben's, Olga's and a signed-out visitor's "password reset fax": 5 searches
    # by 4 people, under the spelling searched most; "old failure" is outside the period.
    assert [(g["query"], g["searches"], g["people"]) for g in body["zero_result"]] == [
        ("password reset fax", 5, 4),
        ("zorblax quuxer", 1, 1),
    ]
    assert body["zero_result"][0]["last_seen"].startswith("2026-03-10T19:00")
    assert [(g["query"], g["searches"], g["people"]) for g in body["no_click"]] == [("slow screens", 1, 1)]
    assert body["not_helpful"] == [{"article": ARTICLE, "no_votes": 2, "reasons": ["outdated", "no fax steps"]}]
    assert "ana" not in response.get_data(as_text=True).lower()


def test_a_compact_office_sees_its_states_users_only(app: Flask, org: Org) -> None:
    tx = _get(app, org, "robin", CONTENT).json
    assert [(g["query"], g["searches"], g["people"]) for g in tx["zero_result"]] == [
        ("pasword reset fax", 3, 2),
        ("zorblax quuxer", 1, 1),
    ]
    assert tx["not_helpful"] == [{"article": ARTICLE, "no_votes": 1, "reasons": ["no fax steps"]}]
    ok = _get(app, org, "oscar", CONTENT).json
    assert [(g["query"], g["searches"], g["people"]) for g in ok["zero_result"]] == [("password reset fax", 1, 1)]
    assert ok["no_click"] == [] and ok["not_helpful"][0]["reasons"] == ["outdated"]
    assert _get(app, org, "robin", CONTENT, state="OK").status_code == 403
    assert _get(app, org, "robin", CONTENT, state="TX").status_code == 200
    national_tx = _get(app, org, "noor", CONTENT, state="TX").json
    assert national_tx["zero_result"] == tx["zero_result"] and national_tx["state"] == "TX"


def test_desk_figures_and_sla_attainment_computed_by_hand(app: Flask, org: Org) -> None:
    body = _get(app, org, "noor", DESK, state="TX").json
    validate(body, "DeskReport")
    # TX opened #1-#5 in March; #1 and #5 were resolved in March; Ana's one deflection: 1 / (1 + 5).
    assert (body["opened"], body["resolved"], body["deflections"]) == (5, 2, 1)
    assert body["deflection_rate"] == pytest.approx(1 / 6, abs=1e-4)
    # Local IT first response: #1 at 1 h of 4 (met), #2 at 5 h (late), #3 never and past due; #4 not due yet.
    # Resolution: #1 in 24 h of 48 (met), #2 and #3 past due unresolved; #4 not due yet.
    assert body["sla"]["local_it"] == {"first_response": {"met": 1, "due": 3}, "resolution": {"met": 1, "due": 3}}
    # Compact office: #5 answered in 2 h of 8 (met), resolved after 100 h of 40 (late).
    assert body["sla"]["compact_office"] == {"first_response": {"met": 1, "due": 1}, "resolution": {"met": 0, "due": 1}}
    assert body["sla"]["national"] == {"first_response": {"met": 0, "due": 0}, "resolution": {"met": 0, "due": 0}}
    everyone = _get(app, org, "noor", DESK).json  # Oklahoma's #6 (answered in 1 h of 4, unresolved) joins
    assert (everyone["opened"], everyone["deflections"], everyone["deflection_rate"]) == (6, 2, 0.25)
    assert everyone["sla"]["local_it"] == {"first_response": {"met": 2, "due": 4}, "resolution": {"met": 1, "due": 4}}


@pytest.mark.parametrize(
    ("who", "content", "desk_opened"),
    [
        ("robin", 200, 5),
        ("tess", 403, 5),
        ("sam", 403, 5),
        ("pat", 403, 5),
        ("hope", 403, 0),
        ("ana", 403, None),
        ("oscar", 200, 1),
        ("olga", 403, None),
    ],
)
def test_who_may_read_which_report(app: Flask, org: Org, who: str, content: int, desk_opened: int | None) -> None:
    assert _get(app, org, who, CONTENT).status_code == content
    desk = _get(app, org, who, DESK)
    if desk_opened is None:
        assert desk.status_code == 403 and desk.json["error"] == "forbidden"
    else:
        assert desk.status_code == 200 and desk.json["opened"] == desk_opened


def test_bad_periods_and_states_are_400_and_signed_out_is_401(app: Flask, org: Org, client: FlaskClient) -> None:
    for params in (
        {"from": "2026-13-01"},
        {"from": "2026-03-31", "to": "2026-03-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
        {"state": "Texas"},
    ):
        response = _get(app, org, "noor", DESK, **params)
        assert response.status_code == 400, params
        validate(response.json, "Error")
    assert client.get(DESK).status_code == 401


def test_desk_page_lists_top_searches_and_the_most_read_articles_helpfulness(app: Flask, org: Org) -> None:
    html = org.client(app, "robin").get("/insights/desk?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    # TX searches: "pasword reset fax" twice by one person is the top; Ben's opened "slow screens" is the one read.
    assert (
        '<th scope="row">pasword reset fax</th><td data-label="Searches">2</td><td data-label="People">1</td>' in html
    )
    assert re.search(
        r'<th scope="row">Errors and Technical Support</th><td data-label="Opened from search">1</td>'
        r'<td data-label="Found it helpful">1</td><td data-label="Votes">3</td>',
        html,
        re.I,
    )
    # Ben's once; Oklahoma's and a signed-out visitor's are not Texas's activity.
    assert '<th scope="row">password reset fax</th><td data-label="Searches">1</td>' in html


def test_editors_see_the_content_gaps_within_their_reach(app: Flask, org: Org) -> None:
    national = _get(app, org, "eve", CONTENT)  # the national office's editor: every state, like its administrator
    assert national.status_code == 200
    assert national.json["zero_result"] == _get(app, org, "noor", CONTENT).json["zero_result"]
    texas = _get(app, org, "ed", CONTENT)  # a state's editor: that state's users only
    assert texas.status_code == 200
    assert texas.json["zero_result"] == _get(app, org, "robin", CONTENT).json["zero_result"]
    assert _get(app, org, "ed", CONTENT, state="OK").status_code == 403
    assert _get(app, org, "ed", DESK).status_code == 403
