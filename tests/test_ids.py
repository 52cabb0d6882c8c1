"""Ids out of range (2**31 and above, 2**63 and above) answer like a missing object, never 500 (issue 8, item 2)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing.converters import NumberConverter

from helpdesk import create_app
from helpdesk.ids import MAX_ID, IdConverter, coerce_id, parse_id
from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token

#: The probe's number (2**63: SQLite's OverflowError) and the first beyond a 32-bit column (PostgreSQL's error).
HUGE = ("9223372036854775808", str(MAX_ID + 1))
#: The URLs the probe reported, with `{n}` for the id.
REPORTED = [
    ("GET", "/requests/{n}"),
    ("GET", "/requests/{n}/attachments/{n}"),
    ("GET", "/requests/1/attachments/{n}"),
    ("GET", "/admin/users/{n}"),
    ("GET", "/comments/{n}/edit"),
    ("POST", "/account/tokens/{n}/revoke"),
    ("POST", "/requests/{n}/reply"),
    ("POST", "/comments/{n}/hide"),
]


def _id_rules() -> list[tuple[str, str]]:
    """Every (method, rule) of the app with an id in its path."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x"})
    rules = []
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IdConverter) for c in rule._converters.values()):
            rules.extend((method, rule.rule) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return rules


def _fill(rule: str, number: str) -> str:
    """Put `number` in every id of `rule`, and a plain word in any other argument."""
    words = {"slug", "token"}
    path = rule
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        name = path[start + 1 : end].split(":")[-1]
        path = path[:start] + ("word" if name in words else number) + path[end + 1 :]
    return path


@pytest.fixture
def admin_client(app: Flask, client: FlaskClient) -> FlaskClient:
    """A client signed in as a national administrator (who may reach every page)."""
    sign_in(client, make_user(app, role="national_admin"))
    return client


def test_no_route_takes_an_unbounded_integer(app: Flask) -> None:
    """Every integer in a path is an `<id:...>`: Werkzeug's `int` converter has no upper bound."""
    unbounded = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, NumberConverter) for c in rule._converters.values())
    ]
    assert unbounded == []
    # An id taken as text and parsed in the view would escape the sweep below.
    untyped = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if any(name.endswith("_id") and not isinstance(c, IdConverter) for name, c in rule._converters.items())
    ]
    assert untyped == []
    assert len(_id_rules()) >= 20


@pytest.mark.parametrize(("method", "rule"), _id_rules())
@pytest.mark.parametrize("number", HUGE)
def test_every_id_route_answers_404_for_an_id_out_of_range(
    admin_client: FlaskClient, method: str, rule: str, number: str
) -> None:
    token = read_csrf_token(admin_client)
    path = _fill(rule, number)
    response = admin_client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
    assert response.status_code == 404, (path, response.status_code)


@pytest.mark.db  # PostgreSQL refuses ids beyond its 32-bit columns: run there too
@pytest.mark.parametrize(("method", "template"), REPORTED)
def test_the_reported_urls_answer_404(admin_client: FlaskClient, method: str, template: str) -> None:
    token = read_csrf_token(admin_client)
    data = {"csrf_token": token, "body": "hello", "version": "1"} if method == "POST" else None
    response = admin_client.open(template.format(n=HUGE[0]), method=method, data=data)
    assert response.status_code == 404


@pytest.mark.db  # PostgreSQL refuses ids beyond its 32-bit columns: run there too
@pytest.mark.parametrize("number", HUGE)
def test_search_open_with_a_huge_search_id_still_opens_the_answer(client: FlaskClient, number: str) -> None:
    response = client.get(f"/search/open?article=icots-privacy-policy&sid={number}&rank={number}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/articles/icots-privacy-policy")


@pytest.mark.db  # PostgreSQL refuses ids beyond its 32-bit columns: run there too
@pytest.mark.parametrize("value", [*HUGE, "1" * 3000, "²", "-1", "0"])
def test_api_query_numbers_out_of_range_are_400(admin_client: FlaskClient, value: str) -> None:
    assert admin_client.get(f"/api/v1/tickets?page={value}").status_code == 400
    assert admin_client.get(f"/api/v1/tickets/{value}").status_code == 404
    assert admin_client.get(f"/api/v1/search?q=password&limit={value}").status_code == 400


@pytest.mark.db  # PostgreSQL refuses ids beyond its 32-bit columns: run there too
def test_form_ids_out_of_range_are_refused_without_a_500(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, role="state_admin"))
    token = read_csrf_token(client, "/admin/inactive")
    response = client.post("/admin/inactive", data={"csrf_token": token, "user_ids": HUGE[0], "days": "90"})
    assert response.status_code == 400


@pytest.mark.db  # PostgreSQL refuses ids beyond its 32-bit columns: run there too
def test_caseload_with_a_huge_request_id_is_refused_without_a_500(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app, role="po_supervisor"))
    token = read_csrf_token(client, "/caseload")
    for seen in (f"{HUGE[0]}:1", f"1:{HUGE[0]}", "²:1"):
        response = client.post("/caseload", data={"csrf_token": token, "pick": HUGE[0], "seen": seen, "to": "1"})
        assert response.status_code == 400, seen


def test_parse_id_bounds() -> None:
    assert parse_id("1") == 1 and parse_id(str(MAX_ID)) == MAX_ID and parse_id(MAX_ID) == MAX_ID
    for bad in ("0", "-1", " ", "", None, "1.0", "²", "١", str(MAX_ID + 1), "9" * 5000, True, 0, MAX_ID + 1):
        assert parse_id(bad) is None, bad
    with pytest.raises(ValueError):
        coerce_id(HUGE[0])
