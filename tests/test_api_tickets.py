"""The tickets API: who may file and see what, session + CSRF or bearer token, idempotency, validation, schemas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.accounts.api_tokens import create_api_token, digest, revoke_api_token
from helpdesk.accounts.models import ApiToken, User
from helpdesk.audit.services import Origin
from helpdesk.extensions import db
from helpdesk.tickets.context import EXTENSION_KEY
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import reply_ticket
from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token
from tests.test_api import validate

pytestmark = pytest.mark.db

TRAVIS, TULSA = "Travis County Probation", "Tulsa County Community Corrections"
#: name -> (role, state, agency)
PEOPLE = {
    "ana": ("po", "TX", TRAVIS),
    "ben": ("po", "TX", TRAVIS),
    "dee": ("po", "TX", TRAVIS),
    "pat": ("local_it", "TX", TRAVIS),
    "robin": ("compact_office", "TX", None),
    "olga": ("po", "OK", TULSA),
    "otto": ("local_it", "OK", TULSA),
    "oscar": ("compact_office", "OK", None),
    "noor": ("national_admin", None, None),
}
Api = Callable[..., Any]


@pytest.fixture
def people(app: Flask) -> dict[str, User]:
    """A TX agency with local IT, an OK one, both compact offices and the national office."""
    return {
        key: make_user(app, role=role, state=state, agency=agency, name=key.title(), email=f"{key}@example.gov")
        for key, (role, state, agency) in PEOPLE.items()
    }


@pytest.fixture
def tokens(app: Flask, people: dict[str, User]) -> dict[str, str]:
    """A personal API token of every person."""
    found = {}
    with app.app_context():
        for key, person in people.items():
            found[key] = create_api_token(
                db.session, actor=db.session.get(User, person.id), name="script", origin=Origin()
            )[1]
        db.session.commit()
    return found


@pytest.fixture
def api(client: FlaskClient, tokens: dict[str, str]) -> Api:
    """Call the API as a person by bearer token (no session, no CSRF header)."""

    def call(who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {tokens[who]}", **kwargs.pop("headers", {})}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def new(category: str = "login", **fields: Any) -> dict[str, Any]:
    """Return a valid request body."""
    return {"category": category, "subject": "ICOTS will not let me in", "description": "It says denied.", **fields}


def count_tickets(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_bearer_token_files_a_request_without_csrf_or_session(app: Flask, api: Api, people: dict[str, User]) -> None:
    response = api(
        "ana",
        "POST",
        "/api/v1/tickets",
        json=new(tried="Caps lock is off.", affected="me", suggestions=["errors-and-technical-support"]),
    )
    assert response.status_code == 201, response.json
    assert "Set-Cookie" not in response.headers  # a token authenticates this request only
    body = response.json
    validate(body, "TicketWithEvents")
    assert response.headers["Location"] == f"/api/v1/tickets/{body['id']}"
    assert body["url"] == f"https://help.example.org/requests/{body['id']}"
    assert (body["tier"], body["status"], body["assignee"], body["incident"]) == ("local_it", "new", None, None)
    assert "Local IT of Travis County Probation" in body["route_reason"]
    assert body["reporter"] == {"id": people["ana"].id, "name": "Ana"} and body["state"] == "TX"
    assert (body["category"], body["tried"], body["affected"], body["version"]) == (
        "login",
        "Caps lock is off.",
        "me",
        1,
    )
    assert [e["kind"] for e in body["events"]][:2] == ["submitted", "routed"]
    assert body["events"][1]["reason"] == body["route_reason"]
    assert body["first_response_due"] and body["resolution_due"] and body["created_at"].endswith("+00:00")
    with app.app_context():
        assert db.session.get(Ticket, body["id"]).suggestions_shown == "errors-and-technical-support"


def test_access_requests_go_to_the_compact_office(api: Api) -> None:
    body = api("ana", "POST", "/api/v1/tickets", json=new("access")).json
    assert body["tier"] == "compact_office" and "Texas compact office" in body["route_reason"]


def test_the_same_idempotency_key_returns_the_first_ticket(app: Flask, api: Api) -> None:
    first = api("ana", "POST", "/api/v1/tickets", json=new(idempotency_key="resend-0001"))
    again = api("ana", "POST", "/api/v1/tickets", json=new(idempotency_key="resend-0001"))
    assert (first.status_code, again.status_code) == (201, 200) and first.json["id"] == again.json["id"]
    validate(again.json, "TicketWithEvents")
    header = api("ana", "POST", "/api/v1/tickets", json=new(), headers={"Idempotency-Key": "resend-0002"})
    header_again = api("ana", "POST", "/api/v1/tickets", json=new(), headers={"Idempotency-Key": "resend-0002"})
    assert (header.status_code, header_again.status_code) == (201, 200)
    assert header.json["id"] == header_again.json["id"] != first.json["id"]
    # Keys are per reporter: another person's same key files their own request.
    assert api("ben", "POST", "/api/v1/tickets", json=new(idempotency_key="resend-0001")).status_code == 201
    # Without a key every call files a new request (the document tells clients to send one).
    assert api("ana", "POST", "/api/v1/tickets", json=new()).status_code == 201
    assert api("ana", "POST", "/api/v1/tickets", json=new()).status_code == 201
    assert count_tickets(app) == 5


def test_a_burst_at_one_location_groups_the_reports_into_one_incident(api: Api) -> None:
    first = api("ana", "POST", "/api/v1/tickets", json=new("slow")).json
    second = api("ben", "POST", "/api/v1/tickets", json=new("slow")).json
    assert first["incident"] is None and second["incident"] is None
    third = api("dee", "POST", "/api/v1/tickets", json=new("slow")).json
    assert isinstance(third["incident"], int) and "location incident" in third["route_reason"]
    assert any(e["kind"] == "incident" and "Others at your location" in (e["body"] or "") for e in third["events"])
    again = api("ana", "GET", f"/api/v1/tickets/{first['id']}").json
    assert again["incident"] == third["incident"]  # the earlier reports of the burst joined it
    validate(again, "TicketWithEvents")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"subject": "Locked out", "description": "x"}, 422, "invalid_category", "category"),
        (new("printer"), 422, "invalid_category", "category"),
        (new(subject="no"), 422, "invalid_subject", "subject"),
        (new(subject=12345), 422, "invalid_subject", "subject"),
        (new(description="   "), 422, "invalid_description", "description"),
        (new(description="x" * 20_001), 422, "invalid_description", "description"),
        (new(affected="everyone"), 422, "invalid_affected", "affected"),
        (new(suggestions="a-b"), 422, "invalid_suggestions", "suggestions"),
        (new(suggestions=["not a slug!"]), 422, "invalid_ticket", None),
        (new(idempotency_key="short"), 422, "invalid_idempotency_key", "idempotency_key"),
        (new(priority="high"), 422, "unknown_field", "priority"),
    ],
)
def test_invalid_fields_are_named_and_nothing_is_filed(
    app: Flask, api: Api, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    response = api("ana", "POST", "/api/v1/tickets", json=body)
    assert response.status_code == status and response.json["error"] == code, response.json
    assert response.json.get("field") == field
    validate(response.json, "Error")
    assert count_tickets(app) == 0


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (new(tried="x" * 20_001), "tried", "Keep what you tried under 20,000 characters."),
        (new(subject="\u200b\u200b\u200b\u200b"), "subject", "Give the request a subject of 3 to 200 characters."),
        (
            new(category="\u200blogin\u200b", description="\u202e"),
            "description",
            "Describe the problem: what happened, and what you expected.",
        ),
    ],
)
def test_the_api_answers_with_the_submit_services_own_check(
    app: Flask, api: Api, body: dict[str, Any], field: str, message: str
) -> None:
    # One check of the values, in the service: the API returns its words and the field it names.
    response = api("ana", "POST", "/api/v1/tickets", json=body)
    assert response.status_code == 422 and response.json == {
        "error": f"invalid_{field}",
        "field": field,
        "message": message,
    }
    validate(response.json, "Error")
    assert count_tickets(app) == 0


def test_bad_json_and_conflicting_keys_are_refused(app: Flask, api: Api) -> None:
    for data in ("not json", "[1, 2]", ""):
        response = api("ana", "POST", "/api/v1/tickets", data=data, content_type="application/json")
        assert response.status_code == 400 and response.json["error"] == "invalid_json"
    response = api(
        "ana",
        "POST",
        "/api/v1/tickets",
        json=new(idempotency_key="body-key-1"),
        headers={"Idempotency-Key": "header-key-1"},
    )
    assert response.status_code == 422 and response.json["field"] == "idempotency_key"
    assert count_tickets(app) == 0


def test_session_callers_need_the_csrf_header_on_post(app: Flask, client: FlaskClient, people: dict[str, User]) -> None:
    sign_in(client, people["ana"])
    refused = client.post("/api/v1/tickets", json=new())
    assert refused.status_code == 400 and refused.json["error"] == "csrf_failed" and "CSRF" in refused.json["message"]
    assert count_tickets(app) == 0
    token = read_csrf_token(client)
    response = client.post("/api/v1/tickets", json=new(), headers={"X-CSRFToken": token})
    assert response.status_code == 201 and response.json["reporter"]["id"] == people["ana"].id
    listed = client.get("/api/v1/tickets")  # reading needs no CSRF header
    assert listed.status_code == 200 and [t["id"] for t in listed.json["tickets"]] == [response.json["id"]]


def test_without_credentials_the_answer_is_401_with_a_bearer_challenge(client: FlaskClient) -> None:
    for path in ("/api/v1/tickets", "/api/v1/tickets/1"):
        response = client.get(path)
        assert response.status_code == 401 and response.json["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        validate(response.json, "Error")
    token = read_csrf_token(client)  # a signed-out browser passes CSRF but is not signed in
    response = client.post("/api/v1/tickets", json=new(), headers={"X-CSRFToken": token})
    assert response.status_code == 401


def test_revoked_deactivated_and_garbage_tokens_are_401(
    app: Flask, client: FlaskClient, people: dict[str, User], tokens: dict[str, str]
) -> None:
    revoked = tokens["ana"]
    with app.app_context():
        ana = db.session.get(User, people["ana"].id)
        token = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(revoked))).one()
        revoke_api_token(db.session, actor=ana, token_id=token.id, origin=Origin())
        fresh = create_api_token(db.session, actor=ana, name="new", origin=Origin())[1]
        db.session.get(User, people["ben"].id).is_active = False
        db.session.commit()
    for header in (
        f"Bearer {revoked}",
        f"Bearer {tokens['ben']}",
        "Bearer hd_nonsense",
        "Bearer",
        "Basic YTpi",
        f"Token {fresh}",
        f"Bearer {fresh[:-1]}",
    ):
        response = client.get("/api/v1/tickets", headers={"Authorization": header})
        assert response.status_code == 401 and response.json["error"] == "invalid_token", header
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert client.get("/api/v1/tickets", headers={"Authorization": f"bearer {fresh}"}).status_code == 200


def test_a_bad_token_never_falls_back_to_the_session(client: FlaskClient, people: dict[str, User]) -> None:
    sign_in(client, people["ana"])
    assert client.get("/api/v1/tickets").status_code == 200
    assert client.get("/api/v1/tickets", headers={"Authorization": "Bearer hd_wrong"}).status_code == 401


def test_privacy_policy_must_be_accepted_for_token_callers(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, privacy=False)
    with app.app_context():
        plaintext = create_api_token(db.session, actor=db.session.get(User, user.id), name="s", origin=Origin())[1]
        db.session.commit()
    response = client.post("/api/v1/tickets", json=new(), headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 403 and response.json["error"] == "privacy_not_accepted"
    assert count_tickets(app) == 0


def test_token_failures_are_rate_limited_but_never_refuse_a_valid_token(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    """Issue 8, item 9: after 18 bad tokens from one address a valid token from that address still gets 200."""
    revoked = "hd_" + "R" * 40  # a well-formed token that does not (or no longer) work: counted by its prefix
    # A stopped clock keeps every attempt in one window of the (fixed-window) limit.
    with time_machine.travel(dt.datetime(2026, 3, 10, 15, 0, 30, tzinfo=dt.UTC), tick=False):
        guesses = [
            client.get("/api/v1/tickets", headers={"Authorization": "Bearer hd_guess"}).status_code for _ in range(18)
        ]
        assert guesses == [401] * 10 + [429] * 8
        assert client.get("/api/v1/tickets", headers={"Authorization": "Bearer x"}).headers["Retry-After"]
        assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {tokens['ana']}"}).status_code == 200
        # A well-formed token that fails counts against its own prefix, not against the address.
        retries = [
            client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {revoked}"}).status_code for _ in range(11)
        ]
        assert retries == [401] * 10 + [429]
        other = "hd_" + "S" * 40
        assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {other}"}).status_code == 401
        ben = {"Authorization": f"Bearer {tokens['ben']}"}
        assert [client.get("/api/v1/tickets", headers=ben).status_code for _ in range(3)] == [200] * 3
        # Callers without a token (signed-in browsers) are neither counted nor blocked by others' guesses.
        assert client.get("/api/v1/tickets").status_code == 401
    later = client.get("/api/v1/tickets", headers={"Authorization": "Bearer hd_guess"})
    assert later.status_code == 401  # the window has passed


def test_visibility_reporter_agency_state_national(app: Flask, api: Api) -> None:
    ana = api("ana", "POST", "/api/v1/tickets", json=new()).json["id"]
    access = api("ana", "POST", "/api/v1/tickets", json=new("access")).json["id"]
    olga = api("olga", "POST", "/api/v1/tickets", json=new()).json["id"]
    seen = {who: {t["id"] for t in api(who, "GET", "/api/v1/tickets").json["tickets"]} for who in PEOPLE}
    assert seen["ana"] == {ana, access} and seen["ben"] == set() and seen["olga"] == {olga}
    assert seen["pat"] == {ana, access} and seen["otto"] == {olga}  # local IT: their agency's
    assert seen["robin"] == {ana, access} and seen["oscar"] == {olga}  # compact office: their state's only
    assert seen["noor"] == {ana, access, olga}  # national staff: every state
    for who, ticket in (("ben", ana), ("robin", olga), ("oscar", ana), ("otto", access), ("olga", ana)):
        response = api(who, "GET", f"/api/v1/tickets/{ticket}")
        assert response.status_code == 404 and response.json["error"] == "not_found", who
        assert response.json == api(who, "GET", "/api/v1/tickets/999999").json | {
            "message": response.json["message"]
        }  # the same answer as a missing one
    assert api("noor", "GET", f"/api/v1/tickets/{olga}").status_code == 200
    for wrong in ("abc", "99999999999999999999", "-1", "١"):
        assert api("ana", "GET", f"/api/v1/tickets/{wrong}").status_code == 404, wrong


def test_internal_notes_only_for_the_people_who_work_the_ticket(app: Flask, api: Api, people: dict[str, User]) -> None:
    ticket_id = api("ana", "POST", "/api/v1/tickets", json=new()).json["id"]
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        pat = db.session.get(User, people["pat"].id)
        reply_ticket(
            db.session,
            app.extensions[EXTENSION_KEY],
            ticket,
            actor=pat,
            body="Checked the VPN logs.",
            expected_version=ticket.version,
            origin=Origin(),
            public=False,
        )
        reply_ticket(
            db.session,
            app.extensions[EXTENSION_KEY],
            ticket,
            actor=pat,
            body="Try again now, please.",
            expected_version=ticket.version,
            origin=Origin(),
        )
        db.session.commit()
    staff = api("pat", "GET", f"/api/v1/tickets/{ticket_id}").json
    reporter = api("ana", "GET", f"/api/v1/tickets/{ticket_id}").json
    validate(staff, "TicketWithEvents")
    assert {e["body"] for e in staff["events"]} >= {"Checked the VPN logs.", "Try again now, please."}
    assert "Checked the VPN logs." not in {e["body"] for e in reporter["events"]}
    assert "Try again now, please." in {e["body"] for e in reporter["events"]}
    assert all(e["public"] for e in reporter["events"])
    assert reporter["version"] > 1 and reporter["events"][-1]["actor"] == {"id": people["pat"].id, "name": "Pat"}


def test_list_filters_pagination_and_totals(api: Api) -> None:
    ids = [
        api("noor", "POST", "/api/v1/tickets", json=new(category)).json["id"]
        for category in ("login", "access", "login", "privacy")
    ]
    page = api("noor", "GET", "/api/v1/tickets", query_string={"per_page": 3}).json
    validate(page, "TicketList")
    assert (page["total"], page["pages"], page["per_page"]) == (4, 2, 3)
    assert [t["id"] for t in page["tickets"]] == ids[::-1][:3]  # newest first
    assert "events" not in page["tickets"][0]
    second = api("noor", "GET", "/api/v1/tickets", query_string={"per_page": 3, "page": 2}).json
    assert [t["id"] for t in second["tickets"]] == [ids[0]]
    logins = api("noor", "GET", "/api/v1/tickets", query_string={"category": "login"}).json
    assert logins["total"] == 2 and {t["category"] for t in logins["tickets"]} == {"login"}
    assert api("noor", "GET", "/api/v1/tickets", query_string={"status": "new,open"}).json["total"] == 4
    assert api("noor", "GET", "/api/v1/tickets", query_string={"status": "closed"}).json["tickets"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"category": "printer"}, "category"),
        ({"page": "0"}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
    ],
)
def test_bad_list_parameters_are_400(api: Api, params: dict[str, str], field: str) -> None:
    response = api("ana", "GET", "/api/v1/tickets", query_string=params)
    assert response.status_code == 400 and response.json["field"] == field
    validate(response.json, "Error")


def test_the_openapi_document_describes_the_ticket_operations(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert set(spec["paths"]["/api/v1/tickets"]) == {"get", "post"}
    assert set(spec["paths"]["/api/v1/tickets/{ticket_id}"]) == {"get"}
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerToken"]["description"],
    }
    post = spec["paths"]["/api/v1/tickets"]["post"]
    assert {"201", "200", "400", "401", "422"} <= set(post["responses"])
    assert "Idempotency-Key" in {p["name"] for p in post["parameters"]}


def test_reads_through_the_api_are_audited(app: Flask, api: Api, people: dict[str, User]) -> None:
    from helpdesk.audit.models import AuditEvent

    first = api("ana", "POST", "/api/v1/tickets", json=new()).json["id"]
    second = api("ana", "POST", "/api/v1/tickets", json=new("error")).json["id"]
    assert api("pat", "GET", f"/api/v1/tickets/{first}").status_code == 200
    assert api("otto", "GET", f"/api/v1/tickets/{first}").status_code == 404  # not visible: nothing read
    assert api("pat", "GET", "/api/v1/tickets").status_code == 200
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["ticket_viewed", "tickets_listed"])).order_by(AuditEvent.id)
        ).all()
        assert [(r.action, r.actor_id, r.target_id, r.detail) for r in rows] == [
            ("ticket_viewed", people["pat"].id, str(first), "api"),
            ("tickets_listed", people["pat"].id, None, f"api page 1: #{second} #{first}"),
        ]
