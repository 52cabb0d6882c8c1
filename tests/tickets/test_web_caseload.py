"""Manage Case Load: who holds what in each scope, moving one or many requests, conflicts and refusals."""

from __future__ import annotations

import re

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.extensions import db
from helpdesk.tickets.assignment import assign_ticket
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import reply_ticket
from tests.helpers import read_csrf_token, without_csrf
from tests.tickets.conftest import ORIGIN, Org
from tests.tickets.test_web_queue import file_ticket, signed_in, work

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


@pytest.fixture
def held(app: Flask, org: Org, clock: time_machine.Traveller) -> dict[str, list[int]]:
    """Pat holds three Travis requests, Robin a Texas tier-2 one, Otto a Tulsa one; one Travis request is unassigned."""
    filed = {
        "pat": [file_ticket(app, org, name, "other") for name in ("ana", "ben", "dee")],
        "robin": [file_ticket(app, org, "ana", "access")],
        "otto": [file_ticket(app, org, "olga", "other")],
    }
    file_ticket(app, org, "cy", "other")  # in the queue, held by nobody
    with work(app) as (session, triage):
        for holder, ids in filed.items():
            for ticket_id in ids:
                ticket = session.get(Ticket, ticket_id)
                assert ticket is not None
                assign_ticket(
                    session,
                    triage,
                    ticket,
                    actor=org[holder],
                    assignee=org[holder],
                    expected_version=ticket.version,
                    origin=ORIGIN,
                )
    return filed


def holders(html: str) -> dict[str, int]:
    """Return the holders table: name -> requests held."""
    rows = re.findall(
        r'holder=\d+"[^>]*>([^<]+)</a>.*?</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>(\d+)</td>', html, re.S
    )
    return {name: int(count) for name, count in rows}


def seen(html: str) -> list[str]:
    """Return the "id:version" values the page was loaded with."""
    return re.findall(r'name="seen" value="(\d+:\d+)"', html)


def assignees(app: Flask, ids: list[int]) -> list[int | None]:
    """Return who holds each request now."""
    with app.app_context():
        return [db.session.get(Ticket, ticket_id).assignee_id for ticket_id in ids]  # type: ignore[union-attr]


def move(
    client: FlaskClient, holder: int, page: str, to: int | str, picks: list[int] | None = None, **extra: str
) -> tuple[int, str]:
    """Post the case-load form as loaded in `page`; return the status and the page shown afterwards."""
    data: dict[str, object] = {
        "csrf_token": read_csrf_token(client, f"/caseload?holder={holder}"),
        "seen": seen(page),
        "to": str(to),
        "pick": [str(p) for p in picks or []],
        **extra,
    }
    response = client.post(f"/caseload?holder={holder}", data=data)
    if response.status_code == 303:
        return 303, client.get(response.headers["Location"]).get_data(as_text=True)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("sam", {"Pat Lee": 3, "Robin Diaz": 1}),  # the supervisor's agency, every tier
        ("robin", {"Pat Lee": 3, "Robin Diaz": 1}),  # the compact office's state
        ("oscar", {"Otto Fern": 1}),  # another state: Texas never appears
        ("noor", {"Otto Fern": 1, "Pat Lee": 3, "Robin Diaz": 1}),  # national staff: everywhere
        ("hope", {}),  # Hays' supervisor: nothing held at Hays
    ],
)
def test_each_scope_lists_its_holders(
    app: Flask, org: Org, held: dict[str, list[int]], who: str, expected: dict[str, int]
) -> None:
    page = signed_in(app, org, who).get("/caseload")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert holders(html) == expected
    assert "cannot be deactivated while holding open requests" in html


@pytest.mark.parametrize("who", ["ana", "pat", "tess"])
def test_other_roles_are_refused(app: Flask, org: Org, held: dict[str, list[int]], who: str) -> None:
    client = signed_in(app, org, who)
    page = client.get("/caseload")
    assert page.status_code == 403 and "Manage Case Load is for supervisors" in page.get_data(as_text=True)
    token = read_csrf_token(client, "/")
    assert (
        client.post(
            "/caseload", data={"csrf_token": token, "seen": "1:1", "pick": "1", "to": str(org.users["lee"])}
        ).status_code
        == 403
    )
    assert assignees(app, held["pat"]) == [org.users["pat"]] * 3


def test_a_holder_s_requests_and_who_may_take_them(app: Flask, org: Org, held: dict[str, list[int]]) -> None:
    html = signed_in(app, org, "sam").get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    assert "Requests held by Pat Lee (3)" in html
    assert [int(v.split(":")[0]) for v in seen(html)] == held["pat"]
    takers = re.findall(r'<option value="\d+">([^<·]+) ·', html)
    assert [name.strip() for name in takers] == ["Kim Vo", "Lee Park", "Robin Diaz"]  # never Pat, Otto or a PO


def test_move_one_request(app: Flask, org: Org, held: dict[str, list[int]]) -> None:
    client = signed_in(app, org, "sam")
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    status, after = move(client, org.users["pat"], page, org.users["lee"], [held["pat"][1]], reason="Pat is away")
    assert status == 303 and "Moved 1 request to Lee Park." in after
    assert assignees(app, held["pat"]) == [org.users["pat"], org.users["lee"], org.users["pat"]]
    assert holders(after) == {"Lee Park": 1, "Pat Lee": 2, "Robin Diaz": 1}


def test_move_all_of_a_person_s_requests(app: Flask, org: Org, held: dict[str, list[int]]) -> None:
    client = signed_in(app, org, "robin")
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    status, after = move(client, org.users["pat"], page, org.users["kim"], select_all="y")
    assert status == 303 and "Moved 3 requests to Kim Vo." in after
    assert assignees(app, held["pat"]) == [org.users["kim"]] * 3
    assert "This person holds no open requests in your case load." in after


def test_ticked_requests_move_together(app: Flask, org: Org, held: dict[str, list[int]]) -> None:
    client = signed_in(app, org, "noor")
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    status, _ = move(client, org.users["pat"], page, org.users["lee"], [held["pat"][0], held["pat"][2]])
    assert status == 303
    assert assignees(app, held["pat"]) == [org.users["lee"], org.users["pat"], org.users["lee"]]


def test_a_request_changed_since_loading_is_a_conflict_and_nothing_moves(
    app: Flask, org: Org, held: dict[str, list[int]]
) -> None:
    client = signed_in(app, org, "sam")
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    with work(app) as (session, triage):  # Pat answers one of them meanwhile
        ticket = session.get(Ticket, held["pat"][2])
        assert ticket is not None
        reply_ticket(
            session, triage, ticket, actor=org["pat"], body="Looking.", expected_version=ticket.version, origin=ORIGIN
        )
    status, html = move(client, org.users["pat"], page, org.users["lee"], held["pat"][1:], reason="Leave")
    assert status == 409
    assert f"Request #{held['pat'][2]} was changed by someone else" in html and "Nothing was moved" in html
    assert assignees(app, held["pat"]) == [org.users["pat"]] * 3
    for ticket_id in held["pat"][1:]:  # the selection, the person chosen and the reason are kept
        assert re.search(rf'name="pick" value="{ticket_id}" id="pick-{ticket_id}" checked', html)
    assert not re.search(rf'name="pick" value="{held["pat"][0]}" id="pick-{held["pat"][0]}" checked', html)
    assert f'<option value="{org.users["lee"]}" selected>' in html and ">Leave</textarea>" in html
    assert "changed since you loaded the page" in html
    status, _ = move(client, org.users["pat"], html, org.users["lee"], held["pat"][1:])  # reviewed: try again
    assert status == 303 and assignees(app, held["pat"])[1:] == [org.users["lee"]] * 2


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("otto", "Choose who takes the requests from the list."),  # another state's IT: like an unknown id
        ("ben", "Ben Cole cannot take request"),  # a PO works no tickets
        ("noor", "Noor Haddad cannot take request"),  # national staff hold tier-3 requests only
    ],
)
def test_someone_who_cannot_hold_the_requests_is_refused(
    app: Flask, org: Org, held: dict[str, list[int]], to: str, message: str
) -> None:
    client = signed_in(app, org, "robin")
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    status, html = move(client, org.users["pat"], page, org.users[to], select_all="y")
    assert status == 400 and message in html and "Nothing was moved" in html
    assert assignees(app, held["pat"]) == [org.users["pat"]] * 3


def test_another_state_s_person_answers_like_an_unknown_id(app: Flask, org: Org, held: dict[str, list[int]]) -> None:
    client = signed_in(app, org, "sam")  # a Texas supervisor probes an Oklahoma user's id
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    answers = [move(client, org.users["pat"], page, to, held["pat"][:1]) for to in (org.users["otto"], 999_999)]
    assert answers[0][0] == answers[1][0] == 400
    assert without_csrf(answers[0][1]) == without_csrf(answers[1][1])
    assert "Otto Fern" not in answers[0][1] and "Choose who takes the requests from the list." in answers[0][1]
    assert assignees(app, held["pat"]) == [org.users["pat"]] * 3


def test_deactivated_people_cannot_take_requests(app: Flask, org: Org, held: dict[str, list[int]]) -> None:
    with work(app) as (session, _):
        org["lee"].is_active = False
    client = signed_in(app, org, "sam")
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    assert "Lee Park ·" not in page
    status, html = move(client, org.users["pat"], page, org.users["lee"], held["pat"][:1])
    assert status == 400 and "Lee Park is deactivated." in html
    assert assignees(app, held["pat"]) == [org.users["pat"]] * 3


def test_requests_of_another_state_cannot_be_slipped_in(app: Flask, org: Org, held: dict[str, list[int]]) -> None:
    client = signed_in(app, org, "robin")
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    otto = held["otto"][0]
    status, html = move(
        client, org.users["pat"], page + f'name="seen" value="{otto}:2"', org.users["kim"], [held["pat"][0], otto]
    )
    assert status == 400 and "Tick only requests listed on the page." in html
    assert assignees(app, [held["pat"][0], otto]) == [org.users["pat"], org.users["otto"]]


@pytest.mark.parametrize(
    ("to", "ticked", "extra", "message"),
    [
        ("lee", False, {}, "Tick the requests to move"),
        ("", True, {}, "Choose who takes the requests."),
        ("lee", True, {"seen": "1:x"}, "The list of requests was changed in the page"),
        ("lee", True, {"reason": "x" * 301}, "Use at most 300 characters."),
    ],
)
def test_incomplete_forms_are_refused_with_the_reason(
    app: Flask, org: Org, held: dict[str, list[int]], to: str, ticked: bool, extra: dict[str, str], message: str
) -> None:
    client = signed_in(app, org, "sam")
    page = client.get(f"/caseload?holder={org.users['pat']}").get_data(as_text=True)
    status, html = move(
        client, org.users["pat"], page, org.users[to] if to else "", held["pat"][:1] if ticked else [], **extra
    )
    assert status == 400 and message in html
    assert assignees(app, held["pat"]) == [org.users["pat"]] * 3


def test_bad_or_foreign_holders(app: Flask, org: Org, held: dict[str, list[int]]) -> None:
    client = signed_in(app, org, "robin")
    assert client.get("/caseload?holder=abc").status_code == 400
    other = client.get(f"/caseload?holder={org.users['otto']}")
    assert other.status_code == 200 and "holds no open requests in your case load" in other.get_data(as_text=True)
    assert "Otto Fern" not in other.get_data(as_text=True)
