"""Two people on one request's page: the second change gets a conflict (409), sees what changed, and loses nothing."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import csrf_of
from tests.tickets.conftest import Org
from tests.tickets.ticket_page_support import (
    Login,
    act,
    event_rows,
    file_request,
    outbox,
    page,
    seen_version,
    text_of,
    ticket_row,
)

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI
MINE = "Please restart the browser and try again.\nIf it still fails, call me."
_SEEN = re.compile(r'name="seen" value="(\d+)"')


def loaded(text: str) -> dict[str, int]:
    """Return what a page's forms post besides the text: the version and the last history entry shown."""
    match = _SEEN.search(text)
    assert match
    return {"version": seen_version(text), "seen": int(match.group(1))}


def textarea(text: str, element_id: str) -> str:
    """Return the content of a textarea of the page."""
    match = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', text, re.S)
    assert match, element_id
    return match.group(1)


def test_a_reply_on_an_old_page_is_refused_kept_and_sent_again(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org)
    pat, lee = login("pat"), login("lee")
    before = loaded(page(pat, ticket_id))  # Pat opens the page at version 1 ...
    assert act(lee, ticket_id, "reply", body="Lee here: the directory is being restarted.").status_code == 303
    conflict = pat.post(
        f"/requests/{ticket_id}/reply",  # ... and answers from it after Lee did
        data={**before, "body": MINE, "csrf_token": _token(pat, ticket_id)},
    )
    assert conflict.status_code == 409
    text = text_of(conflict)
    assert "Someone else changed this request" in text and "was changed by someone else" in text
    assert "Nothing of your change was saved" in text
    assert textarea(text, "reply-body") == MINE  # nothing typed is lost
    assert "What changed since you opened the page" in text and "New since you opened the page" in text
    assert "Lee here: the directory is being restarted." in text and "by Lee Park" in text
    assert [body for _, body, _ in event_rows(app, ticket_id, "reply")] == [
        "Lee here: the directory is being restarted."
    ]
    assert outbox(app, "ticket_reply") == ["ana@tx.example.gov"]  # only Lee's reply was mailed
    fresh = loaded(conflict.get_data(as_text=True))
    assert fresh["version"] == ticket_row(app, ticket_id).version > before["version"]
    again = pat.post(f"/requests/{ticket_id}/reply", data={**fresh, "body": MINE, "csrf_token": _token(pat, ticket_id)})
    assert again.status_code == 303
    assert [body for _, body, _ in event_rows(app, ticket_id, "reply")][-1] == MINE


def test_a_conflict_on_an_action_no_longer_offered_shows_the_text_to_copy(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org)
    pat, robin = login("pat"), login("robin")
    before = loaded(page(pat, ticket_id))
    escalated = act(robin, ticket_id, "escalate", ruled_out="y", checked="Two offices report it; not local.")
    assert escalated.status_code == 303
    conflict = pat.post(
        f"/requests/{ticket_id}/resolve",
        data={**before, "resolution": "Cache cleared.", "csrf_token": _token(pat, ticket_id)},
    )
    assert conflict.status_code == 409
    text = text_of(conflict)
    assert "This action is no longer possible" in text and textarea(text, "kept-text") == "Cache cleared."
    assert "Escalated" in text and "Resolve the request" not in text
    assert ticket_row(app, ticket_id).status == "new" and outbox(app, "ticket_resolved") == []


def test_two_people_taking_the_same_request_the_second_is_told(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org)
    pat, lee = login("pat"), login("lee")
    pat_page, lee_page = loaded(page(pat, ticket_id)), loaded(page(lee, ticket_id))
    assert act(lee, ticket_id, "assign", assignee=org.users["lee"], **lee_page).status_code == 303
    second = act(pat, ticket_id, "assign", assignee=org.users["pat"], **pat_page)
    assert second.status_code == 409 and "Assigned" in text_of(second) and "Lee Park" in text_of(second)
    assert ticket_row(app, ticket_id).assignee_id == org.users["lee"]
    assert [kind for kind, _, _ in event_rows(app, ticket_id, "assigned")] == ["assigned"]


def test_kept_text_is_escaped_not_run(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org)
    pat = login("pat")
    stale = loaded(page(pat, ticket_id))
    assert act(login("lee"), ticket_id, "reply", body="Checking.").status_code == 303
    hostile = "</textarea><script>alert(1)</script>"
    response = pat.post(
        f"/requests/{ticket_id}/note", data={**stale, "body": hostile, "csrf_token": _token(pat, ticket_id)}
    )
    assert response.status_code == 409
    raw = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw and "&lt;/textarea&gt;&lt;script&gt;" in raw


def _token(client: FlaskClient, ticket_id: int) -> str:
    return csrf_of(page(client, ticket_id))
