"""Search that learns from use: distinct people, the threshold, what counts as evidence, removal and permissions."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from helpdesk.search import get_engine
from helpdesk.search.learning import (
    MAX_WORDS,
    active_phrasings,
    learn_phrasings,
    learnable_phrase,
    person_of,
    phrasing_loader,
)
from helpdesk.search.models import LearnedPhrasing, SearchClick, SearchQuery
from tests import factories
from tests.helpers import read_csrf_token

pytestmark = pytest.mark.db

SLUG = "user-administration-and-system-access"
QUESTION = "how-do-i-delete-a-user-for-icots"
KEY = f"{SLUG}#{QUESTION}"
PHRASE = "someone quit"  # nothing in the articles says "quit": search cannot find the answer by itself


_ADDRESSES = iter(range(1, 10_000))


def someone(app: Flask) -> FlaskClient:
    """Return a signed-out browser of a new person: signed out, people are told apart by their address."""
    client, n = app.test_client(), next(_ADDRESSES)
    client.environ_base["REMOTE_ADDR"] = f"10.0.{n // 250}.{n % 250 + 1}"
    return client


def search_and_open(client: FlaskClient, query: str = PHRASE, question: str = QUESTION) -> None:
    """Search on the results page, then open the answer from it (as /search/open records it)."""
    page = client.get("/search", query_string={"q": query})
    assert page.status_code == 200
    client.application.extensions["helpdesk.search.log"].flush()  # the page's search, queued for the next batch
    with client.application.app_context():
        sid = db.session.scalars(select(SearchQuery.id).order_by(SearchQuery.id.desc())).first()
    opened = client.get("/search/open", query_string={"sid": sid, "article": SLUG, "question": question, "rank": 3})
    assert opened.status_code == 303


def learn(app: Flask, *, minutes_later: int = 11, people: int = 3) -> list[str]:
    """Run a learning pass as it would run `minutes_later` minutes from now; return what it learned."""
    app.extensions["helpdesk.search.log"].flush()  # searches are written within a second: long before a pass
    with app.app_context():
        report = learn_phrasings(db.session, min_people=people, now=utcnow() + dt.timedelta(minutes=minutes_later))
        db.session.commit()
        return report.learned


def active(app: Flask) -> dict[str, tuple[str, ...]]:
    with app.app_context():
        return active_phrasings(db.session)


def first_hit(app: Flask, query: str) -> str | None:
    with app.app_context():
        results = get_engine().search(query, limit=5).results
    return f"{results[0].article}#{results[0].question_id}" if results else None


def wait_for_first_hit(app: Flask, query: str, wanted: str, *, present: bool = True, timeout: float = 20.0) -> bool:
    """Search until the first hit is (or, with present=False, is no longer) `wanted`: the index picks learned
    phrasings up in the background. Return whether it happened."""
    deadline = time.monotonic() + timeout
    while (first_hit(app, query) == wanted) != present:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_three_people_teach_it_two_do_not(app: Flask) -> None:
    assert first_hit(app, PHRASE) != KEY
    for _ in range(2):
        search_and_open(someone(app))
    assert learn(app) == []
    assert active(app) == {}
    search_and_open(someone(app))
    assert learn(app) == [f"{PHRASE} -> {KEY}"]
    assert active(app) == {KEY: (PHRASE,)}
    assert wait_for_first_hit(app, PHRASE, KEY)  # the learned phrasing is indexed with the question
    assert wait_for_first_hit(app, "Someone QUIT?", KEY)  # the same phrase, however typed
    with app.app_context():
        row = db.session.scalars(select(LearnedPhrasing)).one()
        assert row.people == 3
        assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "phrasing_learned")).all()


def test_one_person_ten_times_teaches_nothing(app: Flask) -> None:
    client = app.test_client()
    for _ in range(10):
        search_and_open(client)
    assert learn(app, minutes_later=60 * 24) == []
    with app.app_context():
        assert len(set(db.session.scalars(select(SearchQuery.person)))) == 1


def test_an_open_is_evidence_only_if_they_did_not_search_again(app: Flask) -> None:
    for _ in range(2):
        search_and_open(someone(app))
    came_back = someone(app)
    search_and_open(came_back)
    came_back.get("/search", query_string={"q": "delete a user"})  # the answer did not help: they searched on
    assert learn(app) == []
    assert learn(app, minutes_later=5) == []  # too early to tell for anyone


def test_a_yes_vote_confirms_even_after_searching_on(app: Flask) -> None:
    for _ in range(2):
        search_and_open(someone(app))
    voter = app.test_client()  # signed out, a vote names a browser, not an address: the voter signs in
    factories.sign_in(voter, factories.make_user(app, role="po"))
    search_and_open(voter)
    voter.get("/search", query_string={"q": "delete a user"})
    token = read_csrf_token(voter, f"/articles/{SLUG}")
    assert voter.post(f"/articles/{SLUG}/vote", data={"helpful": "yes", "csrf_token": token}).status_code == 303
    assert learn(app) == [f"{PHRASE} -> {KEY}"]


def test_this_answered_my_question_is_evidence(app: Flask) -> None:
    for _ in range(3):
        user = factories.make_user(app, role="po")
        client = app.test_client()
        factories.sign_in(client, user)
        token = read_csrf_token(client, "/requests/new")
        response = client.post(
            "/requests/deflect",
            data={"category": "other", "answer": KEY, "query": "Someone quit!", "csrf_token": token},
        )
        assert response.status_code == 303
    assert learn(app, minutes_later=0) == [f"{PHRASE} -> {KEY}"]


def test_phrases_are_normalised_and_capped() -> None:
    assert learnable_phrase("  Can't   LOG in?? ") == "can't log in"
    assert learnable_phrase("how do i") is None  # nothing but stop words
    assert learnable_phrase(" ".join(["word"] * (MAX_WORDS + 1))) is None  # prose, not a phrase
    assert learnable_phrase("") is None


def test_the_helpdesk_learn_command(app: Flask) -> None:
    for _ in range(3):
        search_and_open(someone(app))
    with app.app_context():  # the log as it is 20 minutes later: nobody came back
        past = utcnow() - dt.timedelta(minutes=20)
        db.session.execute(update(SearchQuery).values(created_at=past))
        db.session.execute(update(SearchClick).values(created_at=past))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["learn"])
    assert result.exit_code == 0, result.output
    assert f"learned: {PHRASE} -> {KEY}" in result.output
    again = app.test_cli_runner().invoke(args=["learn"])
    assert "learned 0 phrasings" in again.output  # idempotent


def _national(app: Flask) -> tuple[FlaskClient, Any]:
    user = factories.make_user(app, role="national_admin")
    client = app.test_client()
    assert factories.sign_in(client, user).status_code == 303
    return client, user


def test_an_editor_removes_a_phrasing_and_it_is_never_learned_again(app: Flask) -> None:
    for _ in range(3):
        search_and_open(someone(app))
    learn(app)
    assert wait_for_first_hit(app, PHRASE, KEY)
    editor, user = _national(app)
    assert 'href="/search/phrasings"' in editor.get("/").get_data(as_text=True)  # in the national menu
    page = editor.get("/search/phrasings").get_data(as_text=True)
    assert PHRASE in page and "How do I delete a user for ICOTS?" in page and "Remove" in page
    with app.app_context():
        phrasing_id = db.session.scalars(select(LearnedPhrasing.id)).one()
    token = read_csrf_token(editor, "/search/phrasings")
    assert editor.post(f"/search/phrasings/{phrasing_id}/remove").status_code == 400  # no CSRF token
    response = editor.post(f"/search/phrasings/{phrasing_id}/remove", data={"csrf_token": token})
    assert response.status_code == 303
    page = editor.get("/search/phrasings").get_data(as_text=True)
    assert "Removed" in page and 'aria-label="Remove someone quit"' not in page
    assert active(app) == {}
    assert wait_for_first_hit(app, PHRASE, KEY, present=False)  # gone from the index
    search_and_open(someone(app))  # the same old evidence, and more of it
    assert learn(app) == [] and active(app) == {}
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "phrasing_removed")).one()
        assert event.actor_id == user.id and PHRASE in (event.detail or "")
    assert editor.post("/search/phrasings/99999/remove", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("role", ["po", "local_it", "compact_office", "state_admin"])
def test_only_national_administrators_see_or_remove_phrasings(app: Flask, role: str) -> None:
    for _ in range(3):
        search_and_open(someone(app))
    learn(app)
    with app.app_context():
        phrasing_id = db.session.scalars(select(LearnedPhrasing.id)).one()
    anonymous = app.test_client()
    assert anonymous.get("/search/phrasings").status_code in (302, 303)
    client = app.test_client()
    factories.sign_in(client, factories.make_user(app, role=role))
    assert client.get("/search/phrasings").status_code == 403
    assert 'href="/search/phrasings"' not in client.get("/").get_data(as_text=True)
    token = read_csrf_token(client, "/")
    assert client.post(f"/search/phrasings/{phrasing_id}/remove", data={"csrf_token": token}).status_code == 403
    assert active(app) == {KEY: (PHRASE,)}


def test_the_search_log_names_people_only_by_a_hash(app: Flask) -> None:
    client = someone(app)
    search_and_open(client)
    assert client.get_cookie("hd_voter") is None  # searching issues no id a script could throw away
    address = client.environ_base["REMOTE_ADDR"]
    with app.app_context():
        person = db.session.scalars(select(SearchQuery.person)).one()
    assert person == person_of(f"a:{address}") and address not in (person or "")


def test_one_address_without_cookies_teaches_nothing(app: Flask) -> None:
    for _ in range(5):  # a script dropping its cookies each time is still one machine
        search_and_open(app.test_client())
    assert learn(app) == [] and active(app) == {}


def test_reading_the_phrasings_never_waits_for_a_request_transaction(app: Flask) -> None:
    for _ in range(3):
        search_and_open(someone(app))
    learn(app)
    load = phrasing_loader(app.extensions["helpdesk.db"][0])
    with app.app_context():
        db.session.add(SearchQuery(query="held", hits=0, source="page"))
        db.session.flush()  # a request's transaction holding the write lock, as a signed-in request does
        started = time.monotonic()
        assert load() == {KEY: (PHRASE,)}
        assert time.monotonic() - started < 5  # SQLite's busy timeout is 30 s: a read that waited would show
        db.session.rollback()


def test_the_list_says_so_when_nothing_was_learned(app: Flask) -> None:
    editor, _ = _national(app)
    page = editor.get("/search/phrasings").get_data(as_text=True)
    assert "Nothing learned yet" in page and "once 3 different people" in page
